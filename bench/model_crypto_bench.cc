// Throughput of model fragment encryption over 1 MiB fragments (the size the
// CLI uses by default): seal_fragment, open_fragment, and SHA-256 of the same
// bytes for comparison. Google Benchmark reports bytes_per_second over the
// plaintext size, divided by CPU time (its default), so the rate holds on a
// shared machine where wall time (the Time column) runs longer.
//
// Usage: model_crypto_bench [--benchmark_* flags]
#include "automata/crypto/aead.h"
#include "automata/crypto/model_content.h"
#include "automata/crypto/sha256.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>

using namespace automata;

namespace {

constexpr size_t kFragmentSize = size_t{1} << 20;

void BM_SealFragment(benchmark::State& state) {
  const Bytes key = crypto::random_bytes(32);
  const Bytes model_id = crypto::random_bytes(32);
  const Bytes plaintext = crypto::random_bytes(kFragmentSize);
  uint64_t index = 0;
  for (auto _ : state) {
    Bytes sealed = crypto::seal_fragment(key, model_id, index++, plaintext);
    benchmark::DoNotOptimize(sealed.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kFragmentSize));
}

void BM_OpenFragment(benchmark::State& state) {
  const Bytes key = crypto::random_bytes(32);
  const Bytes model_id = crypto::random_bytes(32);
  const Bytes sealed = crypto::seal_fragment(key, model_id, 7, crypto::random_bytes(kFragmentSize));
  for (auto _ : state) {
    std::optional<Bytes> opened = crypto::open_fragment(key, model_id, 7, sealed);
    if (!opened) {
      state.SkipWithError("open_fragment rejected a fragment it had just sealed");
      break;
    }
    benchmark::DoNotOptimize(opened->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kFragmentSize));
}

void BM_Sha256Fragment(benchmark::State& state) {
  const Bytes data = crypto::random_bytes(kFragmentSize);
  for (auto _ : state) {
    Hash32 digest = crypto::sha256(data);
    benchmark::DoNotOptimize(digest.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kFragmentSize));
}

}  // namespace

BENCHMARK(BM_SealFragment)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenFragment)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sha256Fragment)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
