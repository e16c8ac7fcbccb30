#!/usr/bin/env bash
# Installs every Debian package medtwin needs (idempotent; run as root on Debian 12), then
# configures and builds into ./build. Usage: scripts/setup.sh [Release|Debug|Sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_TYPE="${1:-Release}"
BUILD_DIR="${MEDTWIN_BUILD_DIR:-build}"
[ "$BUILD_TYPE" = "Release" ] || BUILD_DIR="${BUILD_DIR}-$(echo "$BUILD_TYPE" | tr 'A-Z' 'a-z')"

PACKAGES=(
  build-essential cmake pkg-config git python3
  libeigen3-dev libsundials-dev libcli11-dev nlohmann-json3-dev
  libboost-dev libsqlite3-dev libpq-dev libmosquitto-dev       # server: HTTP, stores, MQTT
  libssl-dev                                                    # security: tokens, audit, TLS
  postgresql mosquitto curl openssl                             # real peers the tests start; curl, openssl for TLS tests and bench
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format clang-tidy clang                 # clang: libFuzzer (scripts/fuzz.sh)
  r-base-core r-cran-desolve r-cran-nlme   # peer tools for checks and benchmarks
  python3-cryptography                     # independent Ed25519 check of signed audit tree heads
  python3-hl7                              # an outside HL7 v2 MLLP client for the HL7 tests
  chromium                                 # the dashboard's browser tests (web/tests)
)

# Node.js and npm for the dashboard (uPlot from npm): Debian's, unless a Node.js with its own
# npm is already installed (its nodejs package conflicts with Debian's npm).
command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The dashboard's front-end packages (uPlot; playwright-core for its browser tests), pinned by
# web/package-lock.json.
if [ ! -d web/node_modules/uplot ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi

# Outside HL7 v2 and FHIR tools the end-to-end tests drive the server with (tests/interop),
# pinned by its package-lock.json.
if [ ! -d tests/interop/node_modules/node-hl7-client ] ||
   [ tests/interop/package-lock.json -nt tests/interop/node_modules/.package-lock.json ]; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "setup: built $BUILD_TYPE into $BUILD_DIR"
