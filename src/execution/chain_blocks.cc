#include "automata/crypto/bech32.h"
#include "automata/crypto/merkle.h"
#include "automata/crypto/sha256.h"
#include "automata/types/crash_point.h"
#include "automata/types/logging.h"
#include "chain_impl.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace automata::execution {

namespace {

std::string hash_bytes(const Hash32& hash) { return {hash.begin(), hash.end()}; }

Hash32 results_root(const std::vector<v1::TxResult>& results) {
  std::vector<Hash32> leaves;
  leaves.reserve(results.size());
  std::string buffer;
  for (const v1::TxResult& result : results) {
    buffer.clear();
    result.SerializeToString(&buffer);
    leaves.push_back(crypto::merkle_leaf_hash(as_view(buffer)));
  }
  return crypto::merkle_root_from_leaves(leaves);
}

template <typename Container>
Hash32 tx_root(const Container& txs) {
  std::vector<Hash32> leaves;
  leaves.reserve(txs.size());
  for (const auto& tx : txs) leaves.push_back(crypto::merkle_leaf_hash(as_view(tx)));
  return crypto::merkle_root_from_leaves(leaves);
}

// RFC 6962 root over the serialized evidence items, or empty bytes when
// there are none (BlockHeader.evidence_root).
std::string evidence_root(const google::protobuf::RepeatedPtrField<v1::DuplicateVoteEvidence>& evidence) {
  if (evidence.empty()) return {};
  std::vector<Hash32> leaves;
  leaves.reserve(evidence.size());
  std::string buffer;
  for (const v1::DuplicateVoteEvidence& item : evidence) {
    buffer.clear();
    item.SerializeToString(&buffer);
    leaves.push_back(crypto::merkle_leaf_hash(as_view(buffer)));
  }
  return hash_bytes(crypto::merkle_root_from_leaves(leaves));
}

}  // namespace

ExecutorConfig ChainImpl::executor_config() {
  return ExecutorConfig{genesis_.chain_id, &genesis_.params, &verified_, verify_threads_};
}

Status ChainImpl::apply_to_tree(Execution* execution) {
  execution->batch = std::make_unique<storage::WriteBatch>();
  Status status =
      tree_->apply(version_of(execution->height), execution->changes, *execution->batch, &execution->state_root);
  if (!status.is_ok()) return status;
  execution->apply_id = next_apply_id_++;
  last_apply_id_ = execution->apply_id;
  return Status::ok();
}

Status ChainImpl::execute(const std::vector<ByteView>& txs, ExecutionMode mode, uint64_t height, Execution* out) {
  TreeReader committed(tree_.get());
  ExecutorConfig config = executor_config();
  config.prefetch = &committed;
  ExecutedTxs executed;
  Status status = execute_txs(config, height, txs, mode, &committed, &executed);
  if (!status.is_ok()) return status;
  out->height = height;
  out->tx_hashes = std::move(executed.tx_hashes);
  out->results = std::move(executed.results);
  out->changes = std::move(executed.changes);
  out->block.clear_txs();
  for (size_t index : executed.included) out->block.add_txs(txs[index].data(), txs[index].size());
  return apply_to_tree(out);
}

Status ChainImpl::prepare_block(const BlockContext& context, const std::vector<Bytes>& candidate_txs,
                                v1::Block* block) {
  Tip last = tip();
  if (context.height != last.height + 1) {
    return Status::invalid_argument(
        fmt::format("block height {} is not the next height {}", context.height, last.height + 1));
  }
  if (context.time_ms <= last.time_ms) {
    return Status::invalid_argument(
        fmt::format("block time {} ms is not after the previous block time {} ms", context.time_ms, last.time_ms));
  }
  if (!validator_keys_.contains(context.proposer)) {
    return Status::invalid_argument(
        fmt::format("proposer {} is not in the validator set", crypto::encode_address(context.proposer)));
  }

  std::vector<ByteView> txs(candidate_txs.begin(), candidate_txs.end());
  auto execution = std::make_unique<Execution>();
  Status status = execute(txs, ExecutionMode::kPrepare, context.height, execution.get());
  if (!status.is_ok()) return status;

  v1::BlockHeader header;
  header.set_chain_id(genesis_.chain_id);
  header.set_height(context.height);
  header.set_time_ms(context.time_ms);
  header.set_prev_hash(hash_bytes(last.hash));
  header.set_tx_root(hash_bytes(tx_root(execution->block.txs())));
  header.set_state_root(hash_bytes(execution->state_root));
  header.set_proposer(context.proposer.data(), context.proposer.size());
  header.set_validator_set_hash(hash_bytes(validator_set_hash_));
  header.set_tx_count(static_cast<uint32_t>(execution->block.txs_size()));
  header.set_results_root(hash_bytes(results_root(execution->results)));
  for (size_t i = 0; i < context.evidence.size(); ++i) {
    const Bytes& item = context.evidence[i];
    if (!execution->block.add_evidence()->ParseFromArray(item.data(), static_cast<int>(item.size()))) {
      return Status::invalid_argument(
          fmt::format("evidence item {} ({} bytes) does not parse as automata.v1.DuplicateVoteEvidence", i, item.size()));
    }
  }
  header.set_evidence_root(evidence_root(execution->block.evidence()));
  header.SerializeToString(execution->block.mutable_header_bytes());
  execution->block_hash = crypto::sha256(as_view(execution->block.header_bytes()));

  *block = execution->block;
  logger("chain")->debug("prepared block {} at height {} with {} of {} candidate txs", to_hex(execution->block_hash),
                         context.height, block->txs_size(), candidate_txs.size());
  executions_[execution->block_hash] = std::move(execution);
  return Status::ok();
}

