#!/usr/bin/env bash
# Prints the path of the MinIO server used by the tests, building it with
# `go install` into a cache the first time (about 2.5 minutes). MinIO is
# AGPL: it runs as a separate process and is never imported.
set -euo pipefail
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
cache="${PRODCAST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prodcast}/minio-$MINIO_VERSION"
if [ ! -x "$cache/minio" ]; then
  echo "building MinIO $MINIO_VERSION into $cache (first time only, ~2.5 min)" >&2
  mkdir -p "$cache"
  GOBIN="$cache" go install "github.com/minio/minio@$MINIO_VERSION" >&2
fi
echo "$cache/minio"
