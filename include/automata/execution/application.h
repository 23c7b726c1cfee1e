// The interface consensus drives, in the spirit of CometBFT's ABCI but
// in-process: check a tx, build a block, validate a proposed block,
// finalize it and commit it. The dev chain's block producer and (later)
// the BFT engine call the same methods. Consensus never sees a module.
#pragma once

#include "automata/execution/result_code.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace automata::v1 {
class Block;
class BlockHeader;
}  // namespace automata::v1

namespace automata::execution {

// What check_tx learned about a tx; the mempool orders by these fields.
struct TxCheck {
  ResultCode code = ResultCode::kOk;
  std::string log;        // why the tx was rejected, naming the value
  Hash32 hash{};          // SHA-256 of body_bytes
  Address sender{};
  uint64_t nonce = 0;
  uint64_t expected_nonce = 0;  // the account's next nonce in committed state
  uint64_t gas_limit = 0;
  uint64_t fee = 0;       // fee in atm (fits 64 bits or the check fails)
  size_t size_bytes = 0;
  uint64_t expiry_height = 0;  // the tx's last valid height; 0 for none
};

// Everything needed to build the next block other than the transactions.
struct BlockContext {
  uint64_t height = 0;
  uint64_t time_ms = 0;
  Address proposer{};
  // Serialized v1.DuplicateVoteEvidence items to include, already verified
  // by consensus. The header commits to them in evidence_root.
  std::vector<Bytes> evidence;
};

class Application {
 public:
  virtual ~Application() = default;

  // Runs the stateless check and the read-only precheck against the latest
  // committed state. A nonce above the account's next nonce returns
  // kNonceTooHigh, which the mempool may hold. Thread-safe.
  virtual TxCheck check_tx(ByteView tx_bytes) = 0;

  // Executes candidate txs in order on a scratch state and fills block with
  // the txs that may be included (rejected ones are dropped) and a complete
  // header except the proposer signature. The execution is cached, so a
  // following finalize_block of the same block does not run it again.
  virtual Status prepare_block(const BlockContext& context, const std::vector<Bytes>& candidate_txs,
                               v1::Block* block) = 0;

  // Checks a proposed block from another validator: header fields, tx root,
  // and that executing it yields the claimed state and results roots.
  virtual Status process_block(const v1::Block& block) = 0;

  // Executes block (or reuses the cached execution) so that commit() can
  // persist it. REQUIRES: the block's height is the next height.
  virtual Status finalize_block(const v1::Block& block) = 0;

  // Persists the finalized block, its results, the tx index and the new
  // state version in one synced atomic write.
  virtual Status commit() = 0;

  // The last committed height (0 before the first block) and header hash.
  virtual uint64_t last_height() const = 0;
  virtual Hash32 last_block_hash() const = 0;
};

}  // namespace automata::execution
