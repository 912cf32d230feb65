#!/usr/bin/env bash
# Benchmarks `haip synth` generation throughput.
# Usage: bash bench/synth/run.sh [BUILD_DIR]   (default: build)
# Writes bench/results/synth.jsonl (resources/s, patients/s, bytes/s).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-build}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
bin="$build/bench/synth/bench_synth"

if [[ ! -x "$bin" ]]; then
  cmake --build "$build" --target bench_synth -j2
fi

mkdir -p "$root/bench/results"
"$bin" --patients "${SYNTH_BENCH_PATIENTS:-20000}" --threads "${SYNTH_BENCH_THREADS:-2}" \
  --out "$root/bench/results/synth.jsonl"
