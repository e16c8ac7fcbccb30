#!/usr/bin/env bash
# Sets up and runs the demo: three virtual patients on vancomycin 1 g every 12 h (1-h
# infusions) through a 2-compartment model, one with a dose change. Writes demo-out/out.csv and
# demo-out/cp.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh Release
mkdir -p demo-out
./build/medtwin simulate --model pk_2cmt_iv --data data/demo/vancomycin_q12h.csv \
  --out demo-out/out.csv --plot demo-out/cp.svg
echo "demo: wrote demo-out/out.csv ($(($(wc -l < demo-out/out.csv) - 1)) rows) and demo-out/cp.svg"
