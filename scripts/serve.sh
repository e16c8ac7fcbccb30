#!/usr/bin/env bash
# The main job: installs what is needed, builds, and runs the twin server with an embedded
# SQLite store (medtwin-data/medtwin.db) and the built-in demo of virtual patients (a ward with
# three deteriorating patients, two type-1 diabetes patients with CGM). Open
# http://127.0.0.1:8080/ — API under /api/v1, live events at /api/v1/stream. Ctrl-C stops it.
# Extra arguments go to `medtwin serve` (e.g. --listen 0.0.0.0:8080 --speed 120).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh Release
mkdir -p medtwin-data
exec ./build/medtwin serve --demo --store sqlite:medtwin-data/medtwin.db \
  --listen 127.0.0.1:8080 "$@"
