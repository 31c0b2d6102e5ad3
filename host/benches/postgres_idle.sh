#!/usr/bin/env bash
# Idle cost of one host node on PostgreSQL with N scheduled connections (issue 15's figure):
# CPU seconds per minute, RSS, and database transactions per second while nothing is due.
#
#   cargo build --release -p ats-host && host/benches/postgres_idle.sh [N=10000] [SECONDS=60]
#
# Starts a throwaway cluster (initdb/pg_ctl; as root through runuser) on 127.0.0.1, lets a
# node create the schema, inserts N connections to the bundled sandbox connector whose syncs
# ran just now (so none is due during the window), restarts the node, and samples it.
set -euo pipefail
N=${1:-10000}
WINDOW=${2:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN="$ROOT/target/release/ats-host"
[ -x "$BIN" ] || { echo "build it first: cargo build --release -p ats-host" >&2; exit 1; }
PGBIN=$(dirname "$(command -v initdb || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
WORK=$(mktemp -d /tmp/ats-idle-XXXX)
PORT=$((20000 + RANDOM % 20000))
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown -R postgres: "$WORK"; fi
cleanup() {
  [ -n "${HOST_PID:-}" ] && kill "$HOST_PID" 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
as_pg "$PGBIN/initdb" -D "$WORK/pg" -U postgres --auth=trust --no-sync >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $WORK" start >/dev/null
URL="postgres://postgres@127.0.0.1:$PORT/postgres"
psql() { command psql -h 127.0.0.1 -p "$PORT" -U postgres -qtAX -c "$1" postgres; }
mkdir -p "$WORK/data" && chmod 777 "$WORK/data"
KEY=$(head -c 32 /dev/urandom | base64)
start_node() {
  "$BIN" serve --data-dir "$WORK/data" --listen 127.0.0.1:0 --store "$URL" --secret-key "$KEY" \
    >"$WORK/host.log" 2>&1 &
  HOST_PID=$!
  for _ in $(seq 1 600); do grep -q "serving on" "$WORK/host.log" && return; sleep 0.1; done
  cat "$WORK/host.log"; exit 1
}
start_node; kill "$HOST_PID"; wait "$HOST_PID" || true
NOW=$(($(date +%s) * 1000))
psql "INSERT INTO ats.tenants (id, doc) VALUES ('bench', '{\"id\":\"bench\",\"name\":\"bench\",\"created_at\":0}');
INSERT INTO ats.connections (id, tenant_id, doc)
  SELECT 'conn_' || i, 'bench', jsonb_build_object('id', 'conn_' || i, 'tenant_id', 'bench',
    'connector_id', 'sandbox', 'pinned_version', null, 'name', 'c' || i,
    'config', jsonb_build_object('base-url', 'http://127.0.0.1:9'), 'allow_private_networks', false,
    'status', 'active', 'status_detail', null,
    'schedules', jsonb_build_object('jobs_every_secs', 10800, 'applications_every_secs', 3600, 'enabled', true),
    'created_at', 0, 'updated_at', 0)
  FROM generate_series(1, $N) i;
INSERT INTO ats.checkpoints (connection_id, kind, doc)
  SELECT 'conn_' || i, k, jsonb_build_object('last_run_at', $NOW, 'pass_full_scan', false,
    'pages_in_pass', 0, 'consecutive_failures', 0, 'last_full_scan_at', $NOW)
  FROM generate_series(1, $N) i, unnest(ARRAY['jobs', 'applications']) k;"
STARTED=$(date +%s.%N)
start_node
READY=$(date +%s.%N)
sleep 10
ticks() { awk '{print $14 + $15}' "/proc/$HOST_PID/stat"; }
xacts() { psql "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'"; }
T0=$(ticks); X0=$(xacts)
sleep "$WINDOW"
T1=$(ticks); X1=$(xacts)
HZ=$(getconf CLK_TCK)
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$HOST_PID/status")
echo "connections=$N window=${WINDOW}s start_to_serving=$(echo "$READY - $STARTED" | bc)s"
echo "cpu_seconds_per_minute=$(echo "scale=3; ($T1 - $T0) / $HZ * 60 / $WINDOW" | bc)"
echo "rss_mib=$((RSS / 1024))"
echo "db_transactions_per_second=$(echo "scale=1; ($X1 - $X0) / $WINDOW" | bc)"
echo "scheduled=$(grep -c 'sync run started' "$WORK/host.log" || true) runs started during the window (expected 0)"
