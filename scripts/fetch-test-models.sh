#!/usr/bin/env bash
# Fetches the real model files that the modelfmt tests read, into
# tests/testdata/models/ (gitignored). Safe to run again: a file that is
# already there with the expected SHA-256 is left alone.
#
# silero_vad_legacy.onnx: the Silero VAD model as shipped in
# the npm package @ricky0123/vad-web@0.0.31, file dist/silero_vad_legacy.onnx.
# Requires npm (scripts/install-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

models_dir=tests/testdata/models
package="@ricky0123/vad-web@0.0.31"
member="package/dist/silero_vad_legacy.onnx"
target="$models_dir/silero_vad_legacy.onnx"
expected_sha256=a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28

sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

if [ -f "$target" ] && [ "$(sha256_of "$target")" = "$expected_sha256" ]; then
  echo "fetch-test-models: $target is present with the expected SHA-256"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-test-models: npm not found; run scripts/install-deps.sh first" >&2
  exit 1
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

echo "fetch-test-models: fetching $package with npm pack"
tarball=$(cd "$workdir" && npm pack --silent "$package" | tail -n 1)
tar -xzf "$workdir/$tarball" -C "$workdir" "$member"

actual_sha256=$(sha256_of "$workdir/$member")
if [ "$actual_sha256" != "$expected_sha256" ]; then
  echo "fetch-test-models: SHA-256 mismatch for $member from $package" >&2
  echo "  expected $expected_sha256" >&2
  echo "  actual   $actual_sha256" >&2
  echo "  The file was not installed." >&2
  exit 1
fi

mkdir -p "$models_dir"
mv "$workdir/$member" "$target"
echo "fetch-test-models: wrote $target"
