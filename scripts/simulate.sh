#!/usr/bin/env bash
# Runs the consensus simulator over many seeds and prints every failing
# seed with the command that replays it.
#   scripts/simulate.sh [SEEDS] [FIRST_SEED] [BUILD_DIR]
# SEEDS defaults to 1000 per scenario, FIRST_SEED to 1, and BUILD_DIR to
# build/release; the consensus_test binary must already be built there.
# Set SCENARIO to a gtest filter to run one scenario, for example
# SCENARIO=Simulation.SevenWithTwoEquivocatorsPartitionCrash.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds="${1:-1000}"
first="${2:-1}"
build_dir="${3:-build/release}"
scenario="${SCENARIO:-Simulation.*}"
binary="$build_dir/tests/consensus_test"

if [ ! -x "$binary" ]; then
  echo "error: $binary not found; build it with: cmake --build $build_dir --target consensus_test" >&2
  exit 2
fi

echo "running seeds $first..$((first + seeds - 1)) of $scenario with $binary"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
AUTOMATA_SIM_SEEDS="$seeds" AUTOMATA_SIM_FIRST_SEED="$first" \
  "$binary" --gtest_filter="$scenario" --gtest_brief=1 >"$log" 2>&1 || status=$?

# Each failure prints "seed N at T ms: ..." followed by a "replay:" line.
if grep -E "^seed [0-9]+ at|replay:" "$log"; then
  echo "FAILED: the seeds above broke an invariant; rerun one with its replay command (binary: $binary)"
  exit 1
fi
if [ "$status" -ne 0 ]; then
  cat "$log"
  echo "FAILED: consensus_test exited with status $status"
  exit "$status"
fi
grep -E "PASSED|tests? ran" "$log" || true
echo "ok: no invariant broken"
