#!/usr/bin/env bash
# Sets up, builds and runs every test (unit, property, CLI and the R deSolve peer checks).
# MEDTWIN_SANITIZE=1 also builds and runs the suite under ASan/UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh Release
ctest --test-dir build --output-on-failure -j"$(nproc)"
if [ "${MEDTWIN_SANITIZE:-0}" = "1" ]; then
  scripts/setup.sh Sanitize
  ctest --test-dir build-sanitize --output-on-failure -j"$(nproc)"
fi
