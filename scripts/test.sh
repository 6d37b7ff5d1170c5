#!/usr/bin/env bash
# Runs every test against real services: it starts redis-server and MinIO on
# free loopback ports of their own, exports where they are, runs `go test`,
# and stops them. A missing tool is an error, never a silent skip.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Go that go.mod's toolchain line names, from the module proxy.
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"

need() {
  command -v "$1" >/dev/null || { echo "test: $1 is missing: $2" >&2; exit 1; }
}
need ffmpeg "install it (Debian: apt-get install ffmpeg)"
need ffprobe "install ffmpeg (Debian: apt-get install ffmpeg)"
need redis-server "install it (Debian: apt-get install redis-server)"
need docker-compose "install it to check docker-compose.yml (Debian: apt-get install docker-compose)"
need chromium "install it for the page test (Debian: apt-get install chromium)"
/usr/bin/python3 -c 'import podcastparser, feedparser' 2>/dev/null || {
  echo "test: python3-podcastparser and python3-feedparser are missing (Debian: apt-get install python3-podcastparser python3-feedparser)" >&2; exit 1; }

echo "== gofmt, go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
[ -z "$unformatted" ] || { echo "gofmt would change: $unformatted" >&2; exit 1; }
go vet ./...

if [ $# -eq 0 ]; then # the whole run, not a chosen test
  echo "== govulncheck"
  scripts/vulncheck.sh
fi

echo "== docker-compose config"
docker-compose -f docker-compose.yml config -q

minio=$(scripts/minio.sh)
# axe-core, for the accessibility checks in Chromium.
export PRODCAST_TEST_AXE=$(scripts/axe.sh)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

freeport() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port=$(freeport)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --databases 64 \
  --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)

minio_port=$(freeport)
minio_console=$(freeport)
export MINIO_ROOT_USER=prodcasttest MINIO_ROOT_PASSWORD=prodcasttestsecret
"$minio" server --quiet --address "127.0.0.1:$minio_port" --console-address "127.0.0.1:$minio_console" \
  "$work/minio" >"$work/minio.log" 2>&1 &
pids+=($!)

for i in $(seq 1 100); do
  if redis-cli -p "$redis_port" ping >/dev/null 2>&1 && \
     curl -fsS "http://127.0.0.1:$minio_port/minio/health/live" >/dev/null 2>&1; then
    break
  fi
  [ "$i" -lt 100 ] || { echo "test: redis-server or MinIO did not start:" >&2; cat "$work"/*.log >&2; exit 1; }
  sleep 0.2
done
echo "== redis-server on 127.0.0.1:$redis_port, MinIO on 127.0.0.1:$minio_port"

export PRODCAST_TEST_REDIS_ADDR="127.0.0.1:$redis_port"
export PRODCAST_TEST_MINIO="$minio"
export PRODCAST_TEST_S3_ENDPOINT="http://127.0.0.1:$minio_port"
export PRODCAST_TEST_S3_ACCESS_KEY="$MINIO_ROOT_USER"
export PRODCAST_TEST_S3_SECRET_KEY="$MINIO_ROOT_PASSWORD"
unset MINIO_ROOT_USER MINIO_ROOT_PASSWORD

echo "== go test"
go test -count=1 -timeout 30m "${@:-./...}"
