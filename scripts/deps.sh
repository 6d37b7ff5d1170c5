#!/usr/bin/env bash
# Installs what `make run` needs at run time: ffmpeg (and ffprobe).
# On Debian/Ubuntu it uses apt-get; elsewhere it says how.
set -euo pipefail
if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then
  exit 0
fi
if command -v apt-get >/dev/null; then
  echo "prodcast needs ffmpeg; installing it with apt-get" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q ffmpeg
  exit 0
fi
cat >&2 <<'MSG'
prodcast needs ffmpeg and ffprobe on PATH, and this is not a Debian/Ubuntu system.
Install ffmpeg, then run `make run` again:
  macOS:   brew install ffmpeg
  Fedora:  sudo dnf install ffmpeg
  Arch:    sudo pacman -S ffmpeg
  other:   https://ffmpeg.org/download.html
MSG
exit 1
