#!/usr/bin/env bash
# Times medtwin and its R peers on the same work in one run and prints Markdown tables with the
# ratios (copied into docs/benchmarks.md):
#   1. simulation: closed form, DOPRI5, CVODE vs deSolve lsoda (bench/desolve_peer.R);
#   2. MAP fit (vancomycin_goti2018) vs R optim + deSolve (bench/map_peer.R);
#   3. Theophylline population fit: medtwin popfit (FOCE-I) vs R nlme (bench/popfit_peer.R).
# Usage: bench/peer_comparison.sh [BUILD_DIR] [DESOLVE_SUBJECTS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
N_R="${2:-100}"
json=$(mktemp)
"$BUILD"/medtwin_bench --benchmark_format=json --benchmark_min_time=2 >"$json" 2>/dev/null
r_sim_ms=$(Rscript bench/desolve_peer.R "$N_R" | awk '/desolve_lsoda_ms_per_subject/ {print $2}')
r_map=$(Rscript bench/map_peer.R 2>/dev/null)
r_map_ms=$(echo "$r_map" | awk '/r_optim_ms_per_fit/ {print $2}')
r_map_ofv=$(echo "$r_map" | awk '/r_optim_ofv/ {print $2}')
python3 - "$json" "$r_sim_ms" "$N_R" "$r_map_ms" "$r_map_ofv" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
r_us = float(sys.argv[2]) * 1000
print(f"Machine: {data['context'].get('num_cpus')} CPUs @ {data['context'].get('mhz_per_cpu')} MHz")
print()
print(f"Simulation (R deSolve lsoda: {r_us/1000:.2f} ms/subject over {sys.argv[3]} subjects)")
print()
print("| path | µs per subject | 1,000 subjects | deSolve / medtwin |")
print("|---|---:|---:|---:|")
print(f"| R deSolve lsoda (peer) | {r_us:,.0f} | {r_us:,.0f} ms | 1 |")
for b in data["benchmarks"]:
    if "Simulate" not in b["name"]:
        continue
    us = b["us/subject"] * 1e6 if b["us/subject"] < 1 else b["us/subject"]
    name = b["name"].split("_")[-1]
    print(f"| medtwin {name} | {us:,.1f} | {b['real_time']:,.1f} ms | {r_us/us:,.0f}× |")
print()
r_map_us = float(sys.argv[4]) * 1000
print("MAP fit, vancomycin_goti2018, 2 doses, 2 levels")
print()
print("| path | µs per fit | OFV at optimum | R / medtwin |")
print("|---|---:|---:|---:|")
print(f"| R optim BFGS + deSolve (peer) | {r_map_us:,.0f} | {float(sys.argv[5]):.5f} | 1 |")
for b in data["benchmarks"]:
    if "MapFit" in b["name"]:
        print(f"| medtwin MapEstimator | {b['real_time']:,.0f} | {b['ofv']:.5f} | {r_map_us/b['real_time']:,.0f}× |")
PY
THEOPH="${THEOPH_CSV:-../shared/data/theophylline/theophylline.csv}"
if [ -f "$THEOPH" ]; then
  python3 - "$BUILD/medtwin" "$THEOPH" "$(Rscript bench/popfit_peer.R "$THEOPH")" <<'PY'
import json, statistics, subprocess, sys, tempfile, time
medtwin, data, r_out = sys.argv[1], sys.argv[2], sys.argv[3]
r = dict(line.split() for line in r_out.strip().splitlines())
out = tempfile.mktemp(suffix=".json")
times = []
for _ in range(3):
    t0 = time.perf_counter()
    subprocess.run([medtwin, "popfit", "--model", "pk_1cmt_oral", "--data", data, "--iiv", "KA,CL,V",
                    "--ignore-column", "WT", "--ignore-column", "DOSE_MG_KG", "--out", out],
                   check=True, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - t0)
fit = json.load(open(out))["typical"]
m = statistics.median(times)
nl = float(r["nlme_seconds"])
print()
print("Theophylline population fit (1-cmt oral, IIV on KA, CL, V, additive error)")
print()
print("| path | seconds | KA | CL | V | nlme / medtwin |")
print("|---|---:|---:|---:|---:|---:|")
print(f"| R nlme (peer) | {nl:.3f} | {float(r['nlme_KA']):.4f} | {float(r['nlme_CL']):.4f} | {float(r['nlme_V']):.3f} | 1 |")
print(f"| medtwin popfit FOCE-I | {m:.3f} | {fit['KA']:.4f} | {fit['CL']:.4f} | {fit['V']:.3f} | {nl/m:.3f}× |")
PY
fi
rm -f "$json"
