// Runs a block's txs through the four stages: check and signature
// verification in parallel chunks, consumed in block order by precheck,
// apply and the invariants on one thread over a block overlay, so apply
// overlaps the checks of later txs.
#pragma once

#include "automata/execution/genesis.h"
#include "automata/execution/overlay.h"
#include "automata/v1/block.pb.h"
#include "check.h"
#include "verified_set.h"

#include <vector>

namespace automata::execution {

enum class ExecutionMode {
  // Building our own block: txs rejected by check or precheck are dropped.
  kPrepare,
  // Checking someone's block: any rejected tx makes the block invalid.
  kValidate,
};

struct ExecutorConfig {
  std::string_view chain_id;
  const ChainParameters* params = nullptr;
  VerifiedSet* verified = nullptr;
  unsigned verify_threads = 1;
  // The committed state, read by the check threads to prefetch the
  // accounts each tx reads; nullptr skips prefetching. Must be safe to read
  // from several threads and return what execute_txs's base returns.
  StateReader* prefetch = nullptr;
};

struct ExecutedTxs {
  std::vector<size_t> included;         // indexes into the input, in block order
  std::vector<Hash32> tx_hashes;        // one per included tx
  std::vector<v1::TxResult> results;    // one per included tx
  state::ChangeSet changes;             // the block overlay's writes
};

// Executes txs at height over base (the latest committed state). In
// kPrepare mode stops adding txs once max_block_txs or max_block_bytes is
// reached. Returns invalid_argument naming the tx index, code and log for a
// rejected tx in kValidate mode, and the storage error when state cannot be
// read.
Status execute_txs(const ExecutorConfig& config, uint64_t height, const std::vector<ByteView>& txs,
                   ExecutionMode mode, StateReader* base, ExecutedTxs* out);

}  // namespace automata::execution
