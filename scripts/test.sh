#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test with CTest.
#   scripts/test.sh             release build, all tests (unit, vectors, e2e, localnet)
#   scripts/test.sh --sanitize  ASan + UBSan build, all tests except e2e and localnet
set -euo pipefail
cd "$(dirname "$0")/.."

preset=release
if [ "${1:-}" = "--sanitize" ]; then preset=sanitize; fi

scripts/install-deps.sh
scripts/fetch-test-models.sh
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" -j "$(nproc)"
