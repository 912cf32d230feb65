#!/usr/bin/env bash
# The `haip` command's interface contract, end to end on a real data
# directory and a real server on loopback.
set -uo pipefail
HAIP=${1:?usage: cli_test.sh HAIP_BINARY}
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
passed=0
failed=0
check() {  # check NAME COMMAND...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
  fi
}
export HAIP_SECURITY_ARGON2_MEMORY_KIB=256 HAIP_SECURITY_ARGON2_ITERATIONS=1

# --- users, tokens, audit on a fresh data directory --------------------------
D=$WORK/data
check "help lists the commands" bash -c "'$HAIP' --help | grep -q 'audit' && '$HAIP' user add --help | grep -q -- '--roles'"
check "version" bash -c "'$HAIP' version | grep -q '^haip '"
echo 'a-good-password-1' | "$HAIP" user add dr.li --roles clinician --department 心内科 --password-stdin --data-dir "$D" >/dev/null
check "user add" bash -c "'$HAIP' user list --data-dir '$D' | grep -q 'dr.li.*clinician.*心内科'"
check "weak password refused" bash -c "! echo short | '$HAIP' user add weak --roles clinician --password-stdin --data-dir '$D' 2>/dev/null"
check "unknown role refused" bash -c "! echo a-good-password-1 | '$HAIP' user add x --roles surgeon --password-stdin --data-dir '$D' 2>/dev/null"
TOKEN=$("$HAIP" token create --data-dir "$D" --user dr.li --ttl 1d)
check "token create prints only the token" bash -c "[[ '$TOKEN' =~ ^haip_[A-Za-z0-9_-]{43}$ ]]"
check "token for unknown user fails" bash -c "! '$HAIP' token create --data-dir '$D' --user nobody 2>/dev/null"
"$HAIP" user disable dr.li --data-dir "$D" >/dev/null
check "user disable" bash -c "'$HAIP' user list --data-dir '$D' | grep -q 'dr.li.*disabled'"
check "audit verify intact" bash -c "'$HAIP' audit verify --data-dir '$D' 2>/dev/null | grep -q 'intact'"
"$HAIP" audit export --data-dir "$D" --out "$WORK/audit.jsonl" 2>/dev/null
check "audit export" bash -c "grep -q '\"action\":\"user.create\"' '$WORK/audit.jsonl' && grep -q '\"action\":\"token.create\"' '$WORK/audit.jsonl'"

# --- tampering: each case on its own copy -------------------------------------
for i in $(seq 1 6); do echo 'a-good-password-1' | "$HAIP" user add "u$i" --roles researcher --password-stdin --data-dir "$D" >/dev/null; done
tamper() {  # tamper NAME EXPECTED_ID SQL
  local copy=$WORK/tamper-$1
  cp -r "$D" "$copy"
  sqlite3 "$copy/haip.db" "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; $3"
  local out rc
  out=$("$HAIP" audit verify --data-dir "$copy" 2>/dev/null)
  rc=$?
  [ "$rc" = 1 ] && [ "$(echo "$out" | tail -n 1)" = "$2" ] && echo "$out" | grep -q "record $2"
}
check "audit verify names an edited record" tamper edit 4 "UPDATE audit_log SET username = 'someone' WHERE id = 4"
check "audit verify names a deleted record" tamper delete 5 "DELETE FROM audit_log WHERE id = 5"
check "audit verify names an inserted record" tamper insert 3 \
  "UPDATE audit_log SET id = id + 1000 WHERE id >= 3; UPDATE audit_log SET id = id - 999 WHERE id >= 1003;
   INSERT INTO audit_log VALUES (3, 1, 'x', NULL, 'intruder', '', 'user.create', 'CLI', '', 0, 'success', '', '{}', 'p', 'h')"

# --- the server ---------------------------------------------------------------
S=$WORK/server
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18931)
HAIP_ADMIN_PASSWORD=admin-password-1 "$HAIP" serve --data-dir "$S" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT"
check "healthz" bash -c "curl -sf $URL/healthz | grep -q '\"ok\"'"
check "metrics" bash -c "curl -sf $URL/metrics | grep -q 'haip_build_info'"
check "openapi" bash -c "curl -sf $URL/api/openapi.json | grep -q '\"openapi\"'"
check "401 without token, JSON error" bash -c "[ \$(curl -s -o $WORK/e.json -w '%{http_code}' $URL/api/users) = 401 ] && grep -q '\"request_id\"' $WORK/e.json"
ADMIN=$(curl -s -X POST "$URL/api/auth/login" -d '{"username":"admin","password":"admin-password-1"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
check "login returns a bearer token" bash -c "curl -sf -H 'Authorization: Bearer $ADMIN' $URL/api/auth/me | grep -q '\"admin\"'"
curl -s -X POST -H "Authorization: Bearer $ADMIN" "$URL/api/users" \
  -d '{"username":"nurse.wu","password":"a-good-password-1","roles":["clinician"],"department":"急诊科"}' >/dev/null
NURSE=$("$HAIP" token create --data-dir "$S" --user nurse.wu)
check "403 with the wrong role" bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $NURSE' $URL/api/users) = 403 ]"
check "CLI and server share one audit chain" bash -c "'$HAIP' audit verify --data-dir '$S' 2>/dev/null | grep -q intact"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
rc=$?
SERVER_PID=""
check "SIGTERM stops the server cleanly" bash -c "[ $rc = 0 ] && grep -q 'server stopped' '$WORK/server.log'"

echo "cli: $passed passed, $failed failed"
[ "$failed" = 0 ]
