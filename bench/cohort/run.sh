#!/usr/bin/env bash
# The cohort benchmark: HAIP's engine beside SQLite and PostgreSQL 15 running
# the equivalent OHDSI-style SQL (`haip cohort sql`) over the same flat tables,
# with indexes on (system, code, person_id, day) and (person_id, day), for the
# ten criteria in bench/cohort/criteria. Writes bench/results/cohort.jsonl.
#   HAIP_BENCH_COHORT_PATIENTS (default 1000000: ~60M events, ~4 GB of TSV,
#   and an hour or more on 2 cores, most of it loading the two databases)
#   HAIP_BENCH_COHORT_SQL_ITERATIONS (default 3)
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/$BUILD/bench/cohort/bench_cohort
OUT=$ROOT/bench/results/cohort.jsonl
PATIENTS=${HAIP_BENCH_COHORT_PATIENTS:-1000000}
SQL_ITER=${HAIP_BENCH_COHORT_SQL_ITERATIONS:-3}
PGBIN=${HAIP_PG_BIN:-/usr/lib/postgresql/15/bin}
WORK=$(mktemp -d)
chmod 755 "$WORK"
PGDIR=$WORK/pg
runpg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  if [ -f "$PGDIR/postmaster.pid" ]; then runpg "$PGBIN/pg_ctl" -D "$PGDIR" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$(dirname "$OUT")"

echo "bench/cohort: $PATIENTS patients"
"$BENCH" prepare --patients "$PATIENTS" --work "$WORK/flat"
chmod -R a+rX "$WORK/flat"
TABLES="condition_occurrence measurement drug_exposure procedure_occurrence visit_occurrence"
DDL=$(python3 - <<'PY'
cols = "person_id BIGINT NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL, day INTEGER NOT NULL, ymd INTEGER NOT NULL, value DOUBLE PRECISION, unit TEXT NOT NULL, department TEXT NOT NULL, department_name TEXT NOT NULL"
print("CREATE TABLE person (person_id BIGINT PRIMARY KEY, patient_id TEXT NOT NULL, birth_day INTEGER, birth_ymd INTEGER, gender TEXT NOT NULL);")
for t in "condition_occurrence measurement drug_exposure procedure_occurrence visit_occurrence".split():
    print(f"CREATE TABLE {t} ({cols});")
PY
)
INDEXES=""
for t in $TABLES; do
  INDEXES="$INDEXES CREATE INDEX ${t}_concept ON $t (system, code, person_id, day); CREATE INDEX ${t}_person ON $t (person_id, day);"
done

echo "bench/cohort: loading SQLite"
SQLITE=$WORK/flat.db
{
  echo "$DDL"
  echo ".mode tabs"
  echo ".import $WORK/flat/person.tsv person"
  for t in $TABLES; do echo ".import $WORK/flat/$t.tsv $t"; done
  echo "UPDATE person SET birth_day = NULL, birth_ymd = NULL WHERE birth_day = '\\N';"
  echo "UPDATE measurement SET value = NULL WHERE value = '\\N';"
  echo "$INDEXES"
  echo "ANALYZE;"
} | sqlite3 "$SQLITE"

echo "bench/cohort: loading PostgreSQL 15"
mkdir -p "$PGDIR" && chown postgres "$PGDIR" 2>/dev/null || true
runpg "$PGBIN/initdb" -D "$PGDIR" -A trust -U postgres >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
runpg "$PGBIN/pg_ctl" -D "$PGDIR" -l "$PGDIR/log" -o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c shared_buffers=2GB -c work_mem=256MB -c max_parallel_workers_per_gather=2" -w start >/dev/null
PSQL="psql -h 127.0.0.1 -p $PORT -U postgres -q -v ON_ERROR_STOP=1"
$PSQL -c "$DDL"
$PSQL -c "\\copy person FROM '$WORK/flat/person.tsv'"
for t in $TABLES; do $PSQL -c "\\copy $t FROM '$WORK/flat/$t.tsv'"; done
$PSQL -c "$INDEXES"
$PSQL -c "ANALYZE"

echo "bench/cohort: queries"
"$BENCH" query --work "$WORK/flat" --criteria "$ROOT/bench/cohort/criteria" --sqlite "$SQLITE" \
  --postgres "postgresql://postgres@127.0.0.1:$PORT/postgres" --sql-iterations "$SQL_ITER" | tee "$OUT"
