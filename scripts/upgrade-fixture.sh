#!/usr/bin/env bash
# Makes the fixture of e2e's TestUpgrade: a data folder written by a
# released prodcast (`up`, embedded Redis and S3), and what every URL
# answered then. Run it with the binary of the release to upgrade from:
#
#   git worktree add /tmp/rel <commit> && (cd /tmp/rel && go build -o /tmp/rel/prodcast ./cmd/prodcast)
#   scripts/upgrade-fixture.sh /tmp/rel/prodcast e2e/testdata/upgrade
#
# The feed's lastBuildDate is left out of its hash: it is the time of the
# last rebuild, by design.
set -euo pipefail
old=$1 out=$2
work=$(mktemp -d)
data=$work/prodcast-data
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://podcast.test
run() {
  "$old" up --data "$data" --listen "127.0.0.1:$port" --base-url "$base" --settle 1s >"$work/up.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/feed.xml" >/dev/null 2>&1 && return; sleep 0.2; done
  cat "$work/up.log" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" || true; }
items() { curl -fsS "http://127.0.0.1:$port/feed.xml" | grep -c '<item>' || true; }

run
b=$work/flask-falcon
mkdir -p "$b"
ffmpeg -v error -f lavfi -i "sine=f=220:d=4" -ac 2 "$b/interview.flac"
cat >"$b/episode.md" <<'MD'
---
title: "Flask & Falcon: patterns that scale"
guests:
  - {name: Ada Lovelace, role: SRE, url: https://example.com/ada}
season: 1
episode: 1
tags: [flask, falcon, async]
summary: Two frameworks, one production.
---
We talk about **Flask** blueprints and Falcon resources.
MD
printf '00:00:00 Welcome\n00:00:02 Blueprints\n' >"$b/chapters.txt"
printf 'WEBVTT\n\n00:00.000 --> 00:02.000\n<v Jo>Welcome to the show.\n\n00:02.000 --> 00:04.000\n<v Ada>Thanks for having me.\n' >"$b/transcript.vtt"
mv "$b" "$data/drop/"
ffmpeg -v error -f lavfi -i "sine=f=330:d=3" -ac 1 -metadata title="Async Django, no Kubernetes" "$work/lone.mp3"
mv "$work/lone.mp3" "$data/drop/"
for _ in $(seq 1 300); do [ "$(items)" = 2 ] && [ -z "$(ls -A "$data/processing" | grep -v '^\.')" ] && break; sleep 0.2; done
[ "$(items)" = 2 ] || { echo "the release did not publish both episodes" >&2; cat "$work/up.log" >&2; exit 1; }
stop
run   # a restart, as an upgrade is one
sleep 3
/usr/bin/python3 - "$data/s3/prodcast/public" "http://127.0.0.1:$port" >"$work/urls.json" <<'PY'
import hashlib, json, os, re, sys, urllib.request
root, server = sys.argv[1], sys.argv[2]
out = {}
for d, _, files in os.walk(root):
    for f in files:
        path = os.path.relpath(os.path.join(d, f), root)
        url = "/" + (path[:-len("index.html")] if path.endswith("index.html") else path)
        body = urllib.request.urlopen(server + url).read()
        if path == "feed.xml":
            body = re.sub(rb"<lastBuildDate>[^<]*</lastBuildDate>", b"", body)
        out[url] = hashlib.sha256(body).hexdigest()
json.dump(out, sys.stdout, indent=1, sort_keys=True)
PY
stop
rm -rf "$out"
mkdir -p "$out"
rm -f "$data/.prodcast/embedded.json"
cp -a "$data" "$out/prodcast-data"
cp "$work/urls.json" "$out/urls.json"
echo "base_url $base" >"$out/README"
rm -rf "$work"
echo "fixture in $out: $(wc -l <"$out/urls.json") lines of URLs"
