#include "automata/node/fragment_worker.h"

#include "automata/execution/chain_query.h"
#include "automata/mempool/mempool.h"
#include "automata/modules/model/placement.h"
#include "automata/node/fragment_attest.h"
#include "automata/node/fragment_exchange.h"
#include "automata/node/fragment_models.h"
#include "automata/node/fragment_store.h"
#include "automata/types/logging.h"
#include "automata/v1/state.pb.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <set>

namespace automata::node {

namespace {

std::string short_id(const Hash32& id) { return to_hex(id).substr(0, 16); }

// True when every index of placed (ascending) is in shown (ascending).
bool shows_all(const std::vector<uint32_t>& shown, const std::vector<uint32_t>& placed) {
  return std::includes(shown.begin(), shown.end(), placed.begin(), placed.end());
}

}  // namespace

FragmentWorker::FragmentWorker(FragmentWorkerConfig config, const execution::ChainQuery* chain,
                               mempool::Mempool* mempool, FragmentStore* store, FragmentExchange* exchange,
                               const crypto::PrivateKey& key)
    : config_(std::move(config)),
      chain_(chain),
      mempool_(mempool),
      store_(store),
      exchange_(exchange),
      key_(key),
      pubkey_(key.public_key()),
      address_(crypto::address_of(pubkey_)) {}

FragmentWorker::~FragmentWorker() { stop(); }

void FragmentWorker::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
  logger("fragments")->info("placement worker started for storage node {}", to_hex(address_));
}

void FragmentWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    logger("fragments")->info("placement worker stopped");
  }
}

void FragmentWorker::notify() {
  {
    std::lock_guard lock(mutex_);
    notified_ = true;
  }
  wake_.notify_one();
}

void FragmentWorker::run() {
  bool more_work = false;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (!more_work) wake_.wait_for(lock, config_.tick, [&] { return stopping_ || notified_; });
      if (stopping_) return;
      notified_ = false;
    }
    FragmentPassStats stats;
    Status status = run_pass(&stats);
    if (!status.is_ok()) {
      logger("fragments")->error("placement pass failed, retrying in {} ms: {}", config_.tick.count(),
                                 status.to_string());
    }
    if (stats.pulled > 0 || stats.attest_txs > 0 || stats.dropped > 0) {
      logger("fragments")->info("placement pass over {} models: pulled {} fragments, sent {} attest txs, dropped {}",
                                stats.models, stats.pulled, stats.attest_txs, stats.dropped);
    }
    more_work = status.is_ok() && stats.more_work;
  }
}

Status FragmentWorker::run_pass(FragmentPassStats* stats) {
  std::lock_guard pass_lock(pass_mutex_);
  *stats = FragmentPassStats{};
  std::vector<Hash32> models;
  Status status = list_models(*chain_, &models);
  if (!status.is_ok()) return status;
  std::vector<crypto::PublicKey> nodes;
  status = read_storage_nodes(*chain_, &nodes);
  if (!status.is_ok()) return status;

  // Fragments of models that left state (burned) go first.
  std::vector<Hash32> stored_models;
  status = store_->models(&stored_models);
  if (!status.is_ok()) return status;
  for (const auto& id : stored_models) {
    if (std::binary_search(models.begin(), models.end(), id)) continue;
    ModelContent ignored;
    Status read = read_model(*chain_, id, &ignored);
    if (!read.is_not_found()) continue;  // a model registered after the scan
    size_t erased = 0;
    if (store_->erase_model(id, &erased).is_ok() && erased > 0) {
      logger("fragments")->info("deleted {} fragments of model {}: it is no longer in state", erased, to_hex(id));
      stats->dropped += erased;
    }
  }

  size_t pull_budget = config_.pull_per_pass;
  for (const auto& id : models) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    ModelContent model;
    status = read_model(*chain_, id, &model);
    if (status.is_not_found()) continue;  // burned since the scan
    if (!status.is_ok()) return status;
    ++stats->models;
    Status model_status = pass_model(model, nodes, &pull_budget, stats);
    if (!model_status.is_ok()) {
      logger("fragments")->error("placement of model {} at epoch {}: {}", to_hex(id), model.epoch,
                                 model_status.to_string());
    }
  }
  return Status::ok();
}

