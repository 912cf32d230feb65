#!/usr/bin/env bash
# Installs everything HAIP needs to build, test and run, from Debian 12 packages
# and the npm registry. Idempotent: installs only what is missing.
# This is the only place packages are listed (see docs/dependencies.md).
set -euo pipefail

APT_PACKAGES=(
  # toolchain
  g++ clang cmake ninja-build ccache make pkg-config git clang-format clang-tidy
  # libraries
  libboost-dev nlohmann-json3-dev libsimdjson-dev libsqlite3-dev sqlite3 libpq-dev
  libssl-dev libargon2-dev libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev libdcmtk-dev orthanc
  # knowledge base: Jieba's dictionary (read at run time), OpenCC, and Xapian (bench peer)
  python3-jieba libopencc-dev libxapian-dev
  # knowledge base documents: PDF text (poppler) and OCR of scanned pages; vector index
  poppler-utils libpoppler-cpp-dev tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng libhnswlib-dev
  # cohort engine: compressed bitmaps
  libroaring-dev
  # test peers and tools
  postgresql-15 wrk curl
  # console browser tests
  chromium fonts-wqy-microhei
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js and npm: any install that provides the commands will do (the machine
# image may ship a newer Node.js than Debian's, with npm bundled).
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# Console dependencies (npm registry), only when the lock file changed.
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$ROOT/web/package.json" ]; then
  stamp="$ROOT/web/node_modules/.haip-installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/web/package-lock.json" -nt "$stamp" ] || [ "$ROOT/web/package.json" -nt "$stamp" ]; then
    echo "install-deps: npm ci in web/"
    (cd "$ROOT/web" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi)
    touch "$stamp"
  fi
fi
