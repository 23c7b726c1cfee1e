#include "asset_store.h"

#include "automata/crypto/sha256.h"
#include "automata/types/state_keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace automata::code::detail {

using objects::charge;
using objects::fail;
namespace gas = objects::gas;

Status load_asset(ObjectContext& context, ByteView id, Asset* asset, OpResult* result) {
  Status status = objects::load_object(context, id, &asset->object, result);
  if (!status.is_ok() || !result->ok()) return status;
  const std::string& type = asset->object.type();
  if (type != objects::kTypeRepository && type != objects::kTypeComposite) {
    *result = fail(ResultCode::kWrongObjectKind,
                   fmt::format("object {} is a {}, not a code asset", to_hex(id), asset->object.type()));
    return Status::ok();
  }
  if (!asset->body.ParseFromString(asset->object.body())) {
    return Status::corruption(fmt::format("body of code asset {} does not parse as automata.v1.CodeAsset", to_hex(id)));
  }
  return Status::ok();
}

Status load_owned_repository(ObjectContext& context, ByteView id, std::string_view action, Asset* asset,
                             OpResult* result) {
  Status status = load_asset(context, id, asset, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = objects::require_owner(context, asset->object, action);
  if (!result->ok()) return Status::ok();
  if (asset->body.kind() != v1::CodeAsset::KIND_REPOSITORY) {
    *result = fail(ResultCode::kWrongObjectKind,
                   fmt::format("asset {} is a composite, which has no versions or branches; cannot {}", to_hex(id),
                               action));
  }
  return Status::ok();
}

OpResult store_asset(ObjectContext& context, Asset* asset) {
  asset->object.set_body(asset->body.SerializeAsString());
  return objects::store_object(context, &asset->object);
}

Status load_version(ObjectContext& context, ByteView id, ByteView asset_id, v1::StoredVersion* version,
                    OpResult* result) {
  *result = charge(context, gas::kPerObjectRead, "reading a version");
  if (!result->ok()) return Status::ok();
  bool found = false;
  Status status = objects::read_record(*context.state, keys::version(id), version, &found);
  if (!status.is_ok()) return status;
  if (!found || (!asset_id.empty() && version->version().asset_id() != to_string(asset_id))) {
    *result = fail(ResultCode::kObjectNotFound,
                   asset_id.empty() ? fmt::format("version {} not found", to_hex(id))
                                    : fmt::format("version {} not found in asset {}", to_hex(id), to_hex(asset_id)));
  }
  return Status::ok();
}

Status load_tree(ObjectContext& context, ByteView hash, v1::CodeTree* tree, OpResult* result) {
  *result = charge(context, gas::kPerObjectRead, "reading a tree");
  if (!result->ok()) return Status::ok();
  bool found = false;
  Status status = objects::read_record(*context.state, keys::tree(hash), tree, &found);
  if (!status.is_ok()) return status;
  if (!found) *result = fail(ResultCode::kObjectNotFound, fmt::format("tree {} not found", to_hex(hash)));
  return Status::ok();
}

Status add_known_blob_sizes(ObjectContext& context, ByteView version_id, KnownBlobSizes* sizes) {
  bool found = false;
  v1::StoredVersion version;
  Status status = objects::read_record(*context.state, keys::version(version_id), &version, &found);
  if (!status.is_ok() || !found) return status;
  auto stored = std::make_unique<v1::CodeTree>();
  status = objects::read_record(*context.state, keys::tree(as_view(version.version().tree_hash())), stored.get(), &found);
  if (!status.is_ok() || !found) return status;
  sizes->sizes.reserve(sizes->sizes.size() + static_cast<size_t>(stored->entries_size()));
  for (const v1::StoredTreeEntry& entry : stored->entries()) sizes->sizes.emplace(entry.blob_hash(), entry.size());
  sizes->trees.push_back(std::move(stored));
  return Status::ok();
}

Status build_tree(ObjectContext& context, const google::protobuf::RepeatedPtrField<v1::TreeEntry>& entries,
                  const KnownBlobSizes* known, BuiltTree* tree, OpResult* result) {
  *result = charge(context, gas::kPerTreeEntry * static_cast<uint64_t>(entries.size()), "hashing the tree");
  if (!result->ok()) return Status::ok();
  std::vector<const v1::TreeEntry*> sorted;
  sorted.reserve(static_cast<size_t>(entries.size()));
  for (const v1::TreeEntry& entry : entries) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const v1::TreeEntry* a, const v1::TreeEntry* b) { return a->path() < b->path(); });

  // A blob named by several files is read and charged once. The map is
  // only looked up, never iterated.
  std::unordered_map<std::string_view, uint64_t> sizes;
  sizes.reserve(sorted.size());
  tree->stored.Clear();
  tree->stored.mutable_entries()->Reserve(static_cast<int>(sorted.size()));
  for (const v1::TreeEntry* entry_pointer : sorted) {
    const v1::TreeEntry& entry = *entry_pointer;
    auto cached = sizes.find(entry.blob_hash());
    if (cached == sizes.end()) {
      *result = charge(context, gas::kPerObjectRead, "reading a blob");
      if (!result->ok()) return Status::ok();
      auto hit = known != nullptr ? known->sizes.find(entry.blob_hash()) : decltype(known->sizes)::const_iterator{};
      uint64_t size = 0;
      if (known != nullptr && hit != known->sizes.end()) {
        size = hit->second;
      } else {
        std::optional<Bytes> blob;
        Status status = context.state->get(keys::blob(as_view(entry.blob_hash())), &blob);
        if (!status.is_ok()) return status;
        if (!blob) {
          *result = fail(ResultCode::kBlobMissing,
                         fmt::format("file '{}' names blob {}, which is not stored; upload it with code_upload_blobs "
                                     "in this tx or an earlier one",
                                     entry.path(), to_hex(as_view(entry.blob_hash()))));
          return Status::ok();
        }
        size = blob->size();
      }
      cached = sizes.emplace(entry.blob_hash(), size).first;
    }
    v1::StoredTreeEntry* stored = tree->stored.add_entries();
    stored->set_path(entry.path());
    stored->set_blob_hash(entry.blob_hash());
    stored->set_mode(entry.mode());
    stored->set_size(cached->second);
  }
  tree->hash = tree_hash(sorted);
  return Status::ok();
}