Status ChainImpl::check_header(const v1::Block& block, v1::BlockHeader* header, Hash32* hash) const {
  if (!header->ParseFromString(block.header_bytes())) {
    return Status::invalid_argument(
        fmt::format("header_bytes ({} bytes) do not parse as automata.v1.BlockHeader", block.header_bytes().size()));
  }
  *hash = crypto::sha256(as_view(block.header_bytes()));
  Tip last = tip();
  if (header->chain_id() != genesis_.chain_id) {
    return Status::invalid_argument(
        fmt::format("block chain id '{}' is not '{}'", header->chain_id(), genesis_.chain_id));
  }
  if (header->height() != last.height + 1) {
    return Status::invalid_argument(
        fmt::format("block height {} is not the next height {}", header->height(), last.height + 1));
  }
  if (header->prev_hash() != hash_bytes(last.hash)) {
    return Status::invalid_argument(fmt::format("prev_hash {} is not the last block hash {}",
                                                to_hex(as_view(header->prev_hash())), to_hex(last.hash)));
  }
  if (header->time_ms() <= last.time_ms) {
    return Status::invalid_argument(fmt::format("block time {} ms is not after the previous block time {} ms",
                                                header->time_ms(), last.time_ms));
  }
  if (header->validator_set_hash() != hash_bytes(validator_set_hash_)) {
    return Status::invalid_argument(fmt::format("validator_set_hash {} is not the current set's hash {}",
                                                to_hex(as_view(header->validator_set_hash())),
                                                to_hex(validator_set_hash_)));
  }
  if (header->tx_count() != static_cast<uint32_t>(block.txs_size())) {
    return Status::invalid_argument(
        fmt::format("header tx_count {} does not match the {} txs in the block", header->tx_count(), block.txs_size()));
  }
  Hash32 root = tx_root(block.txs());
  if (header->tx_root() != hash_bytes(root)) {
    return Status::invalid_argument(fmt::format("header tx_root {} does not match the txs' root {}",
                                                to_hex(as_view(header->tx_root())), to_hex(root)));
  }
  std::string evidence = evidence_root(block.evidence());
  if (header->evidence_root() != evidence) {
    return Status::invalid_argument(fmt::format(
        "header evidence_root '{}' does not match the root '{}' of the block's {} evidence items",
        to_hex(as_view(header->evidence_root())), to_hex(as_view(evidence)), block.evidence_size()));
  }

  auto proposer = to_array<20>(as_view(header->proposer()));
  auto key = proposer ? validator_keys_.find(*proposer) : validator_keys_.end();
  if (key == validator_keys_.end()) {
    return Status::invalid_argument(
        fmt::format("proposer {} is not in the validator set", to_hex(as_view(header->proposer()))));
  }
  if (!crypto::verify(ByteView(key->second), ByteView(*hash), as_view(block.proposer_signature()))) {
    return Status::invalid_argument(fmt::format("proposer signature does not verify for block {} by {}",
                                                to_hex(*hash), crypto::encode_address(*proposer)));
  }
  return Status::ok();
}

Status ChainImpl::execution_for(const v1::Block& block, Execution** out) {
  v1::BlockHeader header;
  Hash32 hash{};
  Status status = check_header(block, &header, &hash);
  if (!status.is_ok()) return status;

  auto cached = executions_.find(hash);
  if (cached != executions_.end() && cached->second->block.header_bytes() == block.header_bytes()) {
    Execution* execution = cached->second.get();
    execution->block.set_proposer_signature(block.proposer_signature());
    *out = execution;
    return Status::ok();
  }

  std::vector<ByteView> txs;
  txs.reserve(static_cast<size_t>(block.txs_size()));
  for (const std::string& tx : block.txs()) txs.push_back(as_view(tx));
  auto execution = std::make_unique<Execution>();
  status = execute(txs, ExecutionMode::kValidate, header.height(), execution.get());
  if (!status.is_ok()) return status;
  if (header.state_root() != hash_bytes(execution->state_root)) {
    return Status::invalid_argument(fmt::format("block {} claims state root {} but executing it gives {}",
                                                to_hex(hash), to_hex(as_view(header.state_root())),
                                                to_hex(execution->state_root)));
  }
  Hash32 results = results_root(execution->results);
  if (header.results_root() != hash_bytes(results)) {
    return Status::invalid_argument(fmt::format("block {} claims results root {} but executing it gives {}",
                                                to_hex(hash), to_hex(as_view(header.results_root())),
                                                to_hex(results)));
  }
  execution->block = block;
  execution->block_hash = hash;
  *out = execution.get();
  executions_[hash] = std::move(execution);
  return Status::ok();
}

