#!/usr/bin/env bash
# Ingest over the hospital's interfaces against the REST NDJSON path, in one run on one server
# (issue 16): FHIR transaction Bundles of 100 vital-sign Observations (POST /fhir/r4), HL7 v2
# ORU^R01 over MLLP (original mode: each connection waits for its ACK, as monitor gateways do)
# with 10 OBX per message (one vital set) and with 100, and bulk NDJSON in batches of 100 and of
# 10 (the same observations per request). Everything durable (SQLite, synchronous=FULL) before
# its reply or ACK. Prints a Markdown table for docs/benchmarks.md.
# Usage: bench/interop_load.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
SECONDS_EACH="${2:-10}"
CONNECTIONS="${3:-2}"
work=$(mktemp -d /tmp/medtwin_interop.XXXX)
server_pid=""
cleanup() {  # stop what this script started, by its pid
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$BUILD"/medtwin token keygen --out "$work/key" 2>/dev/null
"$BUILD"/medtwin audit keygen --out "$work/audit-key" >/dev/null 2>&1
MEDTWIN_TOKEN=$("$BUILD"/medtwin token issue --key "$work/key" --role admin --subject loadgen --ttl 2h)
export MEDTWIN_TOKEN
echo '{"senders": [{"facility": "LOAD", "all_patients": true, "addresses": ["127.0.0.1"]}]}' \
  >"$work/senders.json"

port=18093
hl7_port=18094
"$BUILD"/medtwin serve --listen "127.0.0.1:$port" --store "sqlite:$work/twin.db" \
  --auth-key "$work/key" --audit-key "$work/audit-key" --rate-limit 100000 \
  --http-threads "$CONNECTIONS" --hl7 "127.0.0.1:$hl7_port" --hl7-senders "$work/senders.json" \
  >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
value() { awk -v k="$1" '$1 == k {print $2}'; }
run() { "$BUILD"/medtwin_loadgen "$@"; }

# Every path sends each request's readings for one patient (a Bundle, an ORU, a monitor's batch).
ndjson100=$(run ingest "$port" 100 "$SECONDS_EACH" "$CONNECTIONS" 100 one | value ingest_obs_per_s)
ndjson10=$(run ingest "$port" 100 "$SECONDS_EACH" "$CONNECTIONS" 10 one | value ingest_obs_per_s)
fhir=$(run fhir "$port" 100 "$SECONDS_EACH" "$CONNECTIONS" 100)
hl7_10=$(run hl7 "$hl7_port" 100 "$SECONDS_EACH" "$CONNECTIONS" 10)
hl7_100=$(run hl7 "$hl7_port" 100 "$SECONDS_EACH" "$CONNECTIONS" 100)
refused=$(( $(echo "$hl7_10" | value hl7_refused) + $(echo "$hl7_100" | value hl7_refused) ))

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
fmt() { printf "%'.0f" "$1"; }
f_obs=$(echo "$fhir" | value fhir_obs_per_s)
h10=$(echo "$hl7_10" | value hl7_obs_per_s)
h100=$(echo "$hl7_100" | value hl7_obs_per_s)
echo "Ingest by interface, one server (SQLite sync=full), $CONNECTIONS connections, ${SECONDS_EACH} s each, $(nproc) cores"
echo
echo "| path | observations/s | requests or messages/s | / NDJSON, same observations per request |"
echo "|---|---:|---:|---:|"
echo "| REST NDJSON, 100 per request (the reference) | $(fmt "$ndjson100") | $(fmt "$(python3 -c "print($ndjson100/100)")") | 1.00 |"
echo "| FHIR transaction Bundle of 100 Observations | $(fmt "$f_obs") | $(fmt "$(echo "$fhir" | value fhir_bundles_per_s)") | $(ratio "$f_obs" "$ndjson100") |"
echo "| HL7 v2 ORU^R01 of 100 OBX over MLLP | $(fmt "$h100") | $(fmt "$(echo "$hl7_100" | value hl7_msgs_per_s)") | $(ratio "$h100" "$ndjson100") |"
echo "| REST NDJSON, 10 per request (the reference) | $(fmt "$ndjson10") | $(fmt "$(python3 -c "print($ndjson10/10)")") | 1.00 |"
echo "| HL7 v2 ORU^R01 of 10 OBX (one vital set) over MLLP | $(fmt "$h10") | $(fmt "$(echo "$hl7_10" | value hl7_msgs_per_s)") | $(ratio "$h10" "$ndjson10") |"
echo
echo "HL7 messages not acknowledged AA: $refused"
