#!/usr/bin/env bash
# Peak memory of a real `roster serve` (release build, SQLite in a temporary data directory)
# while it receives each hostile file of tests/it/security_files/ through the web form, signed
# in as a master administrator. A measurement to read, not a test: it prints one line per file.
#   scripts/hostile-memory.sh [PORT]          (default port 18080; needs curl and python3)
# Each file goes to a fresh server (memory one upload frees stays in the process and would hide
# what the next needs); after start and sign-in its peak RSS (VmHWM) is reset to its current RSS
# through /proc/PID/clear_refs, so "upload MB" is what the upload's answer added to the peak;
# for an accepted file the peak is reset again and "job MB" is what its import job added.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-18080}"
base="http://127.0.0.1:$port"
work="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "building (release) and writing the hostile files..." >&2
cargo build --release --quiet
ROSTER_HOSTILE_DIR="$work/files" cargo test --quiet --test it security_files::write_hostile_files -- --exact --ignored >/dev/null 2>&1

export ROSTER_DATA_DIR="$work/data" ROSTER_BIND="127.0.0.1:$port" ROSTER_LOG=warn
unset DATABASE_URL
email="probe@example.com"
password="memory probe password"
printf '%s\n' "$password" | target/release/roster admin create --master --email "$email" --name "Memory Probe" 2>/dev/null
target/release/roster group create Hostile 2>/dev/null
kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"; }
csrf_of() { curl -s -b "$work/jar" -c "$work/jar" "$base$1" | grep -o 'name="csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//'; }

# A fresh server for each file, signed in: memory freed by one upload stays in the process
# (the allocator keeps it), and would hide what the next one needs.
start_server() {
  target/release/roster serve 2>>"$work/server.log" &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  rm -f "$work/jar"
  # The sign-in form sets the anonymous CSRF cookie and carries the same token.
  local token signed_in
  token="$(csrf_of /login)"
  signed_in="$(curl -s -b "$work/jar" -c "$work/jar" -o /dev/null -w '%{http_code}' \
    --data-urlencode "csrf=$token" --data-urlencode "email=$email" --data-urlencode "password=$password" "$base/login")"
  [[ "$signed_in" == 303 ]] || { echo "sign-in failed ($signed_in)" >&2; exit 1; }
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

start_server
group="$(curl -s -b "$work/jar" "$base/api/v1/groups" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
latest_state() {
  curl -s -b "$work/jar" "$base/api/v1/groups/$group/imports" \
    | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j[0]["id"], j[0]["state"]) if j else print("- none")'
}
echo "a fresh roster serve per file: RSS after start and sign-in $(( $(kb VmRSS) / 1024 )) MB, peak during start $(( $(kb VmHWM) / 1024 )) MB"
stop_server
printf '%-24s %9s %-12s %-16s %7s %10s %7s  %s\n' file bytes status expected "rss MB" "upload MB" "job MB" what
worst=0
while IFS=$'\t' read -r name expected what; do
  path="$work/files/$name"
  upload_name="${name#*-}"
  start_server
  form_token="$(csrf_of "/admin/groups/$group/import")"
  before_job="$(latest_state | cut -d' ' -f1)"
  echo 5 > "/proc/$pid/clear_refs"
  rss="$(kb VmRSS)"
  status="$(curl -s -b "$work/jar" -o "$work/answer.html" -w '%{http_code}' --max-time 300 \
    -F "csrf=$form_token" -F "file=@$path;filename=$upload_name" "$base/admin/groups/$group/import")"
  upload_grown=$(( ($(kb VmHWM) - rss) / 1024 ))
  job_grown=0
  if [[ "$status" == 303 ]]; then
    echo 5 > "/proc/$pid/clear_refs"
    job_rss="$(kb VmRSS)"
    for _ in $(seq 1 600); do
      read -r job state < <(latest_state)
      [[ "$job" != "$before_job" && ( "$state" == finished || "$state" == failed ) ]] && break
      sleep 0.2
    done
    status="303/$state"
    job_grown=$(( ($(kb VmHWM) - job_rss) / 1024 ))
  fi
  grown=$(( upload_grown > job_grown ? upload_grown : job_grown ))
  (( grown > worst )) && worst=$grown
  curl -sf "$base/healthz" >/dev/null || { echo "the server stopped answering after $name" >&2; exit 1; }
  stop_server
  printf '%-24s %9s %-12s %-16s %7s %10s %7s  %s\n' "$upload_name" "$(stat -c %s "$path")" "$status" "$expected" \
    $(( rss / 1024 )) "+$upload_grown" "+$job_grown" "$what"
done < "$work/files/index.tsv"
echo "largest growth over one upload: $worst MB"
