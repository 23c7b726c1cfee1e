#!/usr/bin/env bash
# Code asset publish and commit against git on the same tree.
#   bench/code_bench.sh [BUILD_DIR]   (default: build/release)
# Generates a deterministic source tree of FILES files (default 2,000) and
# about TOTAL_BYTES bytes (default 10 MB) from SEED (default 42). Then it
# starts a fresh automatad dev node on a free loopback port in a temporary
# home and times, in the same run:
#   1. automata code publish of the tree
#   2. git init && git add -A && git commit of the same tree
#   3. ROUNDS times (default 5): a change touching CHANGED files (default 20)
#      in both trees, automata code commit of it, then git add -A && git
#      commit of it
# It prints every commit time, the two medians and the load average
# before and after the timed steps. The CLI's
# stat cache lives in the temporary home. COLD_CACHE=1 deletes it before the
# commit, so that the commit hashes every file and queries blobs_missing
# for every hash, as it did before the cache existed.
# Requires a release build of automatad and automata:
#   cmake --preset release && cmake --build --preset release
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release}
seed=${SEED:-42}
files=${FILES:-2000}
total_bytes=${TOTAL_BYTES:-10000000}
changed=${CHANGED:-20}
rounds=${ROUNDS:-5}

for tool in "$bin/apps/automatad" "$bin/apps/automata"; do
  [[ -x "$tool" ]] || { echo "error: $tool not found; build it first (see the header of $0)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/automata-code-bench.XXXXXX)
export AUTOMATA_CODE_CACHE_DIR="$work/code-cache"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AUTOMATA_KEYRING_DIR="$work/keyring" "$bin/apps/automatad" dev --home "$work/home" \
  --rpc-laddr "127.0.0.1:$port" --log-level warn > "$work/node.log" 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null || true; wait $node_pid 2>/dev/null || true; rm -rf "$work"' EXIT

# Source-like text: lines of words from a fixed vocabulary, chosen by a
# seeded generator, so every run writes the same bytes.
generate_tree() {
  python3 - "$1" "$seed" "$files" "$total_bytes" <<'PY'
import os, random, sys
root, seed, files, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
words = ("int auto const return if else for while struct class namespace std vector string size_t "
         "uint64_t status ok error value key hash block tx state node peer height").split()
average = total // files
for i in range(files):
    path = os.path.join(root, "module_%02d" % (i % 40), "sub_%d" % (i % 7), "file_%04d.cc" % i)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    size = rng.randint(average // 2, average * 3 // 2)
    lines, length = [], 0
    while length < size:
        line = "  " + " ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) + ";\n"
        lines.append(line)
        length += len(line)
    with open(path, "w") as f:
        f.write("".join(lines))
PY
}

# Appends a line to `changed` files spread over the tree.
change_tree() {
  python3 - "$1" "$files" "$changed" <<'PY'
import os, sys
root, files, changed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
step = max(1, files // changed)
for i in range(0, step * changed, step):
    path = os.path.join(root, "module_%02d" % (i % 40), "sub_%d" % (i % 7), "file_%04d.cc" % i)
    with open(path, "a") as f:
        f.write("  // changed by the benchmark\n")
PY
}

now() { date +%s.%N; }
elapsed() { python3 -c "print('%.3f' % ($2 - $1))"; }

generate_tree "$work/tree"
generate_tree "$work/git-tree"
echo "tree: $(find "$work/tree" -type f | wc -l) files, $(du -sb "$work/tree" | cut -f1) bytes (seed $seed)"

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
  sleep 0.1
done
cli=("$bin/apps/automata" --node "http://127.0.0.1:$port" --keyring-dir "$work/keyring")

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(now)
publish_out=$("${cli[@]}" code publish "$work/tree" --from dev --name bench --wait 2>"$work/publish.err")
end=$(now)
publish_s=$(elapsed "$start" "$end")
asset=$(sed -n 's/^asset \([0-9a-f]\{64\}\).*/\1/p' <<< "$publish_out")
[[ -n "$asset" ]] || { echo "error: publish printed no asset id:"; echo "$publish_out"; cat "$work/publish.err"; exit 1; } >&2

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost GIT_COMMITTER_NAME=bench \
  GIT_COMMITTER_EMAIL=bench@localhost
start=$(now)
(cd "$work/git-tree" && git init -q && git add -A && git commit -q -m initial)
end=$(now)
git_init_s=$(elapsed "$start" "$end")

# Each round changes the same files in both trees, commits with automata,
# then with git, so that both see the same machine state.
commit_times=()
git_times=()
for round in $(seq 1 "$rounds"); do
  change_tree "$work/tree"
  change_tree "$work/git-tree"
  [[ ${COLD_CACHE:-0} == 1 ]] && rm -rf "$AUTOMATA_CODE_CACHE_DIR"
  start=$(now)
  "${cli[@]}" code commit "$asset" "$work/tree" -m "change $changed files, round $round" --from dev --wait \
    > "$work/commit.out"
  end=$(now)
  commit_times+=("$(elapsed "$start" "$end")")
  start=$(now)
  (cd "$work/git-tree" && git add -A && git commit -q -m "change $changed files, round $round")
  end=$(now)
  git_times+=("$(elapsed "$start" "$end")")
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
commit_median=$(median "${commit_times[@]}")
git_median=$(median "${git_times[@]}")
ratio=$(python3 -c "print('%.2f' % ($commit_median / $git_median))")

echo "load average (1, 5, 15 min): ${load_before} before, ${load_after} after"
echo "automata code publish:             ${publish_s} s"
echo "git init + add + commit:           ${git_init_s} s"
echo "automata code commit ($changed files), stat cache $([[ ${COLD_CACHE:-0} == 1 ]] && echo cold || echo warm): ${commit_times[*]} s"
echo "git add + commit ($changed files):  ${git_times[*]} s"
echo "commit medians: automata ${commit_median} s, git ${git_median} s, ratio ${ratio}"
