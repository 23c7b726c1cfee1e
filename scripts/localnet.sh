#!/usr/bin/env bash
# Runs a multi-validator Automata chain on this machine, every node on
# 127.0.0.1 in its own background process.
#
#   scripts/localnet.sh start [N] [--base-port P] [--dir DIR]
#   scripts/localnet.sh stop [--dir DIR]
#   scripts/localnet.sh status [--dir DIR]
#
# start writes N homes (default 4) with `automatad testnet` unless DIR
# already holds a localnet, then starts every node and waits for its RPC.
# Node i listens for RPC on P+2i and for P2P on P+2i+1. Without
# --base-port the script picks a range of 2N free loopback ports. Each
# node's pid goes to DIR/node<i>.pid and its output to DIR/node<i>.log.
# stop sends SIGTERM and, after STOP_TIMEOUT seconds (default 20), SIGKILL.
# status prints each node's height, peer count and catching_up flag.
#
# DIR defaults to ${TMPDIR:-/tmp}/automata-localnet. The automatad binary
# is $AUTOMATAD, else build/release/apps/automatad, else
# build/debug/apps/automatad.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  sed -n '5,7p' "$0" | sed 's/^# *//' >&2
  exit 2
}

die() {
  echo "localnet: $*" >&2
  exit 1
}

find_automatad() {
  if [[ -n "${AUTOMATAD:-}" ]]; then
    [[ -x "$AUTOMATAD" ]] || die "AUTOMATAD=$AUTOMATAD is not an executable file"
    echo "$AUTOMATAD"
    return
  fi
  for candidate in "$repo/build/release/apps/automatad" "$repo/build/debug/apps/automatad"; do
    if [[ -x "$candidate" ]]; then
      echo "$candidate"
      return
    fi
  done
  die "automatad not found: build it (cmake --build --preset release --target automatad) or set AUTOMATAD"
}

# Prints a base port B such that B .. B+count-1 can all be bound on
# 127.0.0.1 right now. Another process may still take one before the nodes
# start; the node then fails to bind and start reports it.
free_base_port() {
  local count=$1
  python3 - "$count" <<'EOF'
import random, socket, sys
count = int(sys.argv[1])
rng = random.Random()
for _ in range(200):
    base = rng.randrange(20000, 60000 - count)
    sockets = []
    try:
        for port in range(base, base + count):
            s = socket.socket()
            sockets.append(s)
            s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        for s in sockets:
            s.close()
    print(base)
    sys.exit(0)
sys.exit("no range of %d free loopback ports found in 200 tries" % count)
EOF
}

# The homes under DIR, in node order.
homes_of() {
  local dir=$1 i=0
  while [[ -f "$dir/node$i/config.toml" ]]; do
    echo "$dir/node$i"
    i=$((i + 1))
  done
}

