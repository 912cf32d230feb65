#!/usr/bin/env bash
# Must-show: SIGKILL during a bulk ingest, restart, re-run the same import ->
# exactly the counts of a clean run. Exercised twice: the CLI importer, and a
# server receiving the data through POST /api/lake/ingest.
set -uo pipefail
HAIP=${1:?usage: ingest_crash_test.sh HAIP_BINARY}
WORK=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$WORK"' EXIT
export HAIP_SECURITY_ARGON2_MEMORY_KIB=256 HAIP_SECURITY_ARGON2_ITERATIONS=1 HAIP_LOG_LEVEL=warn
passed=0
failed=0
check() {
  if eval "$2"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}
counts() {  # per-type counts of current resources, one "type n" per line
  sqlite3 "$1/haip.db" "SELECT type, COUNT(*) FROM fhir_resource WHERE deleted = 0 GROUP BY type ORDER BY type"
}
versions() {  # every stored version: superseded ones in fhir_history, current ones in fhir_resource
  sqlite3 "$1/haip.db" "SELECT (SELECT COUNT(*) FROM fhir_history) + (SELECT COUNT(*) FROM fhir_resource)"
}

"$HAIP" synth --patients 600 --seed 4 --out "$WORK/demo" >/dev/null 2>&1
"$HAIP" ingest fhir --data-dir "$WORK/clean" "$WORK/demo" >/dev/null 2>&1
CLEAN=$(counts "$WORK/clean")
CLEAN_VERSIONS=$(versions "$WORK/clean")
check "clean run loaded data" '[ -n "$CLEAN" ]'

# --- the CLI importer, killed mid-way -----------------------------------------
"$HAIP" ingest fhir --data-dir "$WORK/cli" --batch 50 "$WORK/demo" >/dev/null 2>&1 &
PID=$!
for _ in $(seq 1 200); do
  n=$(sqlite3 "$WORK/cli/haip.db" "SELECT COUNT(*) FROM fhir_resource" 2>/dev/null || echo 0)
  [ "${n:-0}" -gt 3000 ] && break
  sleep 0.02
done
kill -9 $PID 2>/dev/null
wait $PID 2>/dev/null
PID=""
PARTIAL=$(sqlite3 "$WORK/cli/haip.db" "SELECT COUNT(*) FROM fhir_resource")
check "the CLI was killed part-way ($PARTIAL resources)" '[ "$PARTIAL" -gt 0 ] && [ "$(counts "$WORK/cli")" != "$CLEAN" ]'
"$HAIP" ingest fhir --data-dir "$WORK/cli" "$WORK/demo" >/dev/null 2>&1
check "re-run after SIGKILL gives the clean counts" '[ "$(counts "$WORK/cli")" = "$CLEAN" ]'
check "and no duplicate versions" '[ "$(versions "$WORK/cli")" = "$CLEAN_VERSIONS" ]'

# --- the server, killed while ingesting an upload ------------------------------
cat "$WORK/demo"/*.ndjson > "$WORK/all.ndjson"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_server() {
  # Bulk uploads larger than the default 16 MiB body limit need it raised.
  HAIP_SERVER_MAX_BODY_BYTES=268435456 HAIP_ADMIN_PASSWORD=admin-password-1 "$HAIP" serve --data-dir "$WORK/srv" --listen "127.0.0.1:$PORT" >>"$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return 0; sleep 0.1; done
  return 1
}
start_server
TOKEN=$("$HAIP" token create --data-dir "$WORK/srv" --user admin)
curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" --data-binary "@$WORK/all.ndjson" \
  "http://127.0.0.1:$PORT/api/lake/ingest?name=all.ndjson" &
CURL=$!
for _ in $(seq 1 200); do
  n=$(sqlite3 "$WORK/srv/haip.db" "SELECT COUNT(*) FROM fhir_resource" 2>/dev/null || echo 0)
  [ "${n:-0}" -gt 3000 ] && break
  sleep 0.02
done
kill -9 $PID
wait $PID 2>/dev/null
wait $CURL 2>/dev/null
PARTIAL=$(sqlite3 "$WORK/srv/haip.db" "SELECT COUNT(*) FROM fhir_resource")
check "the server was killed part-way ($PARTIAL resources)" '[ "$(counts "$WORK/srv")" != "$CLEAN" ]'
start_server
STATUS=$(curl -s -o "$WORK/resp.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
  --data-binary "@$WORK/all.ndjson" "http://127.0.0.1:$PORT/api/lake/ingest?name=all.ndjson")
check "re-upload after restart succeeds" '[ "$STATUS" = 200 ]'
check "server counts equal the clean run" '[ "$(counts "$WORK/srv")" = "$CLEAN" ]'
check "and no duplicate versions" '[ "$(versions "$WORK/srv")" = "$CLEAN_VERSIONS" ]'
check "the audit chain survived the SIGKILL" '"$HAIP" audit verify --data-dir "$WORK/srv" >/dev/null 2>&1'
kill -TERM $PID; wait $PID 2>/dev/null; PID=""

echo "ingest-crash: $passed passed, $failed failed"
[ "$failed" = 0 ]
