#include "automata/node/fragment_rpc.h"

#include "automata/crypto/keys.h"
#include "automata/execution/chain_query.h"
#include "automata/modules/model/placement.h"
#include "automata/node/fragment_exchange.h"
#include "automata/node/fragment_models.h"
#include "automata/node/fragment_store.h"
#include "automata/types/logging.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

namespace automata::node {

namespace {

Status check_index(const ModelContent& model, uint64_t index) {
  if (index < model.fragment_count) return Status::ok();
  return Status::invalid_argument(fmt::format("fragment {} of model {}: index must be below the fragment count {}",
                                              index, to_hex(model.id), model.fragment_count));
}

}  // namespace

NodeFragmentService::NodeFragmentService(const execution::ChainQuery* chain, FragmentStore* store,
                                         FragmentExchange* exchange, std::function<void()> on_stored,
                                         std::chrono::milliseconds peer_wait)
    : chain_(chain), store_(store), exchange_(exchange), on_stored_(std::move(on_stored)), peer_wait_(peer_wait) {}

Status NodeFragmentService::fragment(const Hash32& model_id, uint64_t index, rpc::FragmentReply* out) {
  ModelContent model;
  Status status = read_model(*chain_, model_id, &model);
  if (!status.is_ok()) return status;
  status = check_index(model, index);
  if (!status.is_ok()) return status;
  const auto fragment_index = static_cast<uint32_t>(index);

  StoredFragment stored;
  status = store_->get(model_id, fragment_index, &stored);
  if (status.is_not_found() && exchange_ != nullptr) {
    exchange_->fetch(model, {fragment_index}, peer_wait_);
    status = store_->get(model_id, fragment_index, &stored);
    if (status.is_not_found()) {
      return Status::not_found(fmt::format(
          "fragment {} of model {} is not held by this node, and no peer returned it within {} ms", index,
          to_hex(model_id), peer_wait_.count()));
    }
  }
  if (!status.is_ok()) return status;
  // A copy kept for an earlier manifest (before a rekey or update) no
  // longer belongs to the model.
  if (!check_fragment(model, index, stored.data, stored.proof).is_ok()) {
    logger("fragments")->warn("fragment {} of model {} in the store does not match the manifest; deleting it", index,
                              to_hex(model_id));
    store_->erase(model_id, fragment_index);
    return Status::not_found(fmt::format("fragment {} of model {} is not held by this node", index, to_hex(model_id)));
  }
  out->data = std::move(stored.data);
  out->proof = std::move(stored.proof);
  out->root = model.fragments_root;
  out->count = model.fragment_count;
  return Status::ok();
}

Status NodeFragmentService::put_fragment(const Hash32& model_id, uint64_t index, Bytes data, std::vector<Hash32> proof,
                                         bool* stored) {
  ModelContent model;
  Status status = read_model(*chain_, model_id, &model);
  if (!status.is_ok()) return status;
  status = check_fragment(model, index, data, proof);
  if (!status.is_ok()) return status;
  status = store_->put(model_id, static_cast<uint32_t>(index), StoredFragment{std::move(data), std::move(proof)}, stored);
  if (!status.is_ok()) return status;
  if (*stored && on_stored_) on_stored_();
  return Status::ok();
}

Status NodeFragmentService::held(const Hash32& model_id, uint64_t* count, std::vector<uint32_t>* indices) {
  ModelContent model;
  Status status = read_model(*chain_, model_id, &model);
  if (!status.is_ok()) return status;
  status = store_->held(model_id, indices);
  if (!status.is_ok()) return status;
  // Indices past a manifest that shrank (an update) are not the model's.
  indices->erase(std::remove_if(indices->begin(), indices->end(),
                                [&](uint32_t index) { return index >= model.fragment_count; }),
                 indices->end());
  *count = model.fragment_count;
  return Status::ok();
}

Status NodeFragmentService::placement(const Hash32& model_id, rpc::PlacementReport* out) {
  ModelContent model;
  Status status = read_model(*chain_, model_id, &model);
  if (!status.is_ok()) return status;
  std::vector<crypto::PublicKey> nodes;
  status = read_storage_nodes(*chain_, &nodes);
  if (!status.is_ok()) return status;

  std::vector<Address> addresses;
  std::vector<std::vector<bool>> attested(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    addresses.push_back(crypto::address_of(nodes[i]));
    std::optional<Holding> holding;
    status = read_holding(*chain_, model_id, addresses.back(), &holding);
    if (!status.is_ok()) return status;
    if (!holding || holding->epoch != model.epoch) continue;
    attested[i].assign(model.fragment_count, false);
    for (uint32_t index : holding->indices) {
      if (index < model.fragment_count) attested[i][index] = true;
    }
  }

  out->epoch = model.epoch;
  out->replication = model::effective_replication(nodes.size());
  out->available = model.available;
  out->fragments.clear();
  out->fragments.reserve(model.fragment_count);
  for (uint64_t index = 0; index < model.fragment_count; ++index) {
    rpc::FragmentPlacement item;
    item.index = static_cast<uint32_t>(index);
    for (size_t node : model::place_fragment(model_id, model.epoch, item.index, nodes, out->replication)) {
      item.holders.push_back(addresses[node]);
      if (!attested[node].empty() && attested[node][index]) item.attested.push_back(addresses[node]);
    }
    out->fragments.push_back(std::move(item));
  }
  return Status::ok();
}

}  // namespace automata::node
