#!/usr/bin/env bash
# The twin server under load on loopback (issue #6), in one run: a plain SQLite insert of the
# same rows (the limit), durable bulk-NDJSON ingest through `medtwin serve` (SQLite, sync=full
# and sync=normal; PostgreSQL), observation-to-alert latency on the live stream at 50,000
# observations/s of background load with 1,000 and 10,000 twins, and memory per idle twin.
# Prints Markdown tables for docs/benchmarks.md.
# Usage: bench/server_load.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
SECONDS_EACH="${2:-10}"
work=$(mktemp -d /tmp/medtwin_load.XXXX)
chmod 755 "$work"
# Processes this script started are stopped by their pid (other servers may run here too).
server_pid=""
broker=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$broker" ] && kill "$broker" 2>/dev/null || true
  scripts/pg_test_server.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Every request carries an admin token (the cost of checking it is part of what is measured).
"$BUILD"/medtwin token keygen --out "$work/key" 2>/dev/null
"$BUILD"/medtwin audit keygen --out "$work/audit-key" >/dev/null 2>&1
MEDTWIN_TOKEN=$("$BUILD"/medtwin token issue --key "$work/key" --role admin --subject loadgen --ttl 2h)
export MEDTWIN_TOKEN

serve() {  # serve PORT STORE [ARGS...]: starts the server, waits until it listens
  local port=$1 store=$2
  shift 2
  "$BUILD"/medtwin serve --listen "127.0.0.1:$port" --store "$store" --auth-key "$work/key" \
    --audit-key "$work/audit-key" \
    --rate-limit 100000 "$@" >"$work/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not start" >&2
  return 1
}
stop() {  # stop PORT: the server serve started (by its pid), waited for
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
value() { awk -v k="$1" '$1 == k {print $2}'; }

limit=$("$BUILD"/medtwin_loadgen sqlite "$work/limit.db" 1500000 5000 | value sqlite_rows_per_s)

ingest() {  # ingest LABEL STORE CONNECTIONS
  serve 18091 "$2" --http-threads "$3"
  local r
  r=$("$BUILD"/medtwin_loadgen ingest 18091 1000 "$SECONDS_EACH" "$3" 5000 | value ingest_obs_per_s)
  stop 18091
  echo "| $1 | $(printf "%'.0f" "$r") | $(python3 -c "print(f'{$r / $limit:.2f}')") |"
}

echo "Durable bulk ingest (NDJSON batches of 5,000 over loopback, 1,000 patients, ${SECONDS_EACH} s)"
echo
echo "| path | observations/s | / plain SQLite |"
echo "|---|---:|---:|"
echo "| plain SQLite insert of the same rows, same schema, WAL, synchronous=FULL (the limit) | $(printf "%'.0f" "$limit") | 1.00 |"
rm -f "$work"/a.db*
ingest "medtwin serve, SQLite sync=full, 3 connections" "sqlite:$work/a.db" 3
rm -f "$work"/b.db*
ingest "medtwin serve, SQLite sync=normal (crash-safe, not power-safe), 3 connections" "sqlite:$work/b.db?sync=normal" 3
conninfo=$(scripts/pg_test_server.sh start "$work/pg" 25432)
pg_url="postgresql://medtwin@/medtwin_test?host=$work/pg&port=25432"
ingest "medtwin serve, PostgreSQL 15 (local socket), 3 connections" "$pg_url" 3

echo
echo "Cost of security on the ingest path (SQLite sync=full, 3 connections, same run):"
echo
echo "| configuration | observations/s | / security off |"
echo "|---|---:|---:|"
rm -f "$work"/off.db*
serve 18096 "sqlite:$work/off.db" --http-threads 3 --unsafe-no-security
off=$("$BUILD"/medtwin_loadgen ingest 18096 1000 "$SECONDS_EACH" 3 5000 | value ingest_obs_per_s)
stop 18096
"$BUILD"/medtwin keys new --ring "$work/data.keys" 2>/dev/null
rm -f "$work"/on.db*
serve 18096 "sqlite:$work/on.db" --http-threads 3 --data-key "$work/data.keys"
on=$("$BUILD"/medtwin_loadgen ingest 18096 1000 "$SECONDS_EACH" 3 5000 | value ingest_obs_per_s)
stop 18096
echo "| security off (--unsafe-no-security: no token check, no audit) | $off | 1.00 |"
echo "| tokens + per-line authorization + audit ledger + identifiers encrypted at rest | $on | $(python3 -c "print(f'{$on / $off:.2f}')") |"

echo
echo "Durable ingest over MQTT (a real Mosquitto on loopback; QoS 1; 1,000 patients; a message is"
echo "counted when the server's ack, sent after the commit, arrives)"
echo
echo "| messages | observations/s | messages/s | / plain SQLite |"
echo "|---|---:|---:|---:|"
printf "listener 18831 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 100000\n" >"$work/mosquitto.conf"
/usr/sbin/mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
broker=$!
sleep 0.5
for spec in "10 5000" "100 500"; do
  set -- $spec
  rm -f "$work"/q.db*
  serve 18094 "sqlite:$work/q.db" --mqtt mqtt://127.0.0.1:18831 --allow-anonymous-mqtt
  out=$("$BUILD"/medtwin_loadgen mqtt 18094 18831 1000 "$SECONDS_EACH" "$1" "$2")
  stop 18094
  r=$(echo "$out" | value mqtt_obs_per_s)
  echo "| $1 observations each, up to $2 unacknowledged | $(printf "%'.0f" "$r") | $(printf "%'.0f" "$(echo "$out" | value mqtt_msgs_per_s)") | $(python3 -c "print(f'{$r / $limit:.2f}')") |"
done
kill "$broker" 2>/dev/null || true

echo
echo "Observation → alert on the live stream (probe SpO2 alternating 84/97 % every 50 ms on one"
echo "patient while background load runs at 50,000 observations/s)"
echo
echo "(the alert lane: the twin takes the reading while the store commits it; the probe's own"
echo "reply waits for the commit, shown beside it)"
echo
echo "| twins | alert p50 ms | alert p99 ms | reply p50 ms | reply p99 ms | probes |"
echo "|---:|---:|---:|---:|---:|---:|"
for twins in 1000 10000; do
  rm -f "$work"/l.db*
  serve 18092 "sqlite:$work/l.db"
  out=$("$BUILD"/medtwin_loadgen latency 18092 "$twins" "$SECONDS_EACH" 50000)
  stop 18092
  echo "| $(printf "%'d" $twins) | $(echo "$out" | value latency_p50_ms) | $(echo "$out" | value latency_p99_ms) | $(echo "$out" | value latency_reply_p50_ms) | $(echo "$out" | value latency_reply_p99_ms) | $(echo "$out" | value latency_samples) |"
done

# Memory per idle twin: resident memory before and after creating 10,000 patients.
rm -f "$work"/m.db*
serve 18093 "sqlite:$work/m.db"
before=$(curl -s 127.0.0.1:18093/metrics | value process_resident_memory_bytes)
python3 - <<'PY'
import http.client, os
c = http.client.HTTPConnection("127.0.0.1", 18093)
for i in range(10000):
    c.request("POST", "/api/v1/patients", body='{"id":"idle-%d","weight_kg":70}' % i,
              headers={"Content-Type": "application/json",
                       "Authorization": "Bearer " + os.environ["MEDTWIN_TOKEN"]})
    c.getresponse().read()
PY
after=$(curl -s 127.0.0.1:18093/metrics | value process_resident_memory_bytes)
stop 18093
echo
echo "Memory per idle twin (10,000 patients created, resident memory difference):" \
  "$(python3 -c "print(f'{($after - $before) / 10000 / 1024:.1f} KB')")"