# The value of laddr in the [rpc] table of a config.toml.
rpc_laddr_of() {
  awk '/^\[/ { in_rpc = ($0 == "[rpc]") }
       in_rpc && $1 == "laddr" { gsub(/"/, "", $3); print $3; exit }' "$1/config.toml"
}

is_running() {
  local pid_file=$1
  [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2> /dev/null
}

rpc_call() {
  local laddr=$1 method=$2
  curl -sf --max-time 5 -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":{}}" "http://$laddr/"
}

cmd_start() {
  local validators=4 base_port="" dir=$1
  shift
  while [[ $# -gt 0 ]]; do
    case $1 in
      --base-port) base_port=${2:?--base-port needs a port}; shift 2 ;;
      --dir) shift 2 ;;
      [0-9]*) validators=$1; shift ;;
      *) die "start: unknown argument '$1'" ;;
    esac
  done
  local automatad
  automatad=$(find_automatad)

  if [[ -f "$dir/node0/config.toml" ]]; then
    echo "localnet: reusing the localnet in $dir (its validator count and ports are kept)"
  else
    if [[ -z "$base_port" ]]; then
      base_port=$(free_base_port $((2 * validators)))
    fi
    mkdir -p "$dir"
    "$automatad" testnet --validators "$validators" --out "$dir" --base-port "$base_port"
  fi

  local home i=0 started=()
  for home in $(homes_of "$dir"); do
    if is_running "$dir/node$i.pid"; then
      echo "localnet: node$i already running (pid $(cat "$dir/node$i.pid"))"
    else
      "$automatad" start --home "$home" < /dev/null >> "$dir/node$i.log" 2>&1 &
      echo $! > "$dir/node$i.pid"
      started+=("$i")
    fi
    i=$((i + 1))
  done

  for i in "${started[@]}"; do
    local laddr up=0
    laddr=$(rpc_laddr_of "$dir/node$i")
    for _ in $(seq 1 100); do
      if ! is_running "$dir/node$i.pid"; then
        die "node$i exited during start-up; see $dir/node$i.log"
      fi
      if curl -sf --max-time 2 "http://$laddr/health" > /dev/null; then
        up=1
        break
      fi
      sleep 0.2
    done
    [[ $up == 1 ]] || die "node$i did not respond on http://$laddr/health within 20 s; see $dir/node$i.log"
    echo "localnet: node$i up: rpc http://$laddr, pid $(cat "$dir/node$i.pid"), log $dir/node$i.log"
  done
  echo "localnet: funded dev key in $dir/dev.json"
}

cmd_stop() {
  local dir=$1 timeout=${STOP_TIMEOUT:-20}
  local pid_file pids=()
  for pid_file in "$dir"/node*.pid; do
    [[ -f "$pid_file" ]] || continue
    if is_running "$pid_file"; then
      kill -TERM "$(cat "$pid_file")"
      pids+=("$pid_file")
    else
      rm -f "$pid_file"
    fi
  done
  local deadline=$((SECONDS + timeout))
  for pid_file in "${pids[@]}"; do
    while is_running "$pid_file" && [[ $SECONDS -lt $deadline ]]; do sleep 0.2; done
    if is_running "$pid_file"; then
      echo "localnet: $(basename "$pid_file" .pid) still running after ${timeout} s: sending SIGKILL" >&2
      kill -KILL "$(cat "$pid_file")" 2> /dev/null || true
    fi
    echo "localnet: stopped $(basename "$pid_file" .pid)"
    rm -f "$pid_file"
  done
  [[ ${#pids[@]} -gt 0 ]] || echo "localnet: no node running in $dir"
}

cmd_status() {
  local dir=$1 home i=0 found=0
  printf '%-6s %-22s %-8s %-7s %-11s %s\n' node rpc height peers catching_up state
  for home in $(homes_of "$dir"); do
    found=1
    local laddr reply
    laddr=$(rpc_laddr_of "$home")
    if reply=$(rpc_call "$laddr" node_status); then
      echo "$reply" | jq -r --arg node "node$i" --arg rpc "$laddr" \
        '.result | [$node, $rpc, .height, (.peers | length), .catching_up, "running"] | @tsv' |
        awk -F'\t' '{ printf "%-6s %-22s %-8s %-7s %-11s %s\n", $1, $2, $3, $4, $5, $6 }'
    elif is_running "$dir/node$i.pid"; then
      printf '%-6s %-22s %-8s %-7s %-11s %s\n' "node$i" "$laddr" - - - "not answering"
    else
      printf '%-6s %-22s %-8s %-7s %-11s %s\n' "node$i" "$laddr" - - - stopped
    fi
    i=$((i + 1))
  done
  [[ $found == 1 ]] || die "no localnet in $dir: run scripts/localnet.sh start first"
}

[[ $# -ge 1 ]] || usage
command=$1
shift
dir="${TMPDIR:-/tmp}/automata-localnet"
args=("$@")
for ((k = 0; k < ${#args[@]}; k++)); do
  if [[ ${args[k]} == --dir ]]; then
    dir=${args[k + 1]:?--dir needs a directory}
  fi
done

case $command in
  start) cmd_start "$dir" "$@" ;;
  stop) cmd_stop "$dir" ;;
  status) cmd_status "$dir" ;;
  *) usage ;;
esac
