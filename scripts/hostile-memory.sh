#!/usr/bin/env bash
# Peak memory of a real `roster serve` (release build, SQLite in a temporary data directory)
# while it receives each hostile file of tests/security_files.rs through the web form, signed
# in as a master administrator. A measurement to read, not a test: it prints one line per file.
#   scripts/hostile-memory.sh [PORT]          (default port 18080; needs curl and python3)
# Before each upload the server's peak RSS (VmHWM) is reset to its current RSS through
# /proc/PID/clear_refs, so "peak" is what that one upload (and, for an accepted file, its
# import job) added.
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
ROSTER_HOSTILE_DIR="$work/files" cargo test --quiet --test security_files write_hostile_files -- --ignored >/dev/null 2>&1

export ROSTER_DATA_DIR="$work/data" ROSTER_BIND="127.0.0.1:$port" ROSTER_LOG=warn
unset DATABASE_URL
email="probe@example.com"
password="memory probe password"
printf '%s\n' "$password" | target/release/roster admin create --master --email "$email" --name "Memory Probe" 2>/dev/null
target/release/roster group create Hostile 2>/dev/null
target/release/roster serve 2>"$work/server.log" &
pid=$!
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"; }
csrf_of() { curl -s -b "$work/jar" -c "$work/jar" "$base$1" | grep -o 'name="csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//'; }

# Sign in: the sign-in form sets the anonymous CSRF cookie and carries the same token.
token="$(csrf_of /login)"
signed_in="$(curl -s -b "$work/jar" -c "$work/jar" -o /dev/null -w '%{http_code}' \
  --data-urlencode "csrf=$token" --data-urlencode "email=$email" --data-urlencode "password=$password" "$base/login")"
[[ "$signed_in" == 303 ]] || { echo "sign-in failed ($signed_in)" >&2; exit 1; }
group="$(curl -s -b "$work/jar" "$base/api/v1/groups" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"

latest_state() {
  curl -s -b "$work/jar" "$base/api/v1/groups/$group/imports" \
    | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j[0]["id"], j[0]["state"]) if j else print("- none")'
}

echo "roster serve pid $pid, baseline RSS $(( $(kb VmRSS) / 1024 )) MB, peak so far $(( $(kb VmHWM) / 1024 )) MB"
printf '%-24s %9s %6s %-16s %9s %9s %9s  %s\n' file bytes status expected "rss MB" "peak MB" "+MB" what
worst=0
while IFS=$'\t' read -r name expected what; do
  path="$work/files/$name"
  upload_name="${name#*-}"
  form_token="$(csrf_of "/admin/groups/$group/import")"
  before_job="$(latest_state | cut -d' ' -f1)"
  echo 5 > "/proc/$pid/clear_refs"
  rss="$(kb VmRSS)"
  status="$(curl -s -b "$work/jar" -o "$work/answer.html" -w '%{http_code}' --max-time 300 \
    -F "csrf=$form_token" -F "file=@$path;filename=$upload_name" "$base/admin/groups/$group/import")"
  if [[ "$status" == 303 ]]; then
    for _ in $(seq 1 600); do
      read -r job state < <(latest_state)
      [[ "$job" != "$before_job" && ( "$state" == finished || "$state" == failed ) ]] && break
      sleep 0.2
    done
    status="303/$state"
  fi
  peak="$(kb VmHWM)"
  grown=$(( (peak - rss) / 1024 ))
  (( grown > worst )) && worst=$grown
  curl -sf "$base/healthz" >/dev/null || { echo "the server stopped answering after $name" >&2; exit 1; }
  printf '%-24s %9s %6s %-16s %9s %9s %9s  %s\n' "$upload_name" "$(stat -c %s "$path")" "$status" "$expected" \
    $(( rss / 1024 )) $(( peak / 1024 )) "$grown" "$what"
done < "$work/files/index.tsv"
echo "largest growth over one upload: $worst MB; server RSS at the end: $(( $(kb VmRSS) / 1024 )) MB"
