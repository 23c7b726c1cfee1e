// Review rules, proposals and reviews: the pull-request flow of protected
// branches.
#include "asset_store.h"
#include "automata/crypto/bech32.h"
#include "automata/types/state_keys.h"

#include <fmt/format.h>

#include <algorithm>

namespace automata::code {

using namespace detail;
using objects::charge;
using objects::fail;
namespace gas = objects::gas;

namespace {

bool contains(const google::protobuf::RepeatedPtrField<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

void remove(google::protobuf::RepeatedPtrField<std::string>* list, std::string_view value) {
  for (int i = 0; i < list->size(); ++i) {
    if (list->Get(i) == value) {
      list->DeleteSubrange(i, 1);
      return;
    }
  }
}

// Checks the license allow-list and the change size bound of rules for a
// proposed tree against the branch head.
Status check_rules(ObjectContext& context, const Asset& asset, const v1::BranchRules& rules, const std::string& head,
                   const v1::CodeTree& tree, OpResult* result) {
  if (rules.license_allow_list_size() > 0 && !contains(rules.license_allow_list(), asset.body.license())) {
    *result = fail(ResultCode::kLicenseNotAllowed,
                   fmt::format("license '{}' of asset {} is not in the allow-list of branch '{}'", asset.body.license(),
                               to_hex(as_view(asset.object.id())), rules.branch()));
    return Status::ok();
  }
  if (rules.max_change_bytes() == 0) return Status::ok();
  uint64_t bytes = 0;
  Status status = change_bytes(context, head, tree, &bytes, result);
  if (!status.is_ok() || !result->ok()) return status;
  if (bytes > rules.max_change_bytes()) {
    *result = fail(ResultCode::kChangeTooLarge,
                   fmt::format("the change adds or modifies {} bytes; the bound max_change_bytes of branch '{}' is {}",
                               bytes, rules.branch(), rules.max_change_bytes()));
  }
  return Status::ok();
}

void drop_open_proposal(v1::CodeAsset* body, const std::string& id) { remove(body->mutable_open_proposals(), id); }

// Lands an approved proposal as a new version on the current head of its
// branch.
Status land(ObjectContext& context, v1::CodeProposal* proposal, OpResult* result) {
  Asset asset;
  Status status = load_asset(context, as_view(proposal->asset_id()), &asset, result);
  if (!status.is_ok() || !result->ok()) return status;
  if (!asset.object.wrapped_by().empty()) {
    *result = fail(ResultCode::kObjectWrapped,
                   fmt::format("asset {} is wrapped in composite {}; decompose it before proposal {} can land",
                               to_hex(as_view(asset.object.id())), to_hex(as_view(asset.object.wrapped_by())),
                               to_hex(as_view(proposal->id()))));
    return Status::ok();
  }
  v1::BranchRef* ref = find_branch(&asset.body, proposal->branch());
  if (ref == nullptr) {
    *result = branch_not_found(asset, proposal->branch());
    return Status::ok();
  }
  BuiltTree tree;
  tree.hash = *to_array<32>(as_view(proposal->tree_hash()));
  status = load_tree(context, as_view(proposal->tree_hash()), &tree.stored, result);
  if (!status.is_ok() || !result->ok()) return status;
  if (const v1::BranchRules* rules = find_rules(asset.body, proposal->branch())) {
    status = check_rules(context, asset, *rules, ref->version(), tree.stored, result);
    if (!status.is_ok() || !result->ok()) return status;
  }

  Hash32 version{};
  Address author = objects::to_address(as_view(proposal->author()));
  status = advance_branch(context, &asset, proposal->branch(), proposal->other_version(), tree, author,
                          proposal->message(), &version, result);
  if (!status.is_ok() || !result->ok()) return status;
  drop_open_proposal(&asset.body, proposal->id());
  proposal->set_status(v1::CodeProposal::STATUS_LANDED);
  proposal->set_landed_version(version.data(), version.size());
  *result = store_asset(context, &asset);
  return Status::ok();
}

Status close_rejected(ObjectContext& context, v1::CodeProposal* proposal, OpResult* result) {
  Asset asset;
  Status status = load_asset(context, as_view(proposal->asset_id()), &asset, result);
  if (!status.is_ok() || !result->ok()) return status;
  drop_open_proposal(&asset.body, proposal->id());
  proposal->set_status(v1::CodeProposal::STATUS_REJECTED);
  *result = store_asset(context, &asset);
  return Status::ok();
}

}  // namespace

Status apply_set_rules(const v1::CodeSetRules& op, ObjectContext& context, OpResult* result) {
  Asset asset;
  Status status = load_owned_repository(context, as_view(op.asset_id()), "set its review rules", &asset, result);
  if (!status.is_ok() || !result->ok()) return status;
  if (find_branch(&asset.body, op.branch()) == nullptr) {
    *result = branch_not_found(asset, op.branch());
    return Status::ok();
  }

  auto* all_rules = asset.body.mutable_rules();
  for (int i = 0; i < all_rules->size(); ++i) {
    if (all_rules->Get(i).branch() == op.branch()) {
      all_rules->DeleteSubrange(i, 1);
      break;
    }
  }
  if (op.required_approvals() > 0 || op.reviewers_size() > 0 || op.max_change_bytes() > 0 ||
      op.license_allow_list_size() > 0) {
    v1::BranchRules* rules = all_rules->Add();
    rules->set_branch(op.branch());
    *rules->mutable_reviewers() = op.reviewers();
    rules->set_required_approvals(op.required_approvals());
    rules->set_max_change_bytes(op.max_change_bytes());
    *rules->mutable_license_allow_list() = op.license_allow_list();
    for (int i = all_rules->size() - 1; i > 0 && all_rules->Get(i).branch() < all_rules->Get(i - 1).branch(); --i) {
      all_rules->SwapElements(i, i - 1);
    }
  }
  v1::RulesChange* change = asset.body.add_rules_history();
  change->set_height(context.height);
  change->set_branch(op.branch());
  change->set_required_approvals(op.required_approvals());
  *result = store_asset(context, &asset);
  return Status::ok();
}

Status apply_propose(const v1::CodePropose& op, ObjectContext& context, OpResult* result) {
  Asset asset;
  Status status = load_asset(context, as_view(op.asset_id()), &asset, result);
  if (!status.is_ok() || !result->ok()) return status;
  if (!asset.object.wrapped_by().empty()) {
    *result = fail(ResultCode::kObjectWrapped,
                   fmt::format("asset {} is wrapped in composite {}; it takes no proposals on its own",
                               to_hex(as_view(op.asset_id())), to_hex(as_view(asset.object.wrapped_by()))));
    return Status::ok();
  }
  if (asset.body.kind() != v1::CodeAsset::KIND_REPOSITORY) {
    *result = fail(ResultCode::kWrongObjectKind,
                   fmt::format("asset {} is a composite, which has no branches to propose to",
                               to_hex(as_view(op.asset_id()))));
    return Status::ok();
  }
  v1::BranchRef* ref = find_branch(&asset.body, op.branch());
  if (ref == nullptr) {
    *result = branch_not_found(asset, op.branch());
    return Status::ok();
  }
  const v1::BranchRules* rules = find_rules(asset.body, op.branch());
  if (rules == nullptr || rules->required_approvals() == 0) {
    *result = fail(ResultCode::kBranchNotProtected,
                   fmt::format("branch '{}' of asset {} has no review rules; its owner commits with code_commit",
                               op.branch(), to_hex(as_view(op.asset_id()))));
    return Status::ok();
  }
  if (!op.other_version().empty()) {
    v1::StoredVersion other;
    status = load_version(context, as_view(op.other_version()), as_view(op.asset_id()), &other, result);
    if (!status.is_ok() || !result->ok()) return status;
  }
  KnownBlobSizes known;
  status = add_known_blob_sizes(context, as_view(ref->version()), &known);
  if (status.is_ok() && !op.other_version().empty()) {
    status = add_known_blob_sizes(context, as_view(op.other_version()), &known);
  }
  if (!status.is_ok()) return status;
  BuiltTree tree;
  status = build_tree(context, op.tree(), &known, &tree, result);
  if (!status.is_ok() || !result->ok()) return status;
  status = check_rules(context, asset, *rules, ref->version(), tree.stored, result);
  if (!status.is_ok() || !result->ok()) return status;

  *result = charge(context, 3 * gas::kPerObjectWrite, "writing the proposal");
  if (!result->ok()) return Status::ok();
  std::optional<Bytes> existing;
  status = context.state->get(keys::tree(tree.hash), &existing);
  if (!status.is_ok()) return status;
  if (!existing) objects::write_record(*context.state, keys::tree(tree.hash), tree.stored);

  Hash32 id = objects::derive_object_id(context.tx_hash, context.op_index);
  v1::CodeProposal proposal;
  proposal.set_id(id.data(), id.size());
  proposal.set_asset_id(op.asset_id());
  proposal.set_branch(op.branch());
  proposal.set_author(context.signer.data(), context.signer.size());
  proposal.set_message(op.message());
  proposal.set_tree_hash(tree.hash.data(), tree.hash.size());
  proposal.set_other_version(op.other_version());
  proposal.set_status(v1::CodeProposal::STATUS_OPEN);
  proposal.set_created_height(context.height);
  objects::write_record(*context.state, keys::proposal(id), proposal);
  objects::put_index(*context.state, keys::proposal_index(as_view(op.asset_id()), id));
  objects::record_created(context, "proposal", id);
  asset.body.add_open_proposals(id.data(), id.size());
  *result = store_asset(context, &asset);
  return Status::ok();
}

Status apply_review(const v1::CodeReview& op, ObjectContext& context, OpResult* result) {
  *result = charge(context, gas::kPerObjectRead, "reading the proposal");
  if (!result->ok()) return Status::ok();
  v1::CodeProposal proposal;
  bool found = false;
  Status status = objects::read_record(*context.state, keys::proposal(as_view(op.proposal_id())), &proposal, &found);
  if (!status.is_ok()) return status;
  std::string id_hex = to_hex(as_view(op.proposal_id()));
  if (!found) {
    *result = fail(ResultCode::kObjectNotFound, fmt::format("proposal {} not found", id_hex));
    return Status::ok();
  }
  if (proposal.status() != v1::CodeProposal::STATUS_OPEN) {
    *result = fail(ResultCode::kProposalClosed,
                   fmt::format("proposal {} is {}; only open proposals take reviews", id_hex,
                               proposal.status() == v1::CodeProposal::STATUS_LANDED ? "landed" : "rejected"));
    return Status::ok();
  }

  Asset asset;
  status = load_asset(context, as_view(proposal.asset_id()), &asset, result);
  if (!status.is_ok() || !result->ok()) return status;
  const v1::BranchRules* rules = find_rules(asset.body, proposal.branch());
  std::string signer(context.signer.begin(), context.signer.end());
  if (rules == nullptr || !contains(rules->reviewers(), signer)) {
    *result = fail(ResultCode::kNotReviewer,
                   fmt::format("signer {} is not a reviewer of branch '{}' of asset {}",
                               crypto::encode_address(context.signer), proposal.branch(),
                               to_hex(as_view(proposal.asset_id()))));
    return Status::ok();
  }

  // A new review replaces the reviewer's earlier one.
  remove(proposal.mutable_approvals(), signer);
  remove(proposal.mutable_rejections(), signer);
  if (op.approve()) {
    proposal.add_approvals(signer);
  } else {
    proposal.add_rejections(signer);
  }

  // Only reviews from reviewers listed now count, so a rules change takes
  // effect on open proposals.
  uint32_t approvals = 0;
  uint32_t rejections = 0;
  for (const std::string& reviewer : proposal.approvals()) approvals += contains(rules->reviewers(), reviewer);
  for (const std::string& reviewer : proposal.rejections()) rejections += contains(rules->reviewers(), reviewer);
  uint32_t reviewers = static_cast<uint32_t>(rules->reviewers_size());
  if (approvals >= rules->required_approvals()) {
    status = land(context, &proposal, result);
    if (!status.is_ok() || !result->ok()) return status;
  } else if (reviewers - rejections < rules->required_approvals()) {
    status = close_rejected(context, &proposal, result);
    if (!status.is_ok() || !result->ok()) return status;
  }

  *result = charge(context, gas::kPerObjectWrite, "writing the proposal");
  if (!result->ok()) return Status::ok();
  objects::write_record(*context.state, keys::proposal(as_view(proposal.id())), proposal);
  return Status::ok();
}

}  // namespace automata::code
