#!/usr/bin/env bash
# HTTP load on an authenticated light endpoint: wrk, 64 connections, 20 s,
# against `haip serve` on loopback with its default SQLite store. Every
# request is authenticated and written to the audit chain, as in production.
# Writes bench/results/http.jsonl.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HAIP=$ROOT/$BUILD/haip
OUT=$ROOT/bench/results/http.jsonl
DURATION=${HAIP_BENCH_DURATION:-20}
CONNECTIONS=${HAIP_BENCH_CONNECTIONS:-64}
SERVER_THREADS=${HAIP_BENCH_SERVER_THREADS:-2}
command -v wrk >/dev/null || { echo "bench/http: wrk is not installed (scripts/install-deps.sh)"; exit 1; }
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HAIP_ADMIN_PASSWORD=bench-admin-password "$HAIP" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" \
  --threads "$SERVER_THREADS" --log-level warn >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
TOKEN=$("$HAIP" token create --data-dir "$WORK/data" --user admin --log-level warn)
ENDPOINT=/api/auth/me
echo "bench/http: wrk -c$CONNECTIONS -d${DURATION}s GET $ENDPOINT (authenticated, audited)"
RESULT=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$ROOT/bench/http/report.lua" \
  -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$ENDPOINT" | tee "$WORK/wrk.txt" | tail -n 1)
cat "$WORK/wrk.txt" | sed -n '1,12p'
AUDITED=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/auth/me" >/dev/null; \
  sqlite3 "$WORK/data/haip.db" "SELECT COUNT(*) FROM audit_log")
mkdir -p "$(dirname "$OUT")"
python3 - "$RESULT" "$OUT" "$ENDPOINT" "$CONNECTIONS" "$DURATION" "$SERVER_THREADS" "$AUDITED" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
out, endpoint, conns, dur, threads, audited = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
params = {"endpoint": endpoint, "connections": conns, "duration_s": dur, "server_threads": threads, "wrk_threads": 2}
secs = r["duration_us"] / 1e6
rows = [
    ("requests_per_s", r["requests"] / secs, "req/s"),
    ("latency_p50_ms", r["p50_us"] / 1000, "ms"),
    ("latency_p99_ms", r["p99_us"] / 1000, "ms"),
    ("errors", r["errors"], "count"),
    ("requests", r["requests"], "count"),
    ("audit_records", audited, "count"),
]
with open(out, "w") as f:
    for metric, value, unit in rows:
        line = {"bench": "http", "system": "haip", "metric": metric, "value": round(value, 3), "unit": unit, "params": params}
        f.write(json.dumps(line) + "\n")
        print(json.dumps(line))
PY
