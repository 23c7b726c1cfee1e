// Blob upload, publish, commit, merge and branch ops.
#include "asset_store.h"
#include "automata/crypto/sha256.h"
#include "automata/types/state_keys.h"

#include <fmt/format.h>

namespace automata::code {

using namespace detail;
using objects::charge;
using objects::fail;
namespace gas = objects::gas;

namespace {

constexpr std::string_view kMainBranch = "main";

// action is "commit", "merge", "move" or "delete". A commit or merge can
// land through a reviewed proposal; a move or delete needs the rules gone.
OpResult refuse_protected(const Asset& asset, std::string_view branch, std::string_view action) {
  bool changes_content = action == "commit" || action == "merge";
  return fail(ResultCode::kBranchProtected,
              fmt::format("branch '{}' of asset {} is protected by review rules, so it rejects a direct {}; {}", branch,
                          to_hex(as_view(asset.object.id())), action,
                          changes_content ? "propose the change with 'automata code propose' (op code_propose)"
                                          : "its owner must first remove the rules with 'automata code rules' and "
                                            "--approvals 0 (op code_set_rules)"));
}

}  // namespace

Status apply_upload_blobs(const v1::CodeUploadBlobs& op, ObjectContext& context, OpResult* result) {
  for (const std::string& blob : op.blobs()) {
    *result = charge(context, gas::kPerObjectRead, "checking a blob");
    if (!result->ok()) return Status::ok();
    Hash32 hash = crypto::sha256(as_view(blob));
    Bytes key = keys::blob(hash);
    std::optional<Bytes> existing;
    Status status = context.state->get(key, &existing);
    if (!status.is_ok()) return status;
    if (existing) continue;
    *result = charge(context, gas::kPerObjectWrite + gas::kPerBlobByte * blob.size(), "storing a blob");
    if (!result->ok()) return Status::ok();
    context.state->put(std::move(key), to_bytes(blob));
  }
  *result = {};
  return Status::ok();
}

Status apply_publish(const v1::CodePublish& op, ObjectContext& context, OpResult* result) {
  BuiltTree tree;
  Status status = build_tree(context, op.tree(), nullptr, &tree, result);
  if (!status.is_ok() || !result->ok()) return status;

  Hash32 id = objects::derive_object_id(context.tx_hash, context.op_index);
  objects::record_created(context, "asset", id);
  Asset asset;
  asset.object.set_id(id.data(), id.size());
  asset.object.set_type(std::string(objects::kTypeRepository));
  asset.object.set_created_height(context.height);
  asset.body.set_kind(v1::CodeAsset::KIND_REPOSITORY);
  asset.body.set_name(op.name());
  asset.body.set_author(context.signer.data(), context.signer.size());
  asset.body.set_license(op.license());
  *asset.body.mutable_language_tags() = op.language_tags();
  asset.body.set_royalty_bps(op.royalty_bps());

  Hash32 version{};
  status = add_version(context, &asset, {}, tree, context.signer, op.message(), &version, result);
  if (!status.is_ok() || !result->ok()) return status;
  set_branch(&asset.body, kMainBranch, version);

  *result = charge(context, 3 * gas::kPerObjectWrite, "writing the asset indexes");
  if (!result->ok()) return Status::ok();
  objects::set_owner(context, &asset.object, context.signer);
  objects::put_index(*context.state, keys::author_index(context.signer, id));
  objects::put_index(*context.state, keys::asset_index(id));
  *result = store_asset(context, &asset);
  return Status::ok();
}

Status apply_commit(const v1::CodeCommit& op, ObjectContext& context, OpResult* result) {
  Asset asset;
  Status status = load_owned_repository(context, as_view(op.asset_id()), "commit to it", &asset, result);
  if (!status.is_ok() || !result->ok()) return status;
  v1::BranchRef* ref = find_branch(&asset.body, op.branch());
  if (ref == nullptr) {
    *result = branch_not_found(asset, op.branch());
    return Status::ok();
  }
  if (is_protected(asset.body, op.branch())) {
    *result = refuse_protected(asset, op.branch(), "commit");
    return Status::ok();
  }
  if (!op.expected_head().empty() && op.expected_head() != ref->version()) {
    *result = fail(ResultCode::kHeadMismatch,
                   fmt::format("branch '{}' head is {}, not the expected head {}", op.branch(),
                               to_hex(as_view(ref->version())), to_hex(as_view(op.expected_head()))));
    return Status::ok();
  }
  // Most files of a commit are unchanged, and the head's tree already
  // records their blob sizes.
  KnownBlobSizes known;
  status = add_known_blob_sizes(context, as_view(ref->version()), &known);
  if (!status.is_ok()) return status;
  BuiltTree tree;
  status = build_tree(context, op.tree(), &known, &tree, result);
  if (!status.is_ok() || !result->ok()) return status;
  Hash32 version{};
  status = advance_branch(context, &asset, op.branch(), "", tree, context.signer, op.message(), &version, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = store_asset(context, &asset);
  return Status::ok();
}

Status apply_merge(const v1::CodeMerge& op, ObjectContext& context, OpResult* result) {
  Asset asset;
  Status status = load_owned_repository(context, as_view(op.asset_id()), "merge into it", &asset, result);
  if (!status.is_ok() || !result->ok()) return status;
  if (find_branch(&asset.body, op.branch()) == nullptr) {
    *result = branch_not_found(asset, op.branch());
    return Status::ok();
  }
  if (is_protected(asset.body, op.branch())) {
    *result = refuse_protected(asset, op.branch(), "merge");
    return Status::ok();
  }
  KnownBlobSizes known;
  status = add_known_blob_sizes(context, as_view(find_branch(&asset.body, op.branch())->version()), &known);
  if (status.is_ok()) status = add_known_blob_sizes(context, as_view(op.other_version()), &known);
  if (!status.is_ok()) return status;
  BuiltTree tree;
  status = build_tree(context, op.tree(), &known, &tree, result);
  if (!status.is_ok() || !result->ok()) return status;
  Hash32 version{};
  status = advance_branch(context, &asset, op.branch(), op.other_version(), tree, context.signer, op.message(),
                          &version, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = store_asset(context, &asset);
  return Status::ok();
}

Status apply_branch(const v1::CodeBranch& op, ObjectContext& context, OpResult* result) {
  Asset asset;
  Status status = load_owned_repository(context, as_view(op.asset_id()), "change its branches", &asset, result);
  if (!status.is_ok() || !result->ok()) return status;
  v1::BranchRef* ref = find_branch(&asset.body, op.name());
  bool create = op.action() == v1::CodeBranch::ACTION_CREATE;
  if (create && ref != nullptr) {
    *result = fail(ResultCode::kBranchExists, fmt::format("asset {} already has a branch '{}'",
                                                          to_hex(as_view(op.asset_id())), op.name()));
    return Status::ok();
  }
  if (!create && ref == nullptr) {
    *result = branch_not_found(asset, op.name());
    return Status::ok();
  }
  if (!create && is_protected(asset.body, op.name())) {
    *result = refuse_protected(asset, op.name(), op.action() == v1::CodeBranch::ACTION_MOVE ? "move" : "delete");
    return Status::ok();
  }

  if (op.action() == v1::CodeBranch::ACTION_DELETE) {
    auto* branches = asset.body.mutable_branches();
    for (int i = 0; i < branches->size(); ++i) {
      if (branches->Get(i).name() == op.name()) {
        branches->DeleteSubrange(i, 1);
        break;
      }
    }
  } else {
    v1::StoredVersion target;
    status = load_version(context, as_view(op.target_version()), as_view(op.asset_id()), &target, result);
    if (!status.is_ok() || !result->ok()) return status;
    set_branch(&asset.body, op.name(), as_view(op.target_version()));
  }
  *result = store_asset(context, &asset);
  return Status::ok();
}

}  // namespace automata::code
