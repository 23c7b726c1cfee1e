#!/usr/bin/env bash
# End-to-end throughput: starts a fresh automatad dev node on a free
# loopback port in a temporary home, loads it with bench/loadgen over
# JSON-RPC, prints the result and stops the node.
#   bench/run_node_bench.sh [loadgen options...]
# Requires a release build: cmake --preset release && cmake --build --preset release
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release

work=$(mktemp -d /tmp/automata-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AUTOMATA_KEYRING_DIR="$work/keyring" "$bin/apps/automatad" dev --home "$work/home" \
  --rpc-laddr "127.0.0.1:$port" --log-level warn > "$work/node.log" 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null || true; wait $node_pid 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
  sleep 0.1
done

"$bin/bench/loadgen" --node "http://127.0.0.1:$port" --keyring-dir "$work/keyring" "$@"
