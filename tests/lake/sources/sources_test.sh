#!/usr/bin/env bash
# HL7 v2 and DICOM into the lake through the CLI and over MLLP, end to end.
set -uo pipefail
HAIP=${1:?usage: sources_test.sh HAIP_BINARY SHARED_DATA_DIR}
SHARED=${2:-}
WORK=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
export HAIP_SECURITY_ARGON2_MEMORY_KIB=256 HAIP_SECURITY_ARGON2_ITERATIONS=1 HAIP_LOG_LEVEL=warn
passed=0
failed=0
check() { if eval "$2"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi; }
count() { sqlite3 "$1/haip.db" "SELECT COUNT(*) FROM fhir_resource WHERE type = '$2' AND deleted = 0"; }

D=$WORK/data
ADT=$'MSH|^~\\&|HIS|H1|HAIP|H1|20240301083000||ADT^A01|MSG0001|P|2.5\rPID|1||MRN123^^^H1^MR||张^三||19700101|M\rPV1|1|I|CARD^101^1'
printf '%s\r' "$ADT" > "$WORK/adt.hl7"
"$HAIP" ingest hl7v2 --data-dir "$D" "$WORK/adt.hl7" >/dev/null 2>&1
check "ingest hl7v2: ADT A01 -> Patient and Encounter" '[ "$(count "$D" Patient)" = 1 ] && [ "$(count "$D" Encounter)" = 1 ]'
check "the raw message is kept in the blob store" '[ -n "$(find "$D/blobs" -type f | head -n 1)" ]'
check "resources point at the raw message" 'sqlite3 "$D/haip.db" "SELECT body FROM fhir_resource WHERE type = '"'"'Patient'"'"'" | grep -q "urn:haip:hl7v2:"'
printf 'garbage\r' > "$WORK/bad.hl7"
check "a malformed message is refused (exit 1)" '! "$HAIP" ingest hl7v2 --data-dir "$D" "$WORK/bad.hl7" >/dev/null 2>&1'

if [ -n "$SHARED" ] && [ -d "$SHARED/hl7v2" ]; then
  "$HAIP" ingest hl7v2 --data-dir "$WORK/corpus" "$SHARED/hl7v2" >"$WORK/hl7.out" 2>&1
  check "the hl7v2 corpus: 138 messages accepted" 'grep -q "^messages: 138 accepted" "$WORK/hl7.out"'
  "$HAIP" ingest dicom --data-dir "$WORK/corpus" "$SHARED/dicom" >"$WORK/dcm.out" 2>&1
  check "the DICOM corpus: every file read, ImagingStudy written" 'grep -q "0 rejected" "$WORK/dcm.out" && [ "$(count "$WORK/corpus" ImagingStudy)" -gt 10 ]'
else
  echo "skip corpus checks: ../shared/data not present"
fi

# --- MLLP ---------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HAIP_ADMIN_PASSWORD=admin-password-1 "$HAIP" serve --data-dir "$WORK/srv" --listen "127.0.0.1:$HPORT" --mllp-port "$PORT" >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$HPORT/healthz" >/dev/null && break; sleep 0.1; done
mllp() {  # sends one framed message, prints the ACK's MSA segment
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  printf '\x0b%s\x1c\x0d' "$1" >&3
  local ack=""
  IFS= read -r -d $'\x1c' -t 5 ack <&3
  printf '%s' "$ack" | tr '\r\013' '\n\n' | grep '^MSA' | head -n 1
  exec 3>&-
}
check "MLLP: ADT gets AA" '[[ "$(mllp "${ADT/MSG0001/MSG0002}")" == MSA\|AA\|MSG0002* ]]'
check "MLLP: the patient is in the lake" '[ "$(count "$WORK/srv" Patient)" = 1 ]'
check "MLLP: garbage gets AR" '[[ "$(mllp "not hl7 at all")" == MSA\|AR* ]]'
NOPID=$'MSH|^~\\&|HIS|H1|HAIP|H1|20240301083000||ADT^A01|MSG0003|P|2.5\rPV1|1|I|CARD'
check "MLLP: an ADT without PID gets AE and stores nothing" '[[ "$(mllp "$NOPID")" == MSA\|AE* ]] && [ "$(count "$WORK/srv" Encounter)" = 1 ]'
check "MLLP messages are audited" '[ "$(sqlite3 "$WORK/srv/haip.db" "SELECT COUNT(*) FROM audit_log WHERE action = '"'"'lake.hl7v2'"'"'")" = 3 ]'
kill -TERM $PID; wait $PID 2>/dev/null; PID=""

echo "sources: $passed passed, $failed failed"
[ "$failed" = 0 ]
