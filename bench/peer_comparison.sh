#!/usr/bin/env bash
# Times medtwin (closed form, DOPRI5, CVODE) and R deSolve on the same workload in one run and
# prints a Markdown table with the per-subject ratios (see docs/benchmarks.md).
# Usage: bench/peer_comparison.sh [BUILD_DIR] [DESOLVE_SUBJECTS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
N_R="${2:-100}"
json=$(mktemp)
"$BUILD"/medtwin_bench --benchmark_format=json --benchmark_min_time=2 >"$json" 2>/dev/null
r_ms=$(Rscript bench/desolve_peer.R "$N_R" | awk '/desolve_lsoda_ms_per_subject/ {print $2}')
python3 - "$json" "$r_ms" "$N_R" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
r_us = float(sys.argv[2]) * 1000
print(f"Machine: {data['context'].get('num_cpus')} CPUs @ {data['context'].get('mhz_per_cpu')} MHz; "
      f"R deSolve lsoda: {r_us/1000:.2f} ms/subject over {sys.argv[3]} subjects")
print()
print("| path | µs per subject | 1,000 subjects | deSolve / medtwin |")
print("|---|---:|---:|---:|")
print(f"| R deSolve lsoda (peer) | {r_us:,.0f} | {r_us:,.0f} ms | 1 |")
for b in data["benchmarks"]:
    us = b["us/subject"] * 1e6 if b["us/subject"] < 1 else b["us/subject"]
    name = b["name"].split("_")[-1]
    print(f"| medtwin {name} | {us:,.1f} | {b['real_time']:,.1f} ms | {r_us/us:,.0f}× |")
PY
rm -f "$json"
