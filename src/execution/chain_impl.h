// The Chain implementation, private to src/execution. Split over
// chain.cc (open, genesis, tip), chain_blocks.cc (Application) and
// chain_query.cc (ChainQuery).
#pragma once

#include "automata/crypto/keys.h"
#include "automata/execution/chain.h"
#include "automata/state/state_tree.h"
#include "automata/storage/database.h"
#include "automata/v1/block.pb.h"
#include "block_executor.h"
#include "verified_set.h"

#include <map>
#include <memory>
#include <mutex>

namespace automata::execution {

// kMeta keys.
inline constexpr std::string_view kMetaGenesisHash = "genesis_hash";
inline constexpr std::string_view kMetaLatestHeight = "latest_height";

// How many verified signatures check_tx remembers for block execution.
inline constexpr size_t kVerifiedSetCapacity = 200'000;

class ChainImpl final : public Chain {
 public:
  ChainImpl(const ChainOptions& options, const Genesis& genesis);

  // Opens the database and tree, then initializes from genesis or resumes.
  Status init();

  TxCheck check_tx(ByteView tx_bytes) override;
  Status prepare_block(const BlockContext& context, const std::vector<Bytes>& candidate_txs,
                       v1::Block* block) override;
  Status process_block(const v1::Block& block) override;
  Status finalize_block(const v1::Block& block) override;
  Status commit() override;
  uint64_t last_height() const override;
  Hash32 last_block_hash() const override;

  ChainStatus status() const override;
  Status block_by_height(uint64_t height, v1::Block* block) const override;
  Status block_by_hash(const Hash32& hash, v1::Block* block) const override;
  Status block_results(uint64_t height, v1::BlockResults* results) const override;
  Status tx_location(const Hash32& tx_hash, v1::TxLocation* location) const override;
  Status account(const Address& address, std::optional<uint64_t> height, v1::Account* account,
                 uint64_t* at_height) const override;
  Status state_proof(ByteView key, std::optional<uint64_t> height, std::optional<Bytes>* value,
                     state::StateProof* proof, uint64_t* at_height) const override;
  Status state_get(ByteView key, std::optional<Bytes>* value) const override;
  Status state_scan(ByteView prefix, ByteView after, size_t limit,
                    std::vector<std::pair<Bytes, Bytes>>* entries) const override;

  const Genesis& genesis() const override { return genesis_; }

 private:
  // The last committed block.
  struct Tip {
    uint64_t height = 0;
    Hash32 hash{};
    uint64_t time_ms = 0;
    Hash32 state_root{};
  };

  // An executed block waiting for finalize_block and commit.
  struct Execution {
    v1::Block block;
    Hash32 block_hash{};
    uint64_t height = 0;
    std::vector<Hash32> tx_hashes;
    std::vector<v1::TxResult> results;
    state::ChangeSet changes;
    Hash32 state_root{};
    std::unique_ptr<storage::WriteBatch> batch;  // contains the tree's writes
    uint64_t apply_id = 0;                       // which tree_->apply() filled batch
  };

  Status init_genesis();
  Status load_tip();
  Tip tip() const;
  uint64_t version_of(uint64_t height) const { return height + version_offset_; }

  ExecutorConfig executor_config();
  // Runs the txs and the tree apply for the next height.
  Status execute(const std::vector<ByteView>& txs, ExecutionMode mode, uint64_t height, Execution* out);
  Status apply_to_tree(Execution* execution);
  // Checks every header field that does not need execution, and the
  // proposer signature.
  Status check_header(const v1::Block& block, v1::BlockHeader* header, Hash32* hash) const;
  // Returns the cached execution of block, executing and checking it first
  // when there is none.
  Status execution_for(const v1::Block& block, Execution** out);
  // Resolves a query height to (height, tree version), or not_found naming
  // the readable range.
  Status resolve_height(std::optional<uint64_t> height, uint64_t* resolved) const;

  const ChainOptions options_;
  const Genesis genesis_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<state::StateTree> tree_;
  std::string validator_set_bytes_;
  Hash32 validator_set_hash_{};
  std::map<Address, crypto::PublicKey> validator_keys_;
  VerifiedSet verified_{kVerifiedSetCapacity};
  unsigned verify_threads_ = 1;
  // Tree version of height h is h + version_offset_: 0 when the tree
  // stores genesis at version 0, 1 when it must start at version 1.
  uint64_t version_offset_ = 0;

  // The block methods (prepare, process, finalize, commit) are called from
  // one thread, so these members need no lock.
  std::map<Hash32, std::unique_ptr<Execution>> executions_;  // by block hash
  std::unique_ptr<Execution> finalized_;
  uint64_t next_apply_id_ = 1;
  uint64_t last_apply_id_ = 0;

  mutable std::mutex tip_mutex_;
  Tip tip_;  // guarded by tip_mutex_
};

}  // namespace automata::execution
