// ModelAttest: storage nodes record the fragments they hold, and a model
// becomes available once every fragment is held where placement puts it.
#include "automata/crypto/bech32.h"
#include "automata/modules/model/placement.h"
#include "automata/types/state_keys.h"
#include "model_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>

namespace automata::model {

using namespace detail;
using objects::charge;
using objects::fail;
namespace object_gas = objects::gas;

bool holds_fragment(const std::string& held, uint64_t index) {
  uint64_t byte = index / 8;
  if (byte >= held.size()) return false;
  return (static_cast<uint8_t>(held[byte]) >> (index % 8)) & 1U;
}

Status count_held(execution::StateReader& state, ByteView model_id, uint64_t epoch, const std::vector<Address>& nodes,
                  uint64_t* count) {
  *count = 0;
  for (const Address& node : nodes) {
    v1::ModelHolding holding;
    bool found = false;
    Status status = objects::read_record(state, keys::holding(model_id, node), &holding, &found);
    if (!status.is_ok()) return status;
    if (!found || holding.epoch() != epoch) continue;
    for (char byte : holding.held()) *count += static_cast<uint64_t>(std::popcount(static_cast<uint8_t>(byte)));
  }
  return Status::ok();
}

Status apply_attest(const v1::ModelAttest& op, ObjectContext& context, OpResult* result) {
  Model model;
  ByteView id = as_view(op.model_id());
  Status status = load_model(context, id, &model.object, &model.body, result);
  if (!status.is_ok() || !result->ok()) return status;
  std::string model_hex = to_hex(id);

  *result = charge(context, object_gas::kPerObjectRead, "reading the storage nodes");
  if (!result->ok()) return Status::ok();
  std::vector<crypto::PublicKey> nodes;
  status = storage_nodes(*context.state, &nodes);
  if (!status.is_ok()) return status;
  std::vector<Address> addresses;
  addresses.reserve(nodes.size());
  for (const crypto::PublicKey& node : nodes) addresses.push_back(crypto::address_of(node));
  auto self = std::find(addresses.begin(), addresses.end(), context.signer);
  if (self == addresses.end()) {
    *result = fail(ResultCode::kNotStorageNode,
                   fmt::format("signer {} is not a storage node: no validator in state has its address",
                               crypto::encode_address(context.signer)));
    return Status::ok();
  }
  size_t position = static_cast<size_t>(self - addresses.begin());

  const uint64_t epoch = model.body.epoch();
  if (op.epoch() != epoch) {
    *result = fail(ResultCode::kWrongEpoch, fmt::format("model_attest.epoch {} is not the current epoch {} of model {}",
                                                        op.epoch(), epoch, model_hex));
    return Status::ok();
  }

  const uint64_t count = model.body.manifest().fragment_count();
  const uint32_t replication = effective_replication(nodes.size());
  *result = charge(context,
                   static_cast<uint64_t>(op.indices_size()) *
                       (gas::kPerAttestedIndex + gas::kPerPlacementScore * static_cast<uint64_t>(nodes.size())),
                   "checking the placement of attested fragments");
  if (!result->ok()) return Status::ok();
  for (uint32_t index : op.indices()) {
    if (index >= count) {
      *result = fail(ResultCode::kInvalidOp,
                     fmt::format("model_attest.indices contains {}, but model {} has {} fragments", index, model_hex,
                                 count));
      return Status::ok();
    }
    std::vector<size_t> placed = place_fragment(id, epoch, index, nodes, replication);
    if (std::find(placed.begin(), placed.end(), position) == placed.end()) {
      *result = fail(ResultCode::kNotPlaced,
                     fmt::format("fragment {} of model {} is not placed on {} at epoch {}", index, model_hex,
                                 crypto::encode_address(context.signer), epoch));
      return Status::ok();
    }
  }

  *result = charge(context, object_gas::kPerObjectRead + object_gas::kPerObjectWrite, "updating the holding");
  if (!result->ok()) return Status::ok();
  Bytes key = keys::holding(id, context.signer);
  v1::ModelHolding holding;
  bool found = false;
  status = objects::read_record(*context.state, key, &holding, &found);
  if (!status.is_ok()) return status;
  if (!found || holding.epoch() != epoch) {
    holding.set_epoch(epoch);
    holding.clear_held();
  }
  std::string held = holding.held();
  held.resize(static_cast<size_t>((count + 7) / 8), '\0');
  for (uint32_t index : op.indices()) held[index / 8] = static_cast<char>(held[index / 8] | (1U << (index % 8)));
  holding.set_held(std::move(held));
  objects::write_record(*context.state, std::move(key), holding);

  if (model.body.available()) return Status::ok();
  *result = charge(context, object_gas::kPerObjectRead * nodes.size(), "reading every node's holding");
  if (!result->ok()) return Status::ok();
  uint64_t total = 0;
  status = count_held(*context.state, id, epoch, addresses, &total);
  if (!status.is_ok()) return status;
  // NOTE: a change of the validator set within an epoch changes placement,
  // so bits recorded under the old set may count towards the new one.
  if (total == count * replication) {
    model.body.set_available(true);
    *result = store_model(context, &model);
  }
  return Status::ok();
}

}  // namespace automata::model
