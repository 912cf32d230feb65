#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs
# one of them for a while.
#
#   fuzz/run.sh NAME SECONDS
#
# Seeds: fuzz/corpus/NAME/ (committed) plus, when present, sample data in
# ../shared/data/NAME/. Inputs libFuzzer discovers go to
# build-fuzz/corpus/NAME/ (kept between runs, never committed). A crash
# leaves its input in build-fuzz/artifacts/NAME/ and makes this script exit
# non-zero; reproduce with: build-fuzz/NAME_fuzz build-fuzz/artifacts/NAME/crash-...
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 NAME SECONDS" >&2
  exit 2
fi
NAME=$1
SECONDS_TO_RUN=$2
ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
BUILD="$ROOT/build-fuzz"
MAX_LEN=${FUZZ_MAX_LEN:-16384}

if [ ! -f "$ROOT/fuzz/${NAME}_fuzz.cpp" ]; then
  echo "fuzz: no target $NAME (fuzz/${NAME}_fuzz.cpp)" >&2
  exit 2
fi
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found (scripts/install-deps.sh installs it)" >&2
  exit 2
fi

launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT/fuzz" -B "$BUILD" "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" >/dev/null
fi
# The machine is shared: two compile jobs at most.
cmake --build "$BUILD" --target "${NAME}_fuzz" -j "${FUZZ_JOBS:-2}"

work="$BUILD/corpus/$NAME"
artifacts="$BUILD/artifacts/$NAME"
mkdir -p "$work" "$artifacts"
dirs=("$work" "$ROOT/fuzz/corpus/$NAME")
if [ -d "$ROOT/../shared/data/$NAME" ]; then dirs+=("$ROOT/../shared/data/$NAME"); fi

# The first directory receives new inputs; the others are read as seeds.
"$BUILD/${NAME}_fuzz" "${dirs[@]}" \
  -max_total_time="$SECONDS_TO_RUN" -max_len="$MAX_LEN" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" -print_final_stats=1
