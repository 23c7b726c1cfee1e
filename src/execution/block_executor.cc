#include "block_executor.h"

#include "apply.h"
#include "automata/types/logging.h"
#include "automata/types/state_keys.h"
#include "precheck.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>

namespace automata::execution {

namespace {

// Reads the committed accounts of the sender and of every recipient into
// tx.prefetched. A failed read is left out, so apply reads
// the key again and reports the error. REQUIRES: the shape check passed.
void prefetch_accounts(StateReader& state, DecodedTx* tx) {
  std::vector<Address> addresses{tx->sender};
  auto add = [&](const std::string& to) {
    Address address{};
    std::copy_n(to.begin(), address.size(), address.begin());
    addresses.push_back(address);
  };
  for (const v1::Op& op : tx->body.ops()) {
    if (op.has_transfer()) add(op.transfer().to());
    if (op.has_multi_send()) {
      for (const v1::Output& output : op.multi_send().outputs()) add(output.to());
    }
  }
  tx->prefetched.reserve(addresses.size());
  for (const Address& address : addresses) {
    Bytes key = keys::account(address);
    std::optional<Bytes> value;
    if (!state.get(key, &value).is_ok()) continue;
    tx->prefetched.emplace_back(std::move(key), std::move(value));
  }
}

// Txs per unit of check work. Large enough that claiming and signalling a
// chunk costs little next to the tens of microseconds of signature check
// per tx, small enough that apply can start soon after the block does.
constexpr size_t kCheckChunk = 32;

// Decodes, checks and (unless check_tx already did) verifies the signature
// of every tx, in chunks claimed in block order, while the applying thread
// consumes the results in order. Helper threads start once per block and
// never wait on each other. The applying thread checks chunks itself when
// the tx it needs is not ready, so both cores stay busy until apply can
// proceed. check_tx_shape and check_tx_signature are pure, so the results
// do not depend on which thread checked a tx.
class CheckPipeline {
 public:
  CheckPipeline(const ExecutorConfig& config, const std::vector<ByteView>& txs)
      : config_(config),
        txs_(txs),
        decoded_(txs.size()),
        checks_(txs.size()),
        chunk_count_((txs.size() + kCheckChunk - 1) / kCheckChunk),
        chunk_done_(std::make_unique<std::atomic<bool>[]>(chunk_count_)) {
    unsigned threads = std::max(1u, config.verify_threads);
    size_t helpers = std::min<size_t>(threads - 1, chunk_count_ > 0 ? chunk_count_ - 1 : 0);
    helpers_.reserve(helpers);
    for (size_t h = 0; h < helpers; ++h) {
      helpers_.emplace_back([this] {
        while (check_next_chunk()) {
        }
      });
    }
  }

  CheckPipeline(const CheckPipeline&) = delete;
  CheckPipeline& operator=(const CheckPipeline&) = delete;

  // Stops handing out chunks and joins the helpers.
  ~CheckPipeline() {
    stop();
    for (std::thread& thread : helpers_) thread.join();
  }

  // Blocks until tx i is checked, checking unclaimed chunks meanwhile.
  void wait_for(size_t i) {
    std::atomic<bool>& done = chunk_done_[i / kCheckChunk];
    while (!done.load(std::memory_order_acquire)) {
      if (!check_next_chunk()) done.wait(false, std::memory_order_acquire);
    }
  }

  // Stops handing out chunks, so unclaimed ones stay unchecked. Call it
  // once no more txs are needed.
  void stop() { next_chunk_.store(chunk_count_, std::memory_order_relaxed); }

  DecodedTx& decoded(size_t i) { return decoded_[i]; }
  const StageResult& check(size_t i) const { return checks_[i]; }

 private:
  // Claims the next chunk and checks it. Returns false when none is left.
  bool check_next_chunk() {
    size_t chunk = next_chunk_.fetch_add(1, std::memory_order_relaxed);
    if (chunk >= chunk_count_) return false;
    size_t end = std::min(txs_.size(), (chunk + 1) * kCheckChunk);
    for (size_t i = chunk * kCheckChunk; i < end; ++i) check_one(i);
    chunk_done_[chunk].store(true, std::memory_order_release);
    chunk_done_[chunk].notify_all();
    return true;
  }

