#include "automata/node/fragment_models.h"

#include "automata/crypto/merkle.h"
#include "automata/crypto/model_content.h"
#include "automata/execution/chain_query.h"
#include "automata/execution/overlay.h"
#include "automata/modules/model/placement.h"
#include "automata/types/state_keys.h"
#include "automata/v1/code_state.pb.h"
#include "automata/v1/model.pb.h"

#include <fmt/format.h>

#include <algorithm>

namespace automata::node {

namespace {

constexpr std::string_view kModelType = "model.nft";
constexpr size_t kScanPage = 1000;

// Committed state as a StateReader, so module helpers that take one can
// read through ChainQuery.
class ChainStateReader final : public execution::StateReader {
 public:
  explicit ChainStateReader(const execution::ChainQuery& chain) : chain_(chain) {}
  Status get(ByteView key, std::optional<Bytes>* value) override { return chain_.state_get(key, value); }

 private:
  const execution::ChainQuery& chain_;
};

bool copy_hash(const std::string& raw, Hash32* out) {
  if (raw.size() != out->size()) return false;
  std::copy(raw.begin(), raw.end(), out->begin());
  return true;
}

}  // namespace

uint64_t ModelContent::sealed_size(uint64_t index) const {
  uint64_t start = index * fragment_size;
  uint64_t plaintext = std::min(fragment_size, total_size - std::min(total_size, start));
  return plaintext + crypto::kFragmentOverhead;
}

Status read_model(const execution::ChainQuery& chain, const Hash32& id, ModelContent* out) {
  std::optional<Bytes> raw;
  Status status = chain.state_get(keys::object(id), &raw);
  if (!status.is_ok()) return status;
  if (!raw) return Status::not_found(fmt::format("model {} not found", to_hex(id)));
  v1::ObjectEnvelope envelope;
  if (!envelope.ParseFromArray(raw->data(), static_cast<int>(raw->size()))) {
    return Status::corruption(fmt::format("object {} in state does not parse", to_hex(id)));
  }
  if (envelope.type() != kModelType) {
    return Status::not_found(fmt::format("model {} not found: object {} is a {}, not a model.nft", to_hex(id),
                                         to_hex(id), envelope.type()));
  }
  v1::ModelNft nft;
  if (!nft.ParseFromString(envelope.body())) {
    return Status::corruption(fmt::format("model {} in state has a body that does not parse", to_hex(id)));
  }
  const auto& manifest = nft.manifest();
  ModelContent model;
  model.id = id;
  model.fragment_size = manifest.fragment_size();
  model.fragment_count = manifest.fragment_count();
  model.total_size = manifest.total_size();
  model.epoch = nft.epoch();
  model.available = nft.available();
  if (!copy_hash(manifest.fragments_root(), &model.fragments_root)) {
    return Status::corruption(fmt::format("model {} in state has a fragments_root of {} bytes, not 32", to_hex(id),
                                          manifest.fragments_root().size()));
  }
  *out = model;
  return Status::ok();
}

Status list_models(const execution::ChainQuery& chain, std::vector<Hash32>* ids) {
  ids->clear();
  const Bytes prefix{keys::kModelIndexTag};
  Bytes after;
  while (true) {
    std::vector<std::pair<Bytes, Bytes>> entries;
    Status status = chain.state_scan(prefix, after, kScanPage, &entries);
    if (!status.is_ok()) return status;
    for (const auto& [key, value] : entries) {
      Hash32 id{};
      if (key.size() != 1 + id.size()) continue;
      std::copy(key.begin() + 1, key.end(), id.begin());
      ids->push_back(id);
    }
    if (entries.size() < kScanPage) return Status::ok();
    after = entries.back().first;
  }
}

Status read_storage_nodes(const execution::ChainQuery& chain, std::vector<crypto::PublicKey>* nodes) {
  ChainStateReader reader(chain);
  return model::storage_nodes(reader, nodes);
}

Status read_holding(const execution::ChainQuery& chain, const Hash32& model, const Address& node,
                    std::optional<Holding>* out) {
  out->reset();
  std::optional<Bytes> raw;
  Status status = chain.state_get(keys::holding(model, node), &raw);
  if (!status.is_ok() || !raw) return status;
  v1::ModelHolding record;
  if (!record.ParseFromArray(raw->data(), static_cast<int>(raw->size()))) {
    return Status::corruption(fmt::format("holding of node {} for model {} does not parse", to_hex(node), to_hex(model)));
  }
  Holding holding;
  holding.epoch = record.epoch();
  const std::string& bits = record.held();
  for (size_t byte = 0; byte < bits.size(); ++byte) {
    for (uint32_t bit = 0; bit < 8; ++bit) {
      if ((static_cast<uint8_t>(bits[byte]) >> bit) & 1u) holding.indices.push_back(static_cast<uint32_t>(byte * 8 + bit));
    }
  }
  *out = std::move(holding);
  return Status::ok();
}

Status check_fragment(const ModelContent& model, uint64_t index, ByteView data, const std::vector<Hash32>& proof) {
  const std::string model_hex = to_hex(model.id);
  if (index >= model.fragment_count) {
    return Status::invalid_argument(fmt::format("fragment {} of model {}: index must be below the fragment count {}",
                                                index, model_hex, model.fragment_count));
  }
  const uint64_t expected = model.sealed_size(index);
  if (data.size() != expected) {
    return Status::invalid_argument(fmt::format(
        "fragment {} of model {}: data is {} bytes, expected {} (the fragment's plaintext size plus {} bytes of "
        "nonce and tag)",
        index, model_hex, data.size(), expected, crypto::kFragmentOverhead));
  }
  Hash32 leaf = crypto::merkle_leaf_hash(data);
  if (!crypto::merkle_verify_inclusion(leaf, static_cast<size_t>(index), static_cast<size_t>(model.fragment_count),
                                       proof, model.fragments_root)) {
    return Status::invalid_argument(
        fmt::format("fragment {} of model {}: proof does not lead to the manifest root {}", index, model_hex,
                    to_hex(model.fragments_root)));
  }
  return Status::ok();
}

}  // namespace automata::node
