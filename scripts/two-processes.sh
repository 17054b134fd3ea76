#!/usr/bin/env bash
# What `docker compose up` does, by hand, for machines without a Docker engine: PostgreSQL
# (started if needed), a fresh database, and two Roster processes sharing it.
#   scripts/two-processes.sh [DATABASE_NAME]      ports 8081 and 8082; Ctrl-C stops both
set -euo pipefail
cd "$(dirname "$0")/.."
db="${1:-roster_demo}"
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$db\"" -qc "CREATE DATABASE \"$db\""
cargo build --release --quiet
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
./target/release/roster migrate
ROSTER_BIND=127.0.0.1:8081 ./target/release/roster serve & first=$!
ROSTER_BIND=127.0.0.1:8082 ./target/release/roster serve & second=$!
trap 'kill $first $second 2>/dev/null; wait' INT TERM EXIT
echo "Roster on http://127.0.0.1:8081 and http://127.0.0.1:8082, one database: $db"
wait