Status ChainImpl::process_block(const v1::Block& block) {
  Execution* execution = nullptr;
  Status status = execution_for(block, &execution);
  if (!status.is_ok()) {
    logger("chain")->warn("rejected proposed block at height {}: {}", last_height() + 1, status.to_string());
  }
  return status;
}

Status ChainImpl::finalize_block(const v1::Block& block) {
  Execution* execution = nullptr;
  Status status = execution_for(block, &execution);
  if (!status.is_ok()) {
    logger("chain")->error("cannot finalize block at height {}: {}", last_height() + 1, status.to_string());
    return status;
  }
  // The tree keeps only its latest apply(); redo it when another block was
  // executed after this one.
  if (execution->apply_id != last_apply_id_) {
    Hash32 previous_root = execution->state_root;
    status = apply_to_tree(execution);
    if (!status.is_ok()) return status;
    if (execution->state_root != previous_root) {
      return Status::corruption(fmt::format("re-applying block {} gave state root {} instead of {}",
                                            to_hex(execution->block_hash), to_hex(execution->state_root),
                                            to_hex(previous_root)));
    }
  }
  finalized_ = std::move(executions_[execution->block_hash]);
  executions_.clear();
  return Status::ok();
}

Status ChainImpl::commit() {
  if (!finalized_) return Status::invalid_argument("commit called without a finalized block");
  Execution& execution = *finalized_;
  storage::WriteBatch& batch = *execution.batch;
  Bytes height_key = storage::encode_height(execution.height);

  std::string buffer;
  execution.block.SerializeToString(&buffer);
  batch.put(storage::Column::kBlocks, height_key, as_view(buffer));
  batch.put(storage::Column::kBlockHashes, execution.block_hash, height_key);

  v1::BlockResults results;
  for (v1::TxResult& result : execution.results) *results.add_results() = std::move(result);
  results.SerializeToString(&buffer);
  batch.put(storage::Column::kResults, height_key, as_view(buffer));

  // Tx hashes come in block order, which is random in key order. Put in
  // key order, each memtable insert starts from where the previous one
  // ended instead of searching the whole skiplist.
  std::vector<std::pair<Hash32, uint32_t>> index_entries;
  index_entries.reserve(execution.tx_hashes.size());
  for (size_t i = 0; i < execution.tx_hashes.size(); ++i) {
    index_entries.emplace_back(execution.tx_hashes[i], static_cast<uint32_t>(i));
  }
  std::sort(index_entries.begin(), index_entries.end());
  v1::TxLocation location;
  location.set_height(execution.height);
  for (const auto& [hash, index] : index_entries) {
    location.set_index(index);
    location.SerializeToString(&buffer);
    batch.put(storage::Column::kTxIndex, hash, as_view(buffer));
  }
  batch.put(storage::Column::kMeta, as_view(kMetaLatestHeight), height_key);

  crash_point(kCrashBeforeBlockWrite);
  Status status = db_->write(batch, true);
  if (status.is_ok()) crash_point(kCrashAfterBlockWrite);
  if (!status.is_ok()) {
    logger("chain")->error("commit of block {} at height {} failed: {}", to_hex(execution.block_hash),
                           execution.height, status.to_string());
    return status;
  }
  tree_->commit_applied();

  v1::BlockHeader header;
  header.ParseFromString(execution.block.header_bytes());
  {
    std::lock_guard<std::mutex> lock(tip_mutex_);
    tip_ = Tip{execution.height, execution.block_hash, header.time_ms(), execution.state_root};
  }
  logger("chain")->info("committed block {} at height {} with {} txs", to_hex(execution.block_hash),
                        execution.height, execution.tx_hashes.size());
  const uint64_t height = execution.height;
  finalized_.reset();

  // Pruning writes its own small batch; losing it in a crash only delays
  // pruning until the next commit.
  storage::WriteBatch prune_batch;
  status = tree_->prune(prune_batch);
  if (status.is_ok() && prune_batch.count() > 0) status = db_->write(prune_batch, false);
  if (!status.is_ok()) logger("chain")->warn("pruning state after height {} failed: {}", height, status.to_string());
  return Status::ok();
}

}  // namespace automata::execution
