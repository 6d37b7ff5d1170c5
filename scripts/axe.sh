#!/usr/bin/env bash
# Prints the path of axe-core's axe.min.js, the accessibility checker the
# browser tests run in Chromium, installing it with npm into a cache the
# first time. It is MPL-2.0 and only loaded into the test browser.
set -euo pipefail
AXE_VERSION=4.14.1
cache="${PRODCAST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prodcast}/axe-core-$AXE_VERSION"
js="$cache/node_modules/axe-core/axe.min.js"
if [ ! -f "$js" ]; then
  command -v npm >/dev/null || { echo "axe: npm is missing (Debian: apt-get install nodejs npm)" >&2; exit 1; }
  echo "installing axe-core $AXE_VERSION into $cache (first time only)" >&2
  mkdir -p "$cache"
  npm install --silent --no-audit --no-fund --prefix "$cache" "axe-core@$AXE_VERSION" >&2
fi
echo "$js"
