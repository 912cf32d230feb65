#!/usr/bin/env bash
# The lake benchmark: `haip synth` patients ingested by `haip ingest fhir`
# beside PostgreSQL 15 loading the same NDJSON into a JSONB table with a GIN
# index (jsonb_path_ops) and an index on resourceType, in the same run; then
# five typical searches on both. Writes bench/results/lake.jsonl.
#   HAIP_BENCH_LAKE_PATIENTS (default 2000; the issue's 1M needs ~50 GB of NDJSON)
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HAIP=$ROOT/$BUILD/haip
BENCH=$ROOT/$BUILD/bench/lake/bench_lake
OUT=$ROOT/bench/results/lake.jsonl
PATIENTS=${HAIP_BENCH_LAKE_PATIENTS:-2000}
SEED=7
PGBIN=${HAIP_PG_BIN:-/usr/lib/postgresql/15/bin}
WORK=$(mktemp -d)
chmod 755 "$WORK"
PGDIR=$WORK/pg
cleanup() {
  if [ -f "$PGDIR/postmaster.pid" ]; then runpg "$PGBIN/pg_ctl" -D "$PGDIR" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
runpg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
row() { printf '{"bench":"lake","system":"%s","metric":"%s","value":%s,"unit":"%s","params":%s}\n' "$@" | tee -a "$OUT"; }

echo "bench/lake: generating $PATIENTS patients"
"$HAIP" synth --patients "$PATIENTS" --seed "$SEED" --out "$WORK/demo" >/dev/null
cat "$WORK"/demo/*.ndjson > "$WORK/all.ndjson"
chmod 644 "$WORK/all.ndjson"
N=$(wc -l < "$WORK/all.ndjson")
P="{\"patients\":$PATIENTS,\"resources\":$N}"

echo "bench/lake: haip ingest of $N resources"
T0=$(date +%s.%N)
HAIP_LOG_LEVEL=warn "$HAIP" ingest fhir --data-dir "$WORK/haip" "$WORK/demo" >/dev/null
T1=$(date +%s.%N)
row haip ingest_resources_per_s "$(awk -v n="$N" -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", n / (b - a) }')" "resources/s" "$P"
row haip disk_bytes "$(du -sb "$WORK/haip/haip.db"* | awk '{s+=$1} END {print s}')" bytes "$P"

echo "bench/lake: PostgreSQL 15 \\copy of the same NDJSON"
mkdir -p "$PGDIR" && chown postgres "$PGDIR" 2>/dev/null || true
runpg "$PGBIN/initdb" -D "$PGDIR" -A trust -U postgres >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
runpg "$PGBIN/pg_ctl" -D "$PGDIR" -l "$PGDIR/log" -o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1" -w start >/dev/null
PSQL="psql -h 127.0.0.1 -p $PORT -U postgres -q -v ON_ERROR_STOP=1"
$PSQL -c "CREATE TABLE res (id bigserial PRIMARY KEY, body jsonb NOT NULL)"
$PSQL -c "CREATE INDEX res_gin ON res USING gin (body jsonb_path_ops)"
$PSQL -c "CREATE INDEX res_type ON res ((body->>'resourceType'))"
T0=$(date +%s.%N)
# CSV with quote and delimiter characters that never occur in JSON text.
$PSQL -c "\\copy res(body) FROM '$WORK/all.ndjson' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
T1=$(date +%s.%N)
$PSQL -c "ANALYZE res"
row postgresql ingest_resources_per_s "$(awk -v n="$N" -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", n / (b - a) }')" "resources/s" "$P"
row postgresql disk_bytes "$($PSQL -At -c "SELECT pg_total_relation_size('res')")" bytes "$P"

echo "bench/lake: searches"
"$BENCH" --sqlite "$WORK/haip/haip.db" --patients "$PATIENTS" --seed "$SEED" --iterations 200 \
  --pg "postgresql://postgres@127.0.0.1:$PORT/postgres" | tee -a "$OUT"
