#include "rpc/code_methods.h"

#include "automata/crypto/bech32.h"
#include "automata/execution/chain_query.h"
#include "automata/rpc/handler.h"
#include "automata/types/state_keys.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/code_state.pb.h"
#include "rpc/encoding.h"
#include "rpc/params.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <queue>
#include <set>

namespace automata::rpc {

using nlohmann::json;

namespace {

constexpr uint64_t kDefaultLimit = 50;
constexpr uint64_t kMaxLimit = 200;
// Bound on the versions code_log reads for one page.
constexpr size_t kMaxLogWalk = 100'000;
constexpr size_t kMaxBlobQueries = 10'000;
// Bound on the hashes of one tx_results request, each of which costs two reads.
constexpr size_t kMaxTxQueries = 1'000;

constexpr std::array<std::string_view, 9> kMethods = {"code_get",      "code_list",      "code_log",
                                                      "code_tree",     "code_blob",      "code_proposals",
                                                      "offer_get",     "blobs_missing",  "tx_results"};

std::string hex_of(const std::string& raw) { return to_hex(as_view(raw)); }

json address_or_null(const std::string& raw) { return raw.empty() ? json(nullptr) : json(address_text(raw)); }

void check(const Status& status) {
  if (status.is_ok()) return;
  if (status.is_not_found()) throw RpcError(kNotFound, status.message());
  throw RpcError(kInternalError, status.to_string());
}

std::string base64(const std::string& data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(data[i])) << 16) | (uint32_t(uint8_t(data[i + 1])) << 8) | uint8_t(data[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t(uint8_t(data[i])) << 16;
    if (rest == 2) n |= uint32_t(uint8_t(data[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// Reads the typed parameters the code methods take beyond what Params
// offers (strings and cursors).
class CodeParams {
 public:
  CodeParams(const json& params, const std::string& method, std::initializer_list<std::string_view> allowed)
      : raw_(params), params_(params, method, allowed), method_(method) {}

  const Params& base() const { return params_; }

  std::optional<std::string> optional_string(std::string_view name) const {
    if (!raw_.is_object()) return std::nullopt;
    auto it = raw_.find(name);
    if (it == raw_.end()) return std::nullopt;
    if (!it->is_string()) {
      throw RpcError(kInvalidParams, fmt::format("params.{}: expected a string, got {}", name, describe_json(*it)));
    }
    return it->get<std::string>();
  }

  uint64_t limit() const {
    uint64_t limit = params_.optional_uint("limit").value_or(kDefaultLimit);
    if (limit == 0 || limit > kMaxLimit) {
      throw RpcError(kInvalidParams, fmt::format("params.limit: {} is outside 1 to {}", limit, kMaxLimit));
    }
    return limit;
  }

  // The position a cursor of this method encodes, or empty without one.
  // A cursor is "<hex of method name>.<hex of position>".
  Bytes cursor() const {
    auto text = optional_string("cursor");
    if (!text) return {};
    size_t dot = text->find('.');
    auto method = dot == std::string::npos ? std::nullopt : from_hex(text->substr(0, dot));
    auto position = dot == std::string::npos ? std::nullopt : from_hex(text->substr(dot + 1));
    if (!method || !position || position->empty()) {
      throw RpcError(kInvalidParams, "params.cursor: not a cursor returned by this node; pass next_cursor unchanged");
    }
    std::string owner = to_string(*method);
    if (owner != method_) {
      throw RpcError(kInvalidParams, fmt::format("params.cursor: cursor belongs to {}", owner));
    }
    return *position;
  }

  std::string make_cursor(ByteView position) const { return to_hex(as_view(method_)) + "." + to_hex(position); }

 private:
  const json& raw_;
  Params params_;
  std::string method_;
};

class CodeReader {
 public:
  explicit CodeReader(const execution::ChainQuery& chain) : chain_(chain) {}

  template <typename Message>
  bool read(const Bytes& key, Message* message) {
    std::optional<Bytes> value;
    check(chain_.state_get(key, &value));
    if (!value) return false;
    if (!message->ParseFromArray(value->data(), static_cast<int>(value->size()))) {
      throw RpcError(kInternalError, fmt::format("stored {} under key {} does not parse", message->GetTypeName(),
                                                 to_hex(key)));
    }
    return true;
  }

  template <typename Message>
  void require(const Bytes& key, Message* message, std::string_view what, ByteView id) {
    if (!read(key, message)) throw RpcError(kNotFound, fmt::format("{} {} not found", what, to_hex(id)));
  }

  // Keys (without the prefix) after `after`, at most limit + 1 so the
  // caller can tell whether another page follows.
  std::vector<Bytes> scan_keys(const Bytes& prefix, ByteView after, uint64_t limit) {
    std::vector<std::pair<Bytes, Bytes>> entries;
    Bytes start;
    if (!after.empty()) {
      start = prefix;
      start.insert(start.end(), after.begin(), after.end());
    }
    check(chain_.state_scan(prefix, start, static_cast<size_t>(limit + 1), &entries));
    std::vector<Bytes> keys;
    for (auto& [key, value] : entries) keys.emplace_back(key.begin() + static_cast<long>(prefix.size()), key.end());
    return keys;
  }

  uint64_t height() const { return chain_.status().height; }

 private:
  const execution::ChainQuery& chain_;
};

json encode_rules(const v1::BranchRules& rules) {
  json reviewers = json::array();
  for (const std::string& reviewer : rules.reviewers()) reviewers.push_back(address_text(reviewer));
  json licenses = json::array();
  for (const std::string& license : rules.license_allow_list()) licenses.push_back(license);
  return {{"reviewers", reviewers},
          {"required_approvals", rules.required_approvals()},
          {"max_change_bytes", rules.max_change_bytes()},
          {"license_allow_list", licenses}};
}

std::string kind_of(const v1::CodeAsset& body) {
  return body.kind() == v1::CodeAsset::KIND_COMPOSITE ? "composite" : "repository";
}

void load_asset(CodeReader& reader, ByteView id, v1::ObjectEnvelope* object, v1::CodeAsset* body) {
  reader.require(keys::object(id), object, "code asset", id);
  if (!body->ParseFromString(object->body())) {
    throw RpcError(kNotFound, fmt::format("object {} is a {}, not a code asset", to_hex(id), object->type()));
  }
}

json code_get(CodeReader& reader, const CodeParams& params) {
  Hash32 id = params.base().required_hash("id");
  v1::ObjectEnvelope object;
  v1::CodeAsset body;
  load_asset(reader, id, &object, &body);

  json branches = json::object();
  for (const v1::BranchRef& ref : body.branches()) branches[ref.name()] = hex_of(ref.version());
  json rules = json::object();
  for (const v1::BranchRules& entry : body.rules()) rules[entry.branch()] = encode_rules(entry);
  json history = json::array();
  for (const v1::RulesChange& change : body.rules_history()) {
    history.push_back(
        {{"height", change.height()}, {"branch", change.branch()}, {"required_approvals", change.required_approvals()}});
  }
  json children = json::array();
  for (const v1::ComposeChild& child : body.children()) {
    children.push_back({{"asset_id", hex_of(child.asset_id())}, {"version", hex_of(child.version())}});
  }
  // An expired grant stays stored until the owner changes it, but no longer
  // grants use, so it is not listed.
  uint64_t height = reader.height();
  json grants = json::array();
  for (const v1::UseGrant& grant : object.grants()) {
    if (grant.expiry_height() < height) continue;
    grants.push_back({{"grantee", address_text(grant.grantee())}, {"expiry_height", grant.expiry_height()}});
  }
  json tags = json::array();
  for (const std::string& tag : body.language_tags()) tags.push_back(tag);
  return {
      {"id", to_hex(id)},
      {"kind", kind_of(body)},
      {"name", body.name()},
      {"owner", address_or_null(object.owner())},
      {"author", address_text(body.author())},
      {"license", body.license()},
      {"language_tags", tags},
      {"royalty_bps", body.royalty_bps()},
      {"branches", branches},
      {"rules", rules},
      {"rules_history", history},
      {"children", children},
      {"wrapped_by", object.wrapped_by().empty() ? json(nullptr) : json(hex_of(object.wrapped_by()))},
      {"grants", grants},
      {"created_height", object.created_height()},
      {"updated_height", object.updated_height()},
  };
}

json code_list(CodeReader& reader, const CodeParams& params) {
  auto owner = params.base().optional_address("owner");
  auto author = params.base().optional_address("author");
  if (owner && author) throw RpcError(kInvalidParams, "params: pass at most one of owner or author");
  uint64_t limit = params.limit();
  Bytes after = params.cursor();

  Bytes prefix;
  if (owner) {
    prefix = keys::tagged(keys::kOwnerIndexTag, {*owner});
  } else if (author) {
    prefix = keys::tagged(keys::kAuthorIndexTag, {*author});
  } else {
    prefix = Bytes{keys::kAssetIndexTag};
  }
  std::vector<Bytes> ids = reader.scan_keys(prefix, after, limit);
  json assets = json::array();
  json next = nullptr;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i == limit) {
      next = params.make_cursor(ids[i - 1]);
      break;
    }
    v1::ObjectEnvelope object;
    v1::CodeAsset body;
    if (!reader.read(keys::object(ids[i]), &object) || !body.ParseFromString(object.body())) continue;
    assets.push_back({{"id", to_hex(ids[i])},
                      {"name", body.name()},
                      {"kind", kind_of(body)},
                      {"owner", address_or_null(object.owner())},
                      {"wrapped_by", object.wrapped_by().empty() ? json(nullptr) : json(hex_of(object.wrapped_by()))},
                      {"author", address_text(body.author())}});
  }
  return {{"assets", assets}, {"next_cursor", next}};
}

json encode_version(const std::string& id, const v1::StoredVersion& stored) {
  const v1::CodeVersion& version = stored.version();
  json parents = json::array();
  for (const std::string& parent : version.parents()) parents.push_back(hex_of(parent));
  return {{"id", hex_of(id)},
          {"parents", parents},
          {"author", address_text(version.author())},
          {"message", version.message()},
          {"height", version.height()},
          {"tree_hash", hex_of(version.tree_hash())},
          {"file_count", stored.file_count()}};
}

uint64_t decode_u64(ByteView bytes) {
  uint64_t value = 0;
  for (uint8_t byte : bytes) value = (value << 8) | byte;
  return value;
}

Bytes encode_u64(uint64_t value) {
  Bytes out(8);
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(value >> (56 - 8 * i));
  return out;
}

json code_log(CodeReader& reader, const CodeParams& params) {
  Hash32 id = params.base().required_hash("id");
  auto branch = params.optional_string("branch");
  auto start_version = params.base().optional_hash("version");
  if (branch && start_version) throw RpcError(kInvalidParams, "params: pass either branch or version, not both");
  uint64_t limit = params.limit();
  Bytes after = params.cursor();
  if (!after.empty() && after.size() != 8) {
    throw RpcError(kInvalidParams, "params.cursor: not a cursor returned by this node; pass next_cursor unchanged");
  }

  v1::ObjectEnvelope object;
  v1::CodeAsset body;
  load_asset(reader, id, &object, &body);
  std::string start;
  if (start_version) {
    start = to_string(*start_version);
  } else {
    std::string name = branch.value_or("main");
    for (const v1::BranchRef& ref : body.branches()) {
      if (ref.name() == name) start = ref.version();
    }
    if (start.empty()) throw RpcError(kNotFound, fmt::format("asset {} has no branch '{}'", to_hex(id), name));
  }

  // Ancestors of start in descending seq, which is a topological order
  // because a parent always has a smaller seq than its child. A max-heap on
  // seq pops them in that order: every ancestor not yet popped has a
  // descendant in the heap, and that descendant's seq is larger. So a page
  // reads only the versions down to its last entry, plus their parents,
  // instead of the whole history.
  struct Entry {
    uint64_t seq;
    std::string id;
    v1::StoredVersion stored;
    bool operator<(const Entry& other) const { return seq < other.seq; }
  };
  std::priority_queue<Entry> heap;
  std::set<std::string> seen;
  auto visit = [&](const std::string& version) {
    if (!seen.insert(version).second) return;
    if (seen.size() > kMaxLogWalk) {
      throw RpcError(kInternalError, fmt::format("history of {} has more than {} versions", to_hex(id), kMaxLogWalk));
    }
    v1::StoredVersion stored;
    reader.require(keys::version(as_view(version)), &stored, "version", as_view(version));
    if (stored.version().asset_id() != to_string(id)) {
      throw RpcError(kNotFound, fmt::format("version {} not found in asset {}", hex_of(version), to_hex(id)));
    }
    uint64_t seq = stored.seq();
    heap.push(Entry{seq, version, std::move(stored)});
  };
  visit(start);

  std::optional<uint64_t> below;
  if (!after.empty()) below = decode_u64(after);
  json versions = json::array();
  json next = nullptr;
  uint64_t last_seq = 0;
  while (!heap.empty()) {
    if (versions.size() == limit) {
      next = params.make_cursor(encode_u64(last_seq));
      break;
    }
    Entry entry = heap.top();
    heap.pop();
    for (const std::string& parent : entry.stored.version().parents()) visit(parent);
    if (below && entry.seq >= *below) continue;
    last_seq = entry.seq;
    versions.push_back(encode_version(entry.id, entry.stored));
  }
  return {{"versions", versions}, {"next_cursor", next}};
}

json code_tree(CodeReader& reader, const CodeParams& params) {
  Hash32 version_id = params.base().required_hash("version");
  v1::StoredVersion stored;
  reader.require(keys::version(version_id), &stored, "version", version_id);
  v1::CodeTree tree;
  const std::string& tree_hash = stored.version().tree_hash();
  reader.require(keys::tree(as_view(tree_hash)), &tree, "tree", as_view(tree_hash));
  json entries = json::array();
  for (const v1::StoredTreeEntry& entry : tree.entries()) {
    entries.push_back(
        {{"path", entry.path()}, {"blob_hash", hex_of(entry.blob_hash())}, {"mode", entry.mode()}, {"size", entry.size()}});
  }
  return {{"version", to_hex(version_id)}, {"asset_id", hex_of(stored.version().asset_id())}, {"entries", entries}};
}

json code_blob(const execution::ChainQuery& chain, const CodeParams& params) {
  Hash32 hash = params.base().required_hash("hash");
  std::optional<Bytes> value;
  check(chain.state_get(keys::blob(hash), &value));
  if (!value) throw RpcError(kNotFound, fmt::format("blob {} not found", to_hex(hash)));
  return {{"hash", to_hex(hash)}, {"size", value->size()}, {"data_base64", base64(to_string(*value))}};
}

std::string status_name(v1::CodeProposal::Status status) {
  switch (status) {
    case v1::CodeProposal::STATUS_LANDED: return "landed";
    case v1::CodeProposal::STATUS_REJECTED: return "rejected";
    default: return "open";
  }
}

json encode_proposal(const v1::CodeProposal& proposal) {
  json approvals = json::array();
  for (const std::string& reviewer : proposal.approvals()) approvals.push_back(address_text(reviewer));
  json rejections = json::array();
  for (const std::string& reviewer : proposal.rejections()) rejections.push_back(address_text(reviewer));
  return {
      {"id", hex_of(proposal.id())},
      {"branch", proposal.branch()},
      {"author", address_text(proposal.author())},
      {"message", proposal.message()},
      {"tree_hash", hex_of(proposal.tree_hash())},
      {"other_version", proposal.other_version().empty() ? json(nullptr) : json(hex_of(proposal.other_version()))},
      {"approvals", approvals},
      {"rejections", rejections},
      {"status", status_name(proposal.status())},
      {"landed_version", proposal.landed_version().empty() ? json(nullptr) : json(hex_of(proposal.landed_version()))},
  };
}

json code_proposals(CodeReader& reader, const CodeParams& params) {
  Hash32 id = params.base().required_hash("id");
  auto status = params.optional_string("status");
  if (status && *status != "open" && *status != "landed" && *status != "rejected") {
    throw RpcError(kInvalidParams,
                   fmt::format("params.status: '{}' is not one of open, landed or rejected", *status));
  }
  uint64_t limit = params.limit();
  Bytes after = params.cursor();
  v1::ObjectEnvelope object;
  v1::CodeAsset body;
  load_asset(reader, id, &object, &body);

  json proposals = json::array();
  json next = nullptr;
  Bytes prefix = keys::tagged(keys::kProposalIndexTag, {id});
  // Filtering by status may skip entries, so scan until a page is full or
  // the index ends.
  bool exhausted = false;
  while (proposals.size() < limit && !exhausted) {
    std::vector<Bytes> ids = reader.scan_keys(prefix, after, limit);
    exhausted = ids.size() <= limit;
    size_t examined = 0;
    for (; examined < std::min<size_t>(ids.size(), limit) && proposals.size() < limit; ++examined) {
      after = ids[examined];
      v1::CodeProposal proposal;
      if (!reader.read(keys::proposal(ids[examined]), &proposal)) continue;
      if (status && status_name(proposal.status()) != *status) continue;
      proposals.push_back(encode_proposal(proposal));
    }
    bool more = examined < ids.size() || !exhausted;
    if (proposals.size() == limit && more) next = params.make_cursor(after);
  }
  return {{"proposals", proposals}, {"next_cursor", next}};
}

json offer_get(CodeReader& reader, const CodeParams& params) {
  Hash32 id = params.base().required_hash("id");
  v1::Offer offer;
  reader.require(keys::offer(id), &offer, "offer", id);
  return {
      {"id", to_hex(id)},
      {"object_id", hex_of(offer.object_id())},
      {"seller", address_text(offer.seller())},
      {"price", {{"denom", offer.price().denom()}, {"amount", offer.price().amount()}}},
      {"buyer", address_or_null(offer.buyer())},
      {"expiry_height", offer.expiry_height()},
      {"commitment", hex_of(offer.commitment())},
  };
}

// The hex hashes of params.<name>: an array of at most max_count entries
// of 64 hex characters each.
std::vector<Bytes> required_hash_list(const json& raw, std::string_view name, size_t max_count) {
  auto list = raw.is_object() ? raw.find(name) : raw.end();
  if (!raw.is_object() || list == raw.end()) {
    throw RpcError(kInvalidParams, fmt::format("params.{}: missing required parameter", name));
  }
  if (!list->is_array()) {
    throw RpcError(kInvalidParams,
                   fmt::format("params.{}: expected an array of hex hashes, got {}", name, describe_json(*list)));
  }
  if (list->size() > max_count) {
    throw RpcError(kInvalidParams, fmt::format("params.{}: {} hashes; the maximum is {}", name, list->size(), max_count));
  }
  std::vector<Bytes> hashes;
  hashes.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    const json& entry = (*list)[i];
    auto bytes = entry.is_string() ? from_hex(entry.get<std::string>()) : std::nullopt;
    if (!bytes || bytes->size() != 32) {
      throw RpcError(kInvalidParams, fmt::format("params.{}[{}]: expected 64 hex characters (a SHA-256 hash)", name, i));
    }
    hashes.push_back(std::move(*bytes));
  }
  return hashes;
}

json blobs_missing(const execution::ChainQuery& chain, const json& raw) {
  std::vector<Bytes> hashes = required_hash_list(raw, "hashes", kMaxBlobQueries);
  json missing = json::array();
  for (const Bytes& hash : hashes) {
    std::optional<Bytes> value;
    check(chain.state_get(keys::blob(hash), &value));
    if (!value) missing.push_back(to_hex(hash));
  }
  return {{"missing", missing}};
}

// The results of committed txs without their bodies, so that a client
// waiting for many large txs (blob uploads) reads neither the blocks nor
// the blobs again. A tx not in a committed block is "not_committed",
// whether it waits in the mempool or is unknown.
json tx_results(const execution::ChainQuery& chain, const json& raw) {
  std::vector<Bytes> hashes = required_hash_list(raw, "hashes", kMaxTxQueries);
  json results = json::array();
  std::map<uint64_t, v1::BlockResults> blocks;
  for (const Bytes& bytes : hashes) {
    Hash32 hash = *to_array<32>(bytes);
    std::string hash_hex = to_hex(hash);
    v1::TxLocation location;
    Status found = chain.tx_location(hash, &location);
    if (found.is_not_found()) {
      results.push_back({{"hash", hash_hex}, {"status", "not_committed"}});
      continue;
    }
    check(found);

    auto block = blocks.find(location.height());
    if (block == blocks.end()) {
      block = blocks.emplace(location.height(), v1::BlockResults()).first;
      check(chain.block_results(location.height(), &block->second));
    }
    const v1::TxResult* result = nullptr;
    for (const auto& candidate : block->second.results()) {
      if (candidate.index() == location.index()) result = &candidate;
    }
    if (result == nullptr || result->tx_hash() != std::string(hash.begin(), hash.end())) {
      throw RpcError(kInternalError,
                     fmt::format("no result stored for tx {} at height {}", hash_hex, location.height()));
    }
    json out = encode_result(*result);
    out["status"] = "committed";
    out["height"] = location.height();
    out["index"] = location.index();
    out["created"] = encode_created(*result);
    results.push_back(std::move(out));
  }
  return {{"results", results}};
}

}  // namespace

bool is_code_method(std::string_view method) {
  return std::find(kMethods.begin(), kMethods.end(), method) != kMethods.end();
}

json code_method(const execution::ChainQuery& chain, const std::string& method, const json& params) {
  CodeReader reader(chain);
  if (method == "code_get") return code_get(reader, CodeParams(params, method, {"id"}));
  if (method == "code_list") {
    return code_list(reader, CodeParams(params, method, {"owner", "author", "cursor", "limit"}));
  }
  if (method == "code_log") {
    return code_log(reader, CodeParams(params, method, {"id", "branch", "version", "cursor", "limit"}));
  }
  if (method == "code_tree") return code_tree(reader, CodeParams(params, method, {"version"}));
  if (method == "code_blob") return code_blob(chain, CodeParams(params, method, {"hash"}));
  if (method == "code_proposals") {
    return code_proposals(reader, CodeParams(params, method, {"id", "status", "cursor", "limit"}));
  }
  if (method == "offer_get") return offer_get(reader, CodeParams(params, method, {"id"}));
  if (method == "blobs_missing") {
    CodeParams checked(params, method, {"hashes"});
    return blobs_missing(chain, params);
  }
  if (method == "tx_results") {
    CodeParams checked(params, method, {"hashes"});
    return tx_results(chain, params);
  }
  throw RpcError(kMethodNotFound, fmt::format("method not found: {}", method));
}

json encode_created(const v1::TxResult& result) {
  json created = json::array();
  for (const v1::CreatedObject& object : result.created()) {
    created.push_back({{"op_index", object.op_index()}, {"kind", object.kind()}, {"id", hex_of(object.id())}});
  }
  return created;
}

}  // namespace automata::rpc
