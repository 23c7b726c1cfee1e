#!/usr/bin/env bash
# Consensus throughput: starts a fresh 4-validator localnet on loopback
# (scripts/localnet.sh) in a temporary directory, loads it with
# bench/loadgen with submissions spread over all four nodes, prints the
# result and stops the nodes.
#   bench/run_localnet_bench.sh [loadgen options...]
#   bench/run_localnet_bench.sh --rate 3000 --duration 25 --senders 4000
# Without --rate, loadgen submits every transfer as fast as the nodes
# accept it, so the latency it reports is mostly queueing behind that
# burst. --rate TX_PER_SECOND offers a steady open-loop load instead (small
# batches every --interval-ms, default 20), and --duration SECONDS sizes
# the run. loadgen then also prints the steady window (from --warmup
# seconds, default 5, to the last submission): committed per second,
# latency p50/p99 of the transfers submitted in it, and block interval and
# txs per block.
# BUILD_DIR (default build/release) must hold apps/automatad, apps/automata
# and bench/loadgen, e.g. from
#   cmake --preset release && cmake --build --preset release
# VALIDATORS sets the number of nodes (default 4) and CONNECTIONS the
# number of submission connections (default one per node). KEEP_LOGS=DIR
# copies the node logs to DIR before the nodes' directory is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BUILD_DIR:-build/release}
validators=${VALIDATORS:-4}
for tool in apps/automatad apps/automata bench/loadgen; do
  [[ -x "$bin/$tool" ]] || { echo "run_localnet_bench: $bin/$tool not found; build it first" >&2; exit 1; }
done

work=$(mktemp -d /tmp/automata-localnet-bench.XXXXXX)
cleanup() {
  scripts/localnet.sh stop --dir "$work/net" > /dev/null || true
  if [[ -n "${KEEP_LOGS:-}" ]]; then
    mkdir -p "$KEEP_LOGS" && cp "$work"/net/node*.log "$KEEP_LOGS"/ || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

AUTOMATAD="$bin/apps/automatad" scripts/localnet.sh start "$validators" --dir "$work/net" >&2

# The funded dev key goes into a fresh keyring as "dev" with the empty
# passphrase, where loadgen looks for it.
"$bin/apps/automata" --keyring-dir "$work/keyring" --no-passphrase \
  keys import dev "$(jq -r .secret_key "$work/net/dev.json")" > /dev/null

submit=()
for ((i = 0; i < validators; i++)); do
  laddr=$(awk '/^\[/ { in_rpc = ($0 == "[rpc]") }
               in_rpc && $1 == "laddr" { gsub(/"/, "", $3); print $3; exit }' "$work/net/node$i/config.toml")
  [[ $i == 0 ]] && first="http://$laddr"
  submit+=(--submit-node "http://$laddr")
done

echo "run_localnet_bench: $validators validators, $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p')), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$bin/bench/loadgen" --node "$first" --keyring-dir "$work/keyring" --connections "${CONNECTIONS:-$validators}" "${submit[@]}" "$@"