Status add_version(ObjectContext& context, Asset* asset, const std::vector<std::string>& parents,
                   const BuiltTree& tree, const Address& author, const std::string& message, Hash32* id,
                   OpResult* result) {
  v1::CodeVersion version;
  version.set_asset_id(asset->object.id());
  for (const std::string& parent : parents) version.add_parents(parent);
  version.set_tree_hash(tree.hash.data(), tree.hash.size());
  version.set_author(author.data(), author.size());
  version.set_message(message);
  version.set_height(context.height);
  *id = crypto::sha256(as_view(version.SerializeAsString()));

  *result = charge(context, 2 * gas::kPerObjectRead, "reading the version and tree");
  if (!result->ok()) return Status::ok();
  std::optional<Bytes> existing;
  Status status = context.state->get(keys::tree(tree.hash), &existing);
  if (!status.is_ok()) return status;
  if (!existing) {
    *result = charge(context, gas::kPerObjectWrite, "writing the tree");
    if (!result->ok()) return Status::ok();
    objects::write_record(*context.state, keys::tree(tree.hash), tree.stored);
  }
  status = context.state->get(keys::version(*id), &existing);
  if (!status.is_ok()) return status;
  if (!existing) {
    *result = charge(context, gas::kPerObjectWrite, "writing the version");
    if (!result->ok()) return Status::ok();
    v1::StoredVersion stored;
    *stored.mutable_version() = version;
    stored.set_seq(asset->body.next_seq());
    stored.set_file_count(static_cast<uint32_t>(tree.stored.entries_size()));
    asset->body.set_next_seq(asset->body.next_seq() + 1);
    objects::write_record(*context.state, keys::version(*id), stored);
  }
  objects::record_created(context, "version", *id);
  return Status::ok();
}

Status change_bytes(ObjectContext& context, const std::string& base, const v1::CodeTree& tree, uint64_t* bytes,
                    OpResult* result) {
  std::map<std::string_view, std::string_view> base_files;
  v1::CodeTree base_tree;
  if (!base.empty()) {
    v1::StoredVersion version;
    Status status = load_version(context, as_view(base), {}, &version, result);
    if (!status.is_ok() || !result->ok()) return status;
    status = load_tree(context, as_view(version.version().tree_hash()), &base_tree, result);
    if (!status.is_ok() || !result->ok()) return status;
    for (const v1::StoredTreeEntry& entry : base_tree.entries()) base_files.emplace(entry.path(), entry.blob_hash());
  }
  *bytes = 0;
  for (const v1::StoredTreeEntry& entry : tree.entries()) {
    auto it = base_files.find(entry.path());
    if (it != base_files.end() && it->second == entry.blob_hash()) continue;
    *bytes += entry.size();
  }
  return Status::ok();
}

v1::BranchRef* find_branch(v1::CodeAsset* body, std::string_view name) {
  for (v1::BranchRef& ref : *body->mutable_branches()) {
    if (ref.name() == name) return &ref;
  }
  return nullptr;
}

void set_branch(v1::CodeAsset* body, std::string_view name, ByteView version) {
  if (v1::BranchRef* ref = find_branch(body, name)) {
    ref->set_version(version.data(), version.size());
    return;
  }
  auto* branches = body->mutable_branches();
  v1::BranchRef* ref = branches->Add();
  ref->set_name(std::string(name));
  ref->set_version(version.data(), version.size());
  for (int i = branches->size() - 1; i > 0 && branches->Get(i).name() < branches->Get(i - 1).name(); --i) {
    branches->SwapElements(i, i - 1);
  }
}

const v1::BranchRules* find_rules(const v1::CodeAsset& body, std::string_view branch) {
  for (const v1::BranchRules& rules : body.rules()) {
    if (rules.branch() == branch) return &rules;
  }
  return nullptr;
}

bool is_protected(const v1::CodeAsset& body, std::string_view branch) {
  const v1::BranchRules* rules = find_rules(body, branch);
  return rules != nullptr && rules->required_approvals() > 0;
}

Status advance_branch(ObjectContext& context, Asset* asset, std::string_view branch, const std::string& other_version,
                      const BuiltTree& tree, const Address& author, const std::string& message, Hash32* id,
                      OpResult* result) {
  v1::BranchRef* ref = find_branch(&asset->body, branch);
  if (ref == nullptr) {
    *result = branch_not_found(*asset, branch);
    return Status::ok();
  }
  std::vector<std::string> parents{ref->version()};
  if (!other_version.empty()) {
    v1::StoredVersion other;
    Status status = load_version(context, as_view(other_version), as_view(asset->object.id()), &other, result);
    if (!status.is_ok() || !result->ok()) return status;
    parents.push_back(other_version);
  }
  Status status = add_version(context, asset, parents, tree, author, message, id, result);
  if (!status.is_ok() || !result->ok()) return status;
  set_branch(&asset->body, branch, *id);
  return Status::ok();
}

OpResult branch_not_found(const Asset& asset, std::string_view branch) {
  return fail(ResultCode::kBranchNotFound,
              fmt::format("asset {} has no branch '{}'", to_hex(as_view(asset.object.id())), branch));
}

}  // namespace automata::code::detail
