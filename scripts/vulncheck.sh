#!/usr/bin/env bash
# Checks the code against the Go vulnerability database with govulncheck.
# The database is vuln.go.dev when it answers; else it is built from
# golang.org/x/vulndb, which the Go module proxy serves (cached under
# ~/.cache/prodcast). When neither can be reached, it says so plainly and
# the tests go on: the check is only as fresh as its database.
# Exit status: 1 when the code calls a known vulnerability.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${XDG_CACHE_HOME:-$HOME/.cache}/prodcast"
govuln_version=v1.9.0
vulndb_version=v0.0.0-20261105234957-e22db6528018   # the newest the proxy served here
bin="$cache/govulncheck-$govuln_version-$(go env GOVERSION)"
mkdir -p "$cache"

if [ ! -x "$bin/govulncheck" ]; then
  if ! GOBIN="$bin" GOFLAGS=-mod=mod go install "golang.org/x/vuln/cmd/govulncheck@$govuln_version" 2>"$cache/govulncheck-install.log"; then
    echo "vulncheck: NOT RUN: cannot install govulncheck from the Go module proxy ($(tail -1 "$cache/govulncheck-install.log"))" >&2
    exit 0
  fi
fi

db=""
if curl -fsS --max-time 10 -o /dev/null https://vuln.go.dev/index/db.json 2>/dev/null; then
  db="https://vuln.go.dev"
  echo "vulncheck: database vuln.go.dev"
else
  local_db="$cache/vulndb-$vulndb_version"
  if [ ! -f "$local_db/index/modules.json" ]; then
    src=$(GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$vulndb_version" 2>/dev/null |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("Dir",""))' 2>/dev/null || true)
    if [ -n "$src" ] && [ -d "$src/data/osv" ] &&
       GOFLAGS=-mod=mod go run "golang.org/x/vulndb/cmd/indexdb@$vulndb_version" -vulns "$src/data/osv" -out "$local_db.tmp" 2>"$cache/vulndb-build.log"; then
      rm -rf "$local_db" && mv "$local_db.tmp" "$local_db"
    else
      rm -rf "$local_db.tmp"
      echo "vulncheck: NOT RUN: vuln.go.dev does not answer and golang.org/x/vulndb cannot be fetched from the Go module proxy" >&2
      exit 0
    fi
  fi
  db="file://$local_db"
  echo "vulncheck: vuln.go.dev does not answer; database golang.org/x/vulndb@$vulndb_version from the module proxy"
fi
"$bin/govulncheck" -db "$db" ./...
