#!/usr/bin/env bash
# What `docker compose up` does, by hand, for machines without a Docker engine: PostgreSQL
# (started if needed), a database (created if missing), and two Roster processes sharing it.
#
#   scripts/two-processes.sh [DATABASE_NAME]          serves on 127.0.0.1:8081 and :8082
#
# Environment: ROSTER_BIN (default: target/release/roster, built if missing), PG_SERVER
# (default postgres://postgres@127.0.0.1:5432), FIRST_PORT / SECOND_PORT, or PORTS (a list, one
# process each: PORTS="8081 8082 8083" runs three), ROSTER_JOB_LEASE_SECONDS, ROSTER_HASH_THREADS.
# It prints one line per process, "roster pid=PID url=URL", then waits; stopping it stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
db="${1:-roster_demo}"
server="${PG_SERVER:-postgres://postgres@127.0.0.1:5432}"
bin="${ROSTER_BIN:-target/release/roster}"

if ! pg_isready -d "$server/postgres" -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -d "$server/postgres" -q && break; sleep 1; done
fi
if [ -z "$(psql "$server/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
  psql "$server/postgres" -qc "CREATE DATABASE \"$db\""
fi
[ -x "$bin" ] || cargo build --release --quiet

export DATABASE_URL="$server/$db"
"$bin" migrate
pids=()
for port in ${PORTS:-${FIRST_PORT:-8081} ${SECOND_PORT:-8082}}; do
  ROSTER_BIND="127.0.0.1:$port" "$bin" serve &
  pids+=($!)
  echo "roster pid=$! url=http://127.0.0.1:$port"
done
trap 'kill "${pids[@]}" 2>/dev/null || true; wait' INT TERM EXIT
wait
