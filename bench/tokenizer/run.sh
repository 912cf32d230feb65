#!/usr/bin/env bash
# The tokenizer benchmark (bench_tokenizer, Google Benchmark) on the Qwen2 and
# Llama 3 vocabularies of ../shared/models: vocabulary load time, encoding
# speed on mixed text and on text of distinct words, decoding speed. Writes
# bench/results/tokenizer.jsonl.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/$BUILD/bench/tokenizer/bench_tokenizer
OUT=$ROOT/bench/results/tokenizer.jsonl
if [ ! -d "$ROOT/../shared/models" ]; then
  echo "bench/tokenizer: ../shared/models not found, skipped"
  exit 0
fi
mkdir -p "$(dirname "$OUT")"
JSON=$(mktemp)
trap 'rm -f "$JSON"' EXIT
"$BENCH" --benchmark_format=json --benchmark_out="$JSON" --benchmark_out_format=json >/dev/null
python3 - "$JSON" "$OUT" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
vocabs = {"0": "qwen2", "1": "llama-bpe"}
with open(sys.argv[2], "w") as out:
    for b in data["benchmarks"]:
        name, _, arg = b["name"].partition("/vocab:")
        params = {"vocab": vocabs.get(arg, arg)}
        rows = []
        if name == "BM_Load":
            rows.append(("load_ms", b["real_time"], "ms"))
        elif name in ("BM_EncodeMixed", "BM_EncodeDistinctWords"):
            kind = "mixed" if name == "BM_EncodeMixed" else "distinct_words"
            rows.append((f"encode_{kind}_mb_per_s", b["bytes_per_second"] / 1e6, "MB/s"))
            rows.append((f"encode_{kind}_tokens_per_s", b["tokens_per_s"], "tokens/s"))
        elif name == "BM_Decode":
            rows.append(("decode_tokens_per_s", b["items_per_second"], "tokens/s"))
        for metric, value, unit in rows:
            row = {"bench": "tokenizer", "system": "haip", "metric": metric, "value": round(value, 2),
                   "unit": unit, "params": params}
            print(json.dumps(row))
            out.write(json.dumps(row) + "\n")
PY
