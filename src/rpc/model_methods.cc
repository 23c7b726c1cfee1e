#include "rpc/model_methods.h"

#include "automata/execution/chain_query.h"
#include "automata/modules/model/model.h"
#include "automata/rpc/handler.h"
#include "automata/state/state_tree.h"
#include "automata/types/state_keys.h"
#include "automata/v1/code_state.pb.h"
#include "automata/v1/model.pb.h"
#include "rpc/encoding.h"
#include "rpc/params.h"

#include <fmt/format.h>

#include <array>
#include <deque>
#include <set>

namespace automata::rpc {

using nlohmann::json;

namespace {

constexpr uint64_t kDefaultLimit = 50;
constexpr uint64_t kMaxLimit = 200;
// Index entries one model_list call reads while skipping objects that are
// not models (an owner index also lists code assets).
constexpr size_t kMaxListScan = 10'000;

constexpr std::array<std::string_view, 3> kMethods = {"model_get", "model_list", "model_lineage"};

std::string hex_of(const std::string& raw) { return to_hex(as_view(raw)); }

void check(const Status& status) {
  if (status.is_ok()) return;
  if (status.is_not_found()) throw RpcError(kNotFound, status.message());
  throw RpcError(kInternalError, status.to_string());
}

template <typename Message>
void parse(const Bytes& value, Message* message, ByteView key) {
  if (!message->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    throw RpcError(kInternalError,
                   fmt::format("stored {} under key {} does not parse", message->GetTypeName(), to_hex(key)));
  }
}

// Reads the object id at height (latest when nullopt); false when absent.
bool read_object(const execution::ChainQuery& chain, ByteView id, std::optional<uint64_t> height,
                 v1::ObjectEnvelope* object) {
  Bytes key = keys::object(id);
  std::optional<Bytes> value;
  if (height) {
    state::StateProof proof;
    uint64_t at = 0;
    check(chain.state_proof(key, height, &value, &proof, &at));
  } else {
    check(chain.state_get(key, &value));
  }
  if (!value) return false;
  parse(*value, object, key);
  return true;
}

// Loads a model or raises kNotFound naming the id.
void load_model(const execution::ChainQuery& chain, ByteView id, std::optional<uint64_t> height,
                v1::ObjectEnvelope* object, v1::ModelNft* body) {
  if (!read_object(chain, id, height, object)) throw RpcError(kNotFound, fmt::format("model {} not found", to_hex(id)));
  if (object->type() != model::kTypeModel) {
    throw RpcError(kNotFound, fmt::format("object {} is a {}, not a model", to_hex(id), object->type()));
  }
  if (!body->ParseFromString(object->body())) {
    throw RpcError(kInternalError, fmt::format("stored model {} does not parse as automata.v1.ModelNft", to_hex(id)));
  }
}

json encode_tensors(const google::protobuf::RepeatedPtrField<v1::TensorInfo>& tensors) {
  json out = json::array();
  for (const v1::TensorInfo& tensor : tensors) {
    json dims = json::array();
    for (const std::string& dim : tensor.dims()) dims.push_back(dim);
    out.push_back({{"name", tensor.name()}, {"elem_type", tensor.elem_type()}, {"dims", dims}});
  }
  return out;
}

json encode_metadata(const v1::ModelMetadata& metadata) {
  json opsets = json::array();
  for (const v1::OpsetImport& opset : metadata.opsets()) {
    opsets.push_back({{"domain", opset.domain()}, {"version", opset.version()}});
  }
  json dtypes = json::array();
  for (const std::string& dtype : metadata.dtypes()) dtypes.push_back(dtype);
  return {{"parameter_count", metadata.parameter_count()},
          {"tensor_count", metadata.tensor_count()},
          {"ir_version", metadata.ir_version()},
          {"opsets", opsets},
          {"producer_name", metadata.producer_name()},
          {"producer_version", metadata.producer_version()},
          {"inputs", encode_tensors(metadata.inputs())},
          {"outputs", encode_tensors(metadata.outputs())},
          {"dtypes", dtypes},
          {"gguf_version", metadata.gguf_version()},
          {"architecture", metadata.architecture()},
          {"model_name", metadata.model_name()}};
}

json model_get(const execution::ChainQuery& chain, const Params& params) {
  Hash32 id = params.required_hash("id");
  std::optional<uint64_t> height = params.optional_uint("height");
  v1::ObjectEnvelope object;
  v1::ModelNft body;
  load_model(chain, id, height, &object, &body);

  json bases = json::array();
  for (const std::string& base : body.base_models()) bases.push_back(hex_of(base));
  json envelopes = json::array();
  for (const v1::KeyEnvelope& envelope : body.envelopes()) {
    envelopes.push_back({{"recipient", address_text(envelope.recipient())},
                         {"ephemeral_pubkey", hex_of(envelope.ephemeral_pubkey())},
                         {"sealed_key", hex_of(envelope.sealed_key())}});
  }
  // An expired lease stays stored until the next change of owner or
  // content, but grants nothing, so it is not listed.
  uint64_t at = height.value_or(chain.status().height);
  json leases = json::array();
  for (const v1::UseGrant& grant : object.grants()) {
    if (grant.expiry_height() < at) continue;
    leases.push_back({{"grantee", address_text(grant.grantee())}, {"expiry_height", grant.expiry_height()}});
  }
  const v1::ModelManifest& manifest = body.manifest();
  return {
      {"id", to_hex(id)},
      {"type", std::string(model::kTypeModel)},
      {"owner", address_text(object.owner())},
      {"creator", address_text(body.creator())},
      {"name", body.name()},
      {"format", body.format()},
      {"metadata", encode_metadata(body.metadata())},
      {"license", body.license()},
      {"base_models", bases},
      {"royalty_bps", body.royalty_bps()},
      {"flags",
       {{"transferable", body.flags().transferable()},
        {"burnable", body.flags().burnable()},
        {"mutable", body.flags().mutable_()}}},
      {"manifest",
       {{"fragment_size", manifest.fragment_size()},
        {"fragment_count", manifest.fragment_count()},
        {"total_size", manifest.total_size()},
        {"fragments_root", hex_of(manifest.fragments_root())},
        {"plaintext_sha256", hex_of(manifest.plaintext_sha256())},
        {"cipher_suite", manifest.cipher_suite()}}},
      {"envelopes", envelopes},
      {"leases", leases},
      {"epoch", body.epoch()},
      {"available", body.available()},
      {"key_pending_from",
       body.key_pending_from().empty() ? json(nullptr) : json(address_text(body.key_pending_from()))},
      {"version", object.version()},
      {"created_height", object.created_height()},
      {"updated_height", object.updated_height()},
  };
}

json model_list(const execution::ChainQuery& chain, const Params& params) {
  auto owner = params.optional_address("owner");
  auto creator = params.optional_address("creator");
  if (owner && creator) throw RpcError(kInvalidParams, "params: pass at most one of owner or creator");
  uint64_t limit = params.optional_uint("limit").value_or(kDefaultLimit);
  if (limit == 0 || limit > kMaxLimit) {
    throw RpcError(kInvalidParams, fmt::format("params.limit: {} is outside 1 to {}", limit, kMaxLimit));
  }
  std::optional<Hash32> after = params.optional_hash("after");

  Bytes prefix;
  if (owner) {
    prefix = keys::tagged(keys::kOwnerIndexTag, {*owner});
  } else if (creator) {
    prefix = keys::tagged(keys::kCreatorIndexTag, {*creator});
  } else {
    prefix = Bytes{keys::kModelIndexTag};
  }

  json models = json::array();
  json next = nullptr;
  Bytes start;
  if (after) {
    start = prefix;
    start.insert(start.end(), after->begin(), after->end());
  }
  size_t scanned = 0;
  while (scanned < kMaxListScan) {
    std::vector<std::pair<Bytes, Bytes>> entries;
    check(chain.state_scan(prefix, start, static_cast<size_t>(limit + 1), &entries));
    for (const auto& [key, value] : entries) {
      ++scanned;
      ByteView id = ByteView(key).subspan(prefix.size());
      if (models.size() == limit) {
        // Another entry follows the page; it may not be a model, and the
        // next call skips it the same way.
        next = models.back()["id"];
        return {{"models", models}, {"next", next}};
      }
      start = key;
      v1::ObjectEnvelope object;
      v1::ModelNft body;
      if (!read_object(chain, id, std::nullopt, &object) || object.type() != model::kTypeModel ||
          !body.ParseFromString(object.body())) {
        continue;
      }
      models.push_back({{"id", to_hex(id)},
                        {"name", body.name()},
                        {"format", body.format()},
                        {"owner", address_text(object.owner())},
                        {"creator", address_text(body.creator())},
                        {"total_size", body.manifest().total_size()},
                        {"available", body.available()}});
    }
    if (entries.size() < limit + 1) return {{"models", models}, {"next", nullptr}};
  }
  // The scan bound cut the page short: continue after the last entry read.
  return {{"models", models}, {"next", to_hex(ByteView(start).subspan(prefix.size()))}};
}

json model_lineage(const execution::ChainQuery& chain, const Params& params) {
  Hash32 id = params.required_hash("id");
  uint64_t depth_limit = params.optional_uint("depth").value_or(model::kMaxLineageDepth);
  if (depth_limit == 0 || depth_limit > static_cast<uint64_t>(model::kMaxLineageDepth)) {
    throw RpcError(kInvalidParams,
                   fmt::format("params.depth: {} is outside 1 to {}", depth_limit, model::kMaxLineageDepth));
  }
  v1::ObjectEnvelope object;
  v1::ModelNft body;
  load_model(chain, id, std::nullopt, &object, &body);

  // Breadth first over base_models, each id once, as royalties walk it.
  json ancestors = json::array();
  std::set<std::string> seen{to_string(id)};
  std::deque<std::pair<std::string, uint64_t>> queue;
  for (const std::string& base : body.base_models()) queue.emplace_back(base, 1);
  while (!queue.empty()) {
    auto [ancestor_id, depth] = queue.front();
    queue.pop_front();
    if (!seen.insert(ancestor_id).second) continue;
    v1::ObjectEnvelope ancestor;
    if (!read_object(chain, as_view(ancestor_id), std::nullopt, &ancestor)) continue;
    if (ancestor.type() == model::kTypeModel) {
      v1::ModelNft parent;
      if (!parent.ParseFromString(ancestor.body())) continue;
      ancestors.push_back({{"id", hex_of(ancestor_id)},
                           {"depth", depth},
                           {"kind", "model"},
                           {"name", parent.name()},
                           {"creator", address_text(parent.creator())},
                           {"royalty_bps", parent.royalty_bps()}});
      if (depth < depth_limit) {
        for (const std::string& base : parent.base_models()) queue.emplace_back(base, depth + 1);
      }
    } else {
      v1::CodeAsset asset;
      if (!asset.ParseFromString(ancestor.body())) continue;
      ancestors.push_back({{"id", hex_of(ancestor_id)},
                           {"depth", depth},
                           {"kind", "code"},
                           {"name", asset.name()},
                           {"creator", address_text(asset.author())},
                           {"royalty_bps", asset.royalty_bps()}});
    }
  }
  return {{"id", to_hex(id)}, {"ancestors", ancestors}};
}

}  // namespace

bool is_model_method(std::string_view method) {
  return std::find(kMethods.begin(), kMethods.end(), method) != kMethods.end();
}

nlohmann::json model_method(const execution::ChainQuery& chain, const std::string& method,
                            const nlohmann::json& params) {
  if (method == "model_get") return model_get(chain, Params(params, method, {"id", "height"}));
  if (method == "model_list") return model_list(chain, Params(params, method, {"owner", "creator", "limit", "after"}));
  return model_lineage(chain, Params(params, method, {"id", "depth"}));
}

}  // namespace automata::rpc
