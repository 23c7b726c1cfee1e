#!/usr/bin/env bash
# Model register, upload and fetch of a synthetic safetensors file against
# sha256sum of the same file.
#   bench/model_bench.sh [BUILD_DIR]   (default: build/release)
# Writes a safetensors file of about SIZE_MB MiB (default 1024) of
# pseudo-random F16 weights, starts a fresh automatad dev node on a free
# loopback port in a temporary home, and times in the same run:
#   1. sha256sum of the file
#   2. automata model register --no-upload (read the header, encrypt every
#      fragment into the spool, hash, submit and wait for inclusion)
#   3. automata model upload (every fragment with its audit path)
#   4. automata model fetch (verify, decrypt, hash) into a new file
# and prints MB/s for each, with the load average before and after (the
# machine may be shared). Upload and fetch use the node's fragment bytes
# routes (docs/rpc.md, "Fragment bytes over HTTP"). Requires a release build of automatad and
# automata: cmake --preset release && cmake --build --preset release
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release}
size_mb=${SIZE_MB:-1024}

for tool in "$bin/apps/automatad" "$bin/apps/automata"; do
  [[ -x "$tool" ]] || { echo "error: $tool not found; build it first (see the header of $0)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/automata-model-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AUTOMATA_KEYRING_DIR="$work/keyring" "$bin/apps/automatad" dev --home "$work/home" \
  --rpc-laddr "127.0.0.1:$port" --log-level warn > "$work/node.log" 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null || true; wait $node_pid 2>/dev/null || true; rm -rf "$work"' EXIT

# A valid safetensors file: an 8-byte little-endian header length, a JSON
# header of 1-D F16 tensors of 64 MiB each (the last one shorter), then the
# tensor data, filled from /dev/urandom in 64 MiB blocks.
python3 - "$work/model.safetensors" "$size_mb" <<'PY'
import json, os, struct, sys
path, size_mb = sys.argv[1], int(sys.argv[2])
total = size_mb << 20
chunk = 64 << 20
header, offset, i = {}, 0, 0
while offset < total:
    n = min(chunk, total - offset)
    header["layer_%04d.weight" % i] = {"dtype": "F16", "shape": [n // 2], "data_offsets": [offset, offset + n]}
    offset += n
    i += 1
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    left = total
    while left:
        n = min(chunk, left)
        f.write(os.urandom(n))
        left -= n
PY
bytes=$(stat -c %s "$work/model.safetensors")
echo "file: $bytes bytes"

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
  sleep 0.1
done
cli=("$bin/apps/automata" --node "http://127.0.0.1:$port" --keyring-dir "$work/keyring" --no-passphrase)

now() { date +%s.%N; }
rate() { python3 -c "import sys; s=$2-$1; print('%8.3f s  %8.1f MB/s' % (s, $3 / s / 1e6))"; }

# Read the file once so every step starts from the page cache.
cat "$work/model.safetensors" > /dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

start=$(now)
sha256sum "$work/model.safetensors" > /dev/null
end=$(now)
echo "sha256sum:               $(rate "$start" "$end" "$bytes")"

start=$(now)
register_out=$("${cli[@]}" model register "$work/model.safetensors" --from dev --no-upload -o json)
end=$(now)
echo "model register (encrypt): $(rate "$start" "$end" "$bytes")"
model=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<< "$register_out")

start=$(now)
"${cli[@]}" model upload "$model" --from dev > /dev/null
end=$(now)
echo "model upload:            $(rate "$start" "$end" "$bytes")"

start=$(now)
"${cli[@]}" model fetch "$model" --from dev --out "$work/fetched.safetensors" > /dev/null
end=$(now)
echo "model fetch:             $(rate "$start" "$end" "$bytes")"

echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
cmp "$work/model.safetensors" "$work/fetched.safetensors" && echo "fetched file matches"