  void check_one(size_t i) {
    DecodedTx& tx = decoded_[i];
    StageResult& result = checks_[i];
    result = check_tx_shape(txs_[i], config_.chain_id, *config_.params, config_.verified, &tx);
    if (!result.ok()) return;
    if (config_.prefetch != nullptr) prefetch_accounts(*config_.prefetch, &tx);
    if (tx.signature_verified) return;
    result = check_tx_signature(tx);
  }

  const ExecutorConfig& config_;
  const std::vector<ByteView>& txs_;
  // Entry i is written only by the thread that claimed its chunk, and read
  // by the applying thread after that chunk's done flag is set.
  std::vector<DecodedTx> decoded_;
  std::vector<StageResult> checks_;
  const size_t chunk_count_;
  std::unique_ptr<std::atomic<bool>[]> chunk_done_;
  std::atomic<size_t> next_chunk_{0};
  std::vector<std::thread> helpers_;
};

}  // namespace

Status execute_txs(const ExecutorConfig& config, uint64_t height, const std::vector<ByteView>& txs,
                   ExecutionMode mode, StateReader* base, ExecutedTxs* out) {
  *out = {};
  out->included.reserve(txs.size());
  out->tx_hashes.reserve(txs.size());
  out->results.reserve(txs.size());
  CheckPipeline checks(config, txs);

  auto log = logger("execution");
  CachingReader cache(base);
  // Most txs read a sender and one recipient.
  cache.reserve(2 * txs.size());
  Overlay block_state(&cache);
  uint64_t block_bytes = 0;
  for (size_t i = 0; i < txs.size(); ++i) {
    checks.wait_for(i);
    DecodedTx& tx = checks.decoded(i);
    StageResult rejection = checks.check(i);
    for (auto& [key, value] : tx.prefetched) cache.seed(std::move(key), std::move(value));
    uint64_t expected_nonce = 0;
    if (rejection.ok()) {
      Status status = precheck_tx(tx, block_state, height, *config.params, &rejection, &expected_nonce);
      if (!status.is_ok()) return status;
    }
    if (!rejection.ok()) {
      if (mode == ExecutionMode::kValidate) {
        return Status::invalid_argument(fmt::format("tx {} at index {} is rejected with {}: {}", to_hex(tx.hash), i,
                                                    result_code_name(rejection.code), rejection.log));
      }
      log->debug("height {}: dropped candidate tx {} ({}): {}", height, to_hex(tx.hash),
                 result_code_name(rejection.code), rejection.log);
      continue;
    }
    if (mode == ExecutionMode::kPrepare) {
      if (out->included.size() >= config.params->max_block_txs ||
          block_bytes + tx.size_bytes > config.params->max_block_bytes) {
        checks.stop();
        break;
      }
    }
    block_bytes += tx.size_bytes;

    ApplyOutcome outcome;
    Status status = apply_tx(tx, block_state, height, &outcome);
    if (!status.is_ok()) return status;

    v1::TxResult& result = out->results.emplace_back();
    result.set_tx_hash(tx.hash.data(), tx.hash.size());
    result.set_code(static_cast<uint32_t>(outcome.code));
    result.set_log(std::move(outcome.log));
    result.set_gas_used(outcome.gas_used);
    result.set_height(height);
    result.set_index(static_cast<uint32_t>(out->included.size()));
    for (v1::CreatedObject& created : outcome.created) *result.add_created() = std::move(created);
    out->included.push_back(i);
    out->tx_hashes.push_back(tx.hash);
  }
  if (mode == ExecutionMode::kValidate) {
    if (out->included.size() > config.params->max_block_txs) {
      return Status::invalid_argument(fmt::format("block has {} txs; the maximum is {}", out->included.size(),
                                                  config.params->max_block_txs));
    }
    if (block_bytes > config.params->max_block_bytes) {
      return Status::invalid_argument(fmt::format("block txs total {} bytes; the maximum is {}", block_bytes,
                                                  config.params->max_block_bytes));
    }
  }
  out->changes = block_state.take_writes();
  return Status::ok();
}

}  // namespace automata::execution
