#include "block_executor.h"

#include "apply.h"
#include "automata/types/logging.h"
#include "precheck.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace automata::execution {

namespace {

// Decodes, checks and (unless check_tx already did) verifies the signature
// of every tx. Tx i is handled by worker i % workers, so each worker's
// share is spread over the block.
void check_all(const ExecutorConfig& config, const std::vector<ByteView>& txs, std::vector<DecodedTx>* decoded,
               std::vector<StageResult>* checks) {
  unsigned workers = std::max(1u, std::min<unsigned>(config.verify_threads, static_cast<unsigned>(txs.size())));
  auto work = [&](unsigned worker) {
    for (size_t i = worker; i < txs.size(); i += workers) {
      DecodedTx& tx = (*decoded)[i];
      StageResult& result = (*checks)[i];
      result = check_tx_shape(txs[i], config.chain_id, *config.params, &tx);
      if (!result.ok()) continue;
      if (config.verified != nullptr && config.verified->contains(tx.hash, tx.signature)) continue;
      result = check_tx_signature(tx);
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (unsigned w = 1; w < workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (std::thread& thread : threads) thread.join();
}

}  // namespace

Status execute_txs(const ExecutorConfig& config, uint64_t height, const std::vector<ByteView>& txs,
                   ExecutionMode mode, StateReader* base, ExecutedTxs* out) {
  *out = {};
  std::vector<DecodedTx> decoded(txs.size());
  std::vector<StageResult> checks(txs.size());
  check_all(config, txs, &decoded, &checks);

  auto log = logger("execution");
  CachingReader cache(base);
  Overlay block_state(&cache);
  uint64_t block_bytes = 0;
  for (size_t i = 0; i < txs.size(); ++i) {
    const DecodedTx& tx = decoded[i];
    StageResult rejection = checks[i];
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
        break;
      }
    }
    block_bytes += tx.size_bytes;

    ApplyOutcome outcome;
    Status status = apply_tx(tx, block_state, &outcome);
    if (!status.is_ok()) return status;

    v1::TxResult& result = out->results.emplace_back();
    result.set_tx_hash(tx.hash.data(), tx.hash.size());
    result.set_code(static_cast<uint32_t>(outcome.code));
    result.set_log(std::move(outcome.log));
    result.set_gas_used(outcome.gas_used);
    result.set_height(height);
    result.set_index(static_cast<uint32_t>(out->included.size()));
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
