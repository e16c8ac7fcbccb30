#!/usr/bin/env bash
# Times medtwin and its R peers on the same work in one run and prints Markdown tables with the
# ratios (copied into docs/benchmarks.md):
#   1. simulation: closed form, DOPRI5, CVODE vs deSolve lsoda (bench/desolve_peer.R);
#   2. MAP fit (vancomycin_goti2018) vs R optim + deSolve (bench/map_peer.R);
#   3. Theophylline population fit: medtwin popfit (FOCE-I) vs R nlme (bench/popfit_peer.R);
#   4. UVA/Padova open-loop day: medtwin vs R deSolve the reference's way (per-minute ode45,
#      bench/uva_padova_peer.R), same trajectories checked; closed-loop MPC per patient-day.
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

# 4. Glucose twin. The R peer is slow (~1.5 s per patient-day): three patients, one per cohort.
GLUCOSE_PATIENTS="adolescent#001 adult#001 child#001"
work=$(mktemp -d)
r_glucose=$(Rscript bench/uva_padova_peer.R data/uva_padova "$work/peer.csv" $GLUCOSE_PATIENTS)
python3 - "$BUILD/medtwin" "$json" "$work" "$r_glucose" $GLUCOSE_PATIENTS <<'PY'
import csv, json, subprocess, sys
medtwin, bench_json, work, r_out = sys.argv[1:5]
patients = sys.argv[5:]
r_s = float(r_out.split()[1])
peer = {}
for row in csv.DictReader(open(f"{work}/peer.csv")):
    peer[(row["patient"], int(row["t_min"]))] = float(row["bg"])
quest = {r["Name"]: r for r in csv.DictReader(open("data/uva_padova/Quest.csv"))}
params = {r["Name"]: r for r in csv.DictReader(open("data/uva_padova/vpatient_params.csv"))}
worst = 0.0
for name in patients:
    cr = float(quest[name]["CR"])
    basal = float(params[name]["u2ss"]) * float(params[name]["BW"]) / 6000
    rows = ["ID,TIME,EVID,AMT,CMT,RATE", f"1,0,1,{basal * 1440!r},11,{basal!r}"]
    for t in range(1440):
        for (mt, g) in ((420, 45), (720, 70), (1080, 80)):
            if t == mt:
                rows += [f"1,{t},1,{g},1,5", f"1,{t},1,{g / cr!r},11,{g / cr!r}"]
        rows.append(f"1,{t},0,.,.,.")
    open(f"{work}/rec.csv", "w").write("\n".join(rows) + "\n")
    subprocess.run([medtwin, "simulate", "--model", "uva_padova", "--patient", name, "--data",
                    f"{work}/rec.csv", "--out", f"{work}/out.csv", "--rtol", "1e-6", "--atol",
                    "1e-8"], check=True)
    out = [r for r in csv.DictReader(open(f"{work}/out.csv")) if r["EVID"] == "0"]
    for r in out:
        worst = max(worst, abs(float(r["BG"]) - peer[(name, int(float(r["TIME"])))]))
data = json.load(open(bench_json))
open_us = next(b["us/patient-day"] for b in data["benchmarks"] if "OpenLoop" in b["name"])
open_us = open_us * 1e6 if open_us < 1 else open_us
closed = [b for b in data["benchmarks"] if "ClosedLoopMpc" in b["name"]]
print()
print("UVA/Padova, one day: basal + 3 meals with boluses, BG every minute")
print()
print("| path | per patient-day | R / medtwin |")
print("|---|---:|---:|")
print(f"| R deSolve ode45 per minute, the reference's method (peer; {len(patients)} patients) | {r_s * 1000:,.0f} ms | 1 |")
print(f"| medtwin open loop (30 patients, DOPRI5 rtol 1e-6, one core) | {open_us:,.0f} µs | {r_s * 1e6 / open_us:,.0f}× |")
if closed:
    ms = closed[0]["ms/patient-day"]
    print(f"| medtwin closed loop MPC + twin UKF + alerts (30 × 14 days, one core) | {ms:,.1f} ms | {r_s * 1e3 / ms:,.0f}× |")
print()
print(f"Largest |BG medtwin − BG R peer| over {len(patients)} patients × 1,440 minutes: {worst:.2e} mg/dL")
PY
rm -rf "$work"
rm -f "$json"
