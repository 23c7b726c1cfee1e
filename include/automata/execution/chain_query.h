// Read access to committed chain data for RPC. Modules and RPC never touch
// RocksDB directly; they go through this interface. Thread-safe: every
// method may be called from any thread while blocks are being committed.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace automata::v1 {
class Account;
class Block;
class BlockResults;
class TxLocation;
}  // namespace automata::v1

namespace automata::state {
struct StateProof;
}  // namespace automata::state

namespace automata::execution {

struct ChainStatus {
  std::string chain_id;
  uint64_t height = 0;           // last committed height, 0 before block 1
  Hash32 block_hash{};           // hash of that block's header, zero at 0
  uint64_t block_time_ms = 0;
  Hash32 state_root{};
  uint64_t earliest_state_height = 0;  // oldest height whose state is kept
};

class ChainQuery {
 public:
  virtual ~ChainQuery() = default;

  virtual ChainStatus status() const = 0;

  // not_found when no block has that height or hash.
  virtual Status block_by_height(uint64_t height, v1::Block* block) const = 0;
  virtual Status block_by_hash(const Hash32& hash, v1::Block* block) const = 0;
  virtual Status block_results(uint64_t height, v1::BlockResults* results) const = 0;

  // Where a committed tx sits; not_found when it was never committed.
  virtual Status tx_location(const Hash32& tx_hash, v1::TxLocation* location) const = 0;

  // The account at a height (latest when nullopt). An address never seen
  // yields an empty account (nonce 0, no balances) and ok. Returns
  // not_found when the height is above the chain or already pruned, with
  // the retained range in the message. at_height receives the height read.
  virtual Status account(const Address& address, std::optional<uint64_t> height, v1::Account* account,
                         uint64_t* at_height) const = 0;

  // Raw state value and its proof at a height (latest when nullopt).
  virtual Status state_proof(ByteView key, std::optional<uint64_t> height, std::optional<Bytes>* value,
                             state::StateProof* proof, uint64_t* at_height) const = 0;

  // Latest committed value of a raw state key, without a proof; nullopt
  // when absent. The default returns unavailable.
  virtual Status state_get(ByteView key, std::optional<Bytes>* value) const {
    (void)key;
    value->reset();
    return Status::unavailable("this chain does not serve raw state reads");
  }

  // Up to limit latest committed entries whose keys start with prefix and
  // sort strictly after `after` (or from the first such key when after is
  // empty), in key order. The default returns unavailable.
  virtual Status state_scan(ByteView prefix, ByteView after, size_t limit,
                            std::vector<std::pair<Bytes, Bytes>>* entries) const {
    (void)prefix;
    (void)after;
    (void)limit;
    entries->clear();
    return Status::unavailable("this chain does not serve state scans");
  }
};

}  // namespace automata::execution
