#include "automata/modules/model/placement.h"

#include "automata/crypto/sha256.h"
#include "automata/types/state_keys.h"
#include "automata/v1/state.pb.h"

#include <algorithm>

namespace automata::model {
namespace {

constexpr std::string_view kPlacementDomain = "automata/placement";

void put_be(uint64_t value, int bytes, uint8_t* out) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(value & 0xff);
    value >>= 8;
  }
}

}  // namespace

uint32_t effective_replication(size_t node_count) {
  return static_cast<uint32_t>(std::min<size_t>(kReplicationFactor, node_count));
}

Hash32 placement_score(ByteView model_id, uint64_t epoch, uint32_t index, const crypto::PublicKey& node) {
  uint8_t epoch_be[8];
  uint8_t index_be[4];
  put_be(epoch, 8, epoch_be);
  put_be(index, 4, index_be);
  return crypto::sha256_concat({as_view(kPlacementDomain), model_id, ByteView(epoch_be, 8), ByteView(index_be, 4),
                                ByteView(node.data(), node.size())});
}

std::vector<size_t> place_fragment(ByteView model_id, uint64_t epoch, uint32_t index,
                                   const std::vector<crypto::PublicKey>& nodes, uint32_t replication) {
  std::vector<std::pair<Hash32, size_t>> scored;
  scored.reserve(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) scored.emplace_back(placement_score(model_id, epoch, index, nodes[i]), i);

  // Highest score first; equal scores (only for equal pubkeys) keep the
  // lower index first.
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });

  size_t count = std::min<size_t>(replication, scored.size());
  std::vector<size_t> placed;
  placed.reserve(count);
  for (size_t i = 0; i < count; ++i) placed.push_back(scored[i].second);
  return placed;
}

Status storage_nodes(execution::StateReader& state, std::vector<crypto::PublicKey>* nodes) {
  nodes->clear();
  std::optional<Bytes> value;
  Status status = state.get(keys::validators(), &value);
  if (!status.is_ok()) return status;
  if (!value) return Status::ok();

  v1::ValidatorSet set;
  if (!set.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
    return Status::corruption("validator set in state does not parse as automata.v1.ValidatorSet");
  }
  for (const v1::Validator& validator : set.validators()) {
    std::optional<crypto::PublicKey> pubkey = to_array<32>(as_view(validator.pubkey()));
    if (!pubkey) {
      return Status::corruption("validator " + validator.name() + " in state has a pubkey of " +
                                std::to_string(validator.pubkey().size()) + " bytes, expected 32");
    }
    nodes->push_back(*pubkey);
  }
  std::sort(nodes->begin(), nodes->end());
  nodes->erase(std::unique(nodes->begin(), nodes->end()), nodes->end());
  return Status::ok();
}

std::vector<uint32_t> indices_placed_on(ByteView model_id, uint64_t epoch, uint64_t fragment_count,
                                        const std::vector<crypto::PublicKey>& nodes,
                                        const crypto::PublicKey& node) {
  std::vector<uint32_t> indices;
  auto found = std::find(nodes.begin(), nodes.end(), node);
  if (found == nodes.end()) return indices;
  size_t position = static_cast<size_t>(found - nodes.begin());

  uint32_t replication = effective_replication(nodes.size());
  uint64_t count = std::min<uint64_t>(fragment_count, kMaxFragmentCount);
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t index = static_cast<uint32_t>(i);
    std::vector<size_t> placed = place_fragment(model_id, epoch, index, nodes, replication);
    if (std::find(placed.begin(), placed.end(), position) != placed.end()) indices.push_back(index);
  }
  return indices;
}

}  // namespace automata::model
