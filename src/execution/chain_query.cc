#include "automata/crypto/bech32.h"
#include "automata/modules/bank/bank.h"
#include "automata/types/state_keys.h"
#include "automata/v1/state.pb.h"
#include "chain_impl.h"

#include <fmt/format.h>

namespace automata::execution {

ChainStatus ChainImpl::status() const {
  Tip last = tip();
  ChainStatus status;
  status.chain_id = genesis_.chain_id;
  status.height = last.height;
  status.block_hash = last.hash;
  status.block_time_ms = last.time_ms;
  status.state_root = last.state_root;
  uint64_t oldest = tree_->oldest_version();
  status.earliest_state_height = oldest > version_offset_ ? oldest - version_offset_ : 0;
  return status;
}

Status ChainImpl::block_by_height(uint64_t height, v1::Block* block) const {
  Bytes value;
  Status status = db_->get(storage::Column::kBlocks, storage::encode_height(height), &value);
  if (status.is_not_found()) return Status::not_found(fmt::format("no block at height {}", height));
  if (!status.is_ok()) return status;
  if (!block->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Status::corruption(fmt::format("stored block at height {} does not parse", height));
  }
  return Status::ok();
}

Status ChainImpl::block_by_hash(const Hash32& hash, v1::Block* block) const {
  Bytes height;
  Status status = db_->get(storage::Column::kBlockHashes, hash, &height);
  if (status.is_not_found()) return Status::not_found(fmt::format("no block with hash {}", to_hex(hash)));
  if (!status.is_ok()) return status;
  return block_by_height(storage::decode_height(height), block);
}

Status ChainImpl::block_results(uint64_t height, v1::BlockResults* results) const {
  Bytes value;
  Status status = db_->get(storage::Column::kResults, storage::encode_height(height), &value);
  if (status.is_not_found()) return Status::not_found(fmt::format("no results for height {}", height));
  if (!status.is_ok()) return status;
  if (!results->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Status::corruption(fmt::format("stored results at height {} do not parse", height));
  }
  return Status::ok();
}

Status ChainImpl::tx_location(const Hash32& tx_hash, v1::TxLocation* location) const {
  Bytes value;
  Status status = db_->get(storage::Column::kTxIndex, tx_hash, &value);
  if (status.is_not_found()) return Status::not_found(fmt::format("no committed tx with hash {}", to_hex(tx_hash)));
  if (!status.is_ok()) return status;
  if (!location->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Status::corruption(fmt::format("stored location of tx {} does not parse", to_hex(tx_hash)));
  }
  return Status::ok();
}

Status ChainImpl::resolve_height(std::optional<uint64_t> height, uint64_t* resolved) const {
  ChainStatus current = status();
  uint64_t wanted = height.value_or(current.height);
  if (wanted > current.height) {
    return Status::not_found(fmt::format("height {} is above the last committed height {}", wanted, current.height));
  }
  if (wanted < current.earliest_state_height) {
    return Status::not_found(fmt::format("state at height {} was pruned; heights {} to {} are kept", wanted,
                                         current.earliest_state_height, current.height));
  }
  *resolved = wanted;
  return Status::ok();
}

Status ChainImpl::account(const Address& address, std::optional<uint64_t> height, v1::Account* account,
                          uint64_t* at_height) const {
  uint64_t resolved = 0;
  Status status = resolve_height(height, &resolved);
  if (!status.is_ok()) return status;
  std::optional<Bytes> value;
  status = tree_->get_at(version_of(resolved), keys::account(address), &value);
  if (!status.is_ok()) return status;
  account->Clear();
  if (value && !account->ParseFromArray(value->data(), static_cast<int>(value->size()))) {
    return Status::corruption(fmt::format("account {} at height {} does not parse", crypto::encode_address(address),
                                          resolved));
  }
  if (at_height != nullptr) *at_height = resolved;
  return Status::ok();
}

Status ChainImpl::state_proof(ByteView key, std::optional<uint64_t> height, std::optional<Bytes>* value,
                              state::StateProof* proof, uint64_t* at_height) const {
  uint64_t resolved = 0;
  Status status = resolve_height(height, &resolved);
  if (!status.is_ok()) return status;
  status = tree_->prove(version_of(resolved), key, proof, value);
  if (!status.is_ok()) return status;
  if (at_height != nullptr) *at_height = resolved;
  return Status::ok();
}

Status ChainImpl::state_get(ByteView key, std::optional<Bytes>* value) const { return tree_->get_latest(key, value); }

Status ChainImpl::state_scan(ByteView prefix, ByteView after, size_t limit,
                             std::vector<std::pair<Bytes, Bytes>>* entries) const {
  entries->clear();
  // The flat value index contains the latest value of every state key in key
  // order, so a prefix is one contiguous range.
  std::unique_ptr<storage::Iterator> it = db_->new_iterator(storage::Column::kStateValues);
  it->seek(after.empty() ? prefix : after);
  for (; it->valid() && entries->size() < limit; it->next()) {
    ByteView key = it->key();
    if (key.size() < prefix.size() || !std::equal(prefix.begin(), prefix.end(), key.begin())) break;
    if (!after.empty() && std::equal(key.begin(), key.end(), after.begin(), after.end())) continue;
    entries->emplace_back(Bytes(key.begin(), key.end()), Bytes(it->value().begin(), it->value().end()));
  }
  return it->status();
}

}  // namespace automata::execution