Status FragmentWorker::pass_model(const ModelContent& model, const std::vector<crypto::PublicKey>& nodes,
                                  size_t* pull_budget, FragmentPassStats* stats) {
  std::vector<uint32_t> placed =
      model::indices_placed_on(model.id, model.epoch, model.fragment_count, nodes, pubkey_);
  std::vector<uint32_t> held;
  Status status = store_->held(model.id, &held);
  if (!status.is_ok()) return status;

  std::vector<uint32_t> missing;
  std::set_difference(placed.begin(), placed.end(), held.begin(), held.end(), std::back_inserter(missing));
  if (!missing.empty() && exchange_ != nullptr && *pull_budget > 0) {
    if (missing.size() > *pull_budget) {
      missing.resize(*pull_budget);
      stats->more_work = true;
    }
    *pull_budget -= missing.size();
    const size_t now_held = exchange_->fetch(model, missing, config_.peer_wait);
    stats->pulled += now_held;
    if (now_held < missing.size()) {
      // Without P2P (the dev chain) the missing fragments can only come
      // from an upload, so a warning about peers would mislead.
      if (exchange_->has_network()) {
        logger("fragments")->warn("model {} epoch {}: no peer returned {} of {} requested fragments",
                                  short_id(model.id), model.epoch, missing.size() - now_held, missing.size());
      }
      stats->more_work = false;  // wait for the tick before asking again
    }
    status = store_->held(model.id, &held);
    if (!status.is_ok()) return status;
  } else if (!missing.empty() && *pull_budget == 0) {
    stats->more_work = true;
  }

  if (!placed.empty() && shows_all(held, placed)) {
    status = submit_attest(model, placed, stats);
    if (!status.is_ok()) return status;
  }

  if (model.available) {
    std::vector<uint32_t> extra;
    std::set_difference(held.begin(), held.end(), placed.begin(), placed.end(), std::back_inserter(extra));
    drop_extra(model, extra, stats);
  }
  return Status::ok();
}

void FragmentWorker::drop_extra(const ModelContent& model, const std::vector<uint32_t>& extra,
                                FragmentPassStats* stats) {
  // Forget fragments of this model that are no longer extra (placed here
  // again, or already gone).
  auto first = extra_since_.lower_bound({model.id, 0});
  for (auto it = first; it != extra_since_.end() && it->first.first == model.id;) {
    it = std::binary_search(extra.begin(), extra.end(), it->first.second) ? std::next(it) : extra_since_.erase(it);
  }

  const auto now = std::chrono::steady_clock::now();
  size_t dropped = 0;
  for (uint32_t index : extra) {
    auto [it, inserted] = extra_since_.try_emplace({model.id, index}, now);
    if (now - it->second < config_.drop_grace) continue;
    Status status = store_->erase(model.id, index);
    if (!status.is_ok()) {
      logger("fragments")->error("cannot delete fragment {} of model {}: {}", index, short_id(model.id),
                                 status.to_string());
      continue;
    }
    extra_since_.erase(it);
    ++dropped;
  }
  stats->dropped += dropped;
  if (dropped > 0) {
    logger("fragments")->info("model {} is available at epoch {}: deleted {} fragments not placed on this node",
                              short_id(model.id), model.epoch, dropped);
  }
}

Status FragmentWorker::submit_attest(const ModelContent& model, const std::vector<uint32_t>& placed,
                                     FragmentPassStats* stats) {
  std::optional<Holding> holding;
  Status status = read_holding(*chain_, model.id, address_, &holding);
  if (!status.is_ok()) return status;
  if (holding && holding->epoch == model.epoch && shows_all(holding->indices, placed)) return Status::ok();

  const uint64_t height = chain_->status().height;
  auto previous = submitted_.find(model.id);
  if (previous != submitted_.end() && previous->second.first == model.epoch &&
      height < previous->second.second + config_.attest_retry_blocks) {
    return Status::ok();  // an attest for this epoch is still on its way
  }

  // Only the indices the holding does not show yet.
  std::vector<uint32_t> indices = placed;
  if (holding && holding->epoch == model.epoch) {
    indices.clear();
    std::set_difference(placed.begin(), placed.end(), holding->indices.begin(), holding->indices.end(),
                        std::back_inserter(indices));
  }

  v1::Account account;
  uint64_t at_height = 0;
  status = chain_->account(address_, std::nullopt, &account, &at_height);
  if (!status.is_ok()) return status;
  uint64_t nonce = mempool_->pending_nonce(address_).value_or(account.nonce());

  for (size_t start = 0; start < indices.size(); start += kMaxAttestIndices) {
    const size_t end = std::min(indices.size(), start + kMaxAttestIndices);
    std::vector<uint32_t> chunk(indices.begin() + static_cast<std::ptrdiff_t>(start),
                                indices.begin() + static_cast<std::ptrdiff_t>(end));
    AttestTx tx = build_attest_tx(key_, config_.chain_id, nonce, config_.min_gas_price, model.id, model.epoch, chunk);
    auto result = mempool_->add(std::move(tx.bytes));
    if (result.code != execution::ResultCode::kOk) {
      return Status::unavailable(fmt::format("attest tx {} (nonce {}, {} fragments) rejected by the mempool: {}: {}",
                                             to_hex(tx.hash), nonce, chunk.size(),
                                             execution::result_code_name(result.code), result.log));
    }
    logger("fragments")->info("submitted attest tx {} for {} fragments of model {} at epoch {} (nonce {})",
                              to_hex(tx.hash), chunk.size(), short_id(model.id), model.epoch, nonce);
    ++stats->attest_txs;
    ++nonce;
  }
  submitted_[model.id] = {model.epoch, height};
  return Status::ok();
}

}  // namespace automata::node
