#!/usr/bin/env bash
# Consensus throughput: starts a fresh 4-validator localnet on loopback
# (scripts/localnet.sh) in a temporary directory, loads it with
# bench/loadgen with submissions spread over all four nodes, prints the
# result and stops the nodes.
#   bench/run_localnet_bench.sh [loadgen options...]
# BUILD_DIR (default build/release) must hold apps/automatad, apps/automata
# and bench/loadgen, e.g. from
#   cmake --preset release && cmake --build --preset release
# VALIDATORS sets the number of nodes (default 4) and CONNECTIONS the
# number of submission connections (default one per node).
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

echo "run_localnet_bench: $validators validators, $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p'))" >&2
"$bin/bench/loadgen" --node "$first" --keyring-dir "$work/keyring" --connections "${CONNECTIONS:-$validators}" "${submit[@]}" "$@"
