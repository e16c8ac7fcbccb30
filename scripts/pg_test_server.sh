#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL server for tests and benchmarks (Debian's postgresql).
#   scripts/pg_test_server.sh start DIR PORT   → prints a libpq connection string
#   scripts/pg_test_server.sh stop DIR
#   scripts/pg_test_server.sh pause DIR         (stop the server, keep its data: an outage)
#   scripts/pg_test_server.sh resume DIR PORT   (start it again on the same data)
# The server listens on a Unix socket in DIR only (no TCP), trusts local connections, and runs
# as the postgres user when started by root (initdb refuses root).
set -euo pipefail
cmd="$1"
dir="$2"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
case "$cmd" in
  start)
    port="$3"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -A trust -U medtwin --no-sync >"$dir/initdb.log" 2>&1
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-k $dir -p $port -c listen_addresses='' -c fsync=on" start >/dev/null
    "${as_pg[@]}" "$bin/createdb" -h "$dir" -p "$port" -U medtwin medtwin_test
    echo "host=$dir port=$port user=medtwin dbname=medtwin_test"
    ;;
  pause)
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    port="$3"
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-k $dir -p $port -c listen_addresses='' -c fsync=on" start >/dev/null
    ;;
  stop)
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start DIR PORT | stop DIR | pause DIR | resume DIR PORT" >&2
    exit 2
    ;;
esac
