#!/usr/bin/env bash
# Installs dependencies, builds the release binaries and starts a
# one-validator dev chain (automatad dev). Extra arguments go to automatad.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)" --target automatad automata
exec build/release/apps/automatad dev "$@"
