#include "automata/crypto/sha256.h"
#include "automata/types/logging.h"
#include "chain_impl.h"
#include "genesis_state.h"
#include "precheck.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

namespace automata::execution {

Status Chain::open(const ChainOptions& options, const Genesis& genesis, std::unique_ptr<Chain>* out) {
  std::string invalid = validate_genesis(genesis);
  if (!invalid.empty()) return Status::invalid_argument("genesis: " + invalid);
  auto chain = std::make_unique<ChainImpl>(options, genesis);
  Status status = chain->init();
  if (!status.is_ok()) return status;
  *out = std::move(chain);
  return Status::ok();
}

ChainImpl::ChainImpl(const ChainOptions& options, const Genesis& genesis) : options_(options), genesis_(genesis) {
  verify_threads_ = options.verify_threads != 0 ? options.verify_threads
                                                : std::max(1u, std::thread::hardware_concurrency());
  v1::ValidatorSet set = genesis_validator_set(genesis);
  validator_set_bytes_ = set.SerializeAsString();
  validator_set_hash_ = crypto::sha256(as_view(validator_set_bytes_));
  for (const GenesisValidator& validator : genesis.validators) {
    if (validator.power > 0) validator_keys_[crypto::address_of(validator.pubkey)] = validator.pubkey;
  }
}

Status ChainImpl::init() {
  Status status = storage::Database::open(options_.db_path, &db_);
  if (!status.is_ok()) return status;
  status = state::StateTree::open(db_.get(), options_.keep_state_versions, &tree_);
  if (!status.is_ok()) return status;

  Bytes stored_hash;
  status = db_->get(storage::Column::kMeta, as_view(kMetaGenesisHash), &stored_hash);
  if (status.is_not_found()) return init_genesis();
  if (!status.is_ok()) return status;

  Hash32 expected = genesis_hash(genesis_, genesis_state(genesis_));
  if (stored_hash != Bytes(expected.begin(), expected.end())) {
    return Status::invalid_argument(fmt::format("database {} was created from genesis {}, not from genesis {}",
                                                options_.db_path, to_hex(stored_hash), to_hex(expected)));
  }
  return load_tip();
}

Status ChainImpl::init_genesis() {
  state::ChangeSet state = genesis_state(genesis_);
  Hash32 hash = genesis_hash(genesis_, state);

  // The tree may store genesis at version 0 or (when its first version
  // must be latest + 1) at version 1; the offset maps heights either way.
  auto batch = std::make_unique<storage::WriteBatch>();
  Hash32 root{};
  version_offset_ = 0;
  Status status = tree_->apply(0, state, *batch, &root);
  if (!status.is_ok()) {
    version_offset_ = 1;
    batch = std::make_unique<storage::WriteBatch>();
    status = tree_->apply(1, state, *batch, &root);
    if (!status.is_ok()) return status;
  }
  batch->put(storage::Column::kMeta, as_view(kMetaGenesisHash), hash);
  batch->put(storage::Column::kMeta, as_view(kMetaLatestHeight), storage::encode_height(0));
  status = db_->write(*batch, true);
  if (!status.is_ok()) return status;
  tree_->commit_applied();

  std::lock_guard<std::mutex> lock(tip_mutex_);
  tip_ = Tip{0, Hash32{}, genesis_.genesis_time_ms, root};
  logger("chain")->info("initialized chain {} from genesis {} ({} accounts, state root {})", genesis_.chain_id,
                        to_hex(hash), genesis_.accounts.size(), to_hex(root));
  return Status::ok();
}

Status ChainImpl::load_tip() {
  Bytes height_bytes;
  Status status = db_->get(storage::Column::kMeta, as_view(kMetaLatestHeight), &height_bytes);
  if (!status.is_ok()) return Status::corruption("chain metadata has no latest height: " + status.to_string());
  uint64_t height = storage::decode_height(height_bytes);
  if (tree_->latest_version() < height || tree_->latest_version() - height > 1) {
    return Status::corruption(fmt::format("state tree version {} does not match committed height {}",
                                          tree_->latest_version(), height));
  }
  version_offset_ = tree_->latest_version() - height;

  Tip tip{0, Hash32{}, genesis_.genesis_time_ms, tree_->latest_root()};
  if (height > 0) {
    v1::Block block;
    status = block_by_height(height, &block);
    if (!status.is_ok()) return Status::corruption(fmt::format("latest block {}: {}", height, status.to_string()));
    v1::BlockHeader header;
    if (!header.ParseFromString(block.header_bytes())) {
      return Status::corruption(fmt::format("header of block {} does not parse", height));
    }
    tip.height = height;
    tip.hash = crypto::sha256(as_view(block.header_bytes()));
    tip.time_ms = header.time_ms();
  }
  std::lock_guard<std::mutex> lock(tip_mutex_);
  tip_ = tip;
  logger("chain")->info("resumed chain {} at height {} (block {})", genesis_.chain_id, tip.height, to_hex(tip.hash));
  return Status::ok();
}

ChainImpl::Tip ChainImpl::tip() const {
  std::lock_guard<std::mutex> lock(tip_mutex_);
  return tip_;
}

uint64_t ChainImpl::last_height() const { return tip().height; }

Hash32 ChainImpl::last_block_hash() const { return tip().hash; }

TxCheck ChainImpl::check_tx(ByteView tx_bytes) {
  TxCheck check;
  check.size_bytes = tx_bytes.size();
  DecodedTx tx;
  StageResult result = check_tx_shape(tx_bytes, genesis_.chain_id, genesis_.params, &verified_, &tx);
  check.hash = tx.hash;
  if (result.ok()) {
    check.sender = tx.sender;
    check.nonce = tx.body.nonce();
    check.gas_limit = tx.body.gas_limit();
    check.fee = static_cast<uint64_t>(tx.fee);
    check.expiry_height = tx.body.expiry_height();
    if (!tx.signature_verified) {
      result = check_tx_signature(tx);
      if (result.ok()) verified_.insert(tx.hash, tx.signature);
    }
  }
  if (result.ok()) {
    TreeReader committed(tree_.get());
    Status status = precheck_tx(tx, committed, last_height() + 1, genesis_.params, &result, &check.expected_nonce);
    if (!status.is_ok()) {
      logger("chain")->error("check_tx {}: reading state failed: {}", to_hex(tx.hash), status.to_string());
      // NOTE: a storage failure has no result code of its own; it is
      // reported as fee_unpayable so the tx is rejected, with the cause.
      result = {ResultCode::kFeeUnpayable, "reading the signer's account failed: " + status.to_string()};
    }
  }
  check.code = result.code;
  check.log = std::move(result.log);
  return check;
}

}  // namespace automata::execution
