#!/usr/bin/env bash
# Latency of /healthz and of a neighbour's twin while drug refits run (issue 14, finding 14):
# `medtwin serve --demo` (2 HTTP threads, as by default) just after start, when vanco-01's and
# warf-01's twins are refitting; two clients read those twins in a loop while a third times
# /healthz and ward-01's twin. Before the fix a twin read waited for its refit on the I/O thread
# and /healthz took 3.2 s; now reads answer at once with "refitting": true.
# Usage: bench/refit_latency.sh [BUILD_DIR]  (prints a table; loopback only, stops what it starts)
set -euo pipefail
BUILD="${1:-build}"
work=$(mktemp -d)
"$BUILD"/medtwin serve --demo --listen 127.0.0.1:0 --store "sqlite:$work/d.db" >"$work/out" 2>"$work/err" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/out" | head -1)
for _ in $(seq 1 100); do grep -q "clinician" "$work/out" && break; sleep 0.05; done
token=$(awk '/clinician/ {print $2; exit}' "$work/out")
base="http://127.0.0.1:$port"
read_loop() {  # read_loop PATIENT SECONDS
  local end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do
    curl -s -o /dev/null -H "Authorization: Bearer $token" "$base/api/v1/patients/$1/twin" || true
  done
}
read_loop vanco-01 6 & r1=$!
read_loop warf-01 6 & r2=$!
times_health=() times_twin=() refitting=0
for _ in $(seq 1 40); do
  times_health+=("$(curl -s -o /dev/null -w '%{time_total}' "$base/healthz")")
  times_twin+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" \
    "$base/api/v1/patients/ward-01/twin")")
  if curl -s -H "Authorization: Bearer $token" "$base/api/v1/patients/warf-01/twin" |
    grep -q '"refitting":true'; then refitting=$((refitting + 1)); fi
  sleep 0.1
done
wait "$r1" "$r2"
stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "median %.1f ms, p95 %.1f ms, max %.1f ms", 1000*a[int((NR+1)/2)], 1000*a[int(NR*0.95)], 1000*a[NR]}'; }
echo "| what (during drug refits, 2 HTTP threads) | latency |"
echo "|---|---|"
echo "| GET /healthz | $(stats "${times_health[@]}") |"
echo "| GET ward-01's twin (a neighbour) | $(stats "${times_twin[@]}") |"
echo "| warf-01 answered with refitting: true | $refitting of 40 looks |"
