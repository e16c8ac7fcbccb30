#!/usr/bin/env bash
# Sets up, builds and runs every test (unit, property, CLI, end-to-end against the binary with
# real PostgreSQL and Mosquitto, the R deSolve/nlme peer checks) and a short libFuzzer run.
# MEDTWIN_SANITIZE=1 also builds and runs the suite under ASan/UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
# The module graph: every include matches a CMake dependency (the build enforces visibility;
# this checks direct links, PUBLIC for headers, no unused links, no cycles).
python3 scripts/check_includes.py
scripts/setup.sh Release
ctest --test-dir build --output-on-failure -j"$(nproc)"
# The dashboard in a real browser (playwright-core + Debian chromium) against `medtwin serve
# --demo`; screenshots in web/test-artifacts/.
(cd web && MEDTWIN_BINARY="$PWD/../build/medtwin" npm test)
# libFuzzer on the parsers (token, observation, event, FHIR, NDJSON): a few seconds each here;
# scripts/fuzz.sh 3600 for a long run.
scripts/fuzz.sh 5
if [ "${MEDTWIN_SANITIZE:-0}" = "1" ]; then
  scripts/setup.sh Sanitize
  ctest --test-dir build-sanitize --output-on-failure -j"$(nproc)"
fi
