// Compose and decompose, and the object rules (offer commitment, royalties,
// owner change) of code assets.
#include "asset_store.h"
#include "automata/crypto/sha256.h"
#include "automata/types/state_keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace automata::code {

using namespace detail;
using objects::charge;
using objects::fail;
namespace gas = objects::gas;

namespace {

// Walks the composites below id (depth counts from 1 at id's children) and
// fails with kCompositionCycle when it meets an id in `forbidden` or nests
// deeper than kMaxCompositeDepth.
Status check_no_cycle(ObjectContext& context, const Asset& asset, const std::set<std::string>& forbidden, int depth,
                      OpResult* result) {
  if (asset.body.kind() != v1::CodeAsset::KIND_COMPOSITE) return Status::ok();
  for (const v1::ComposeChild& child : asset.body.children()) {
    if (forbidden.count(child.asset_id()) > 0) {
      *result = fail(ResultCode::kCompositionCycle,
                     fmt::format("asset {} already contains {} at depth {}, so the composition would contain it twice "
                                 "or contain itself",
                                 to_hex(as_view(asset.object.id())), to_hex(as_view(child.asset_id())), depth));
      return Status::ok();
    }
    if (depth >= objects::kMaxCompositeDepth) {
      *result = fail(ResultCode::kCompositionCycle,
                     fmt::format("composite {} nests deeper than the maximum depth {}",
                                 to_hex(as_view(asset.object.id())), objects::kMaxCompositeDepth));
      return Status::ok();
    }
    Asset nested;
    Status status = load_asset(context, as_view(child.asset_id()), &nested, result);
    if (!status.is_ok() || !result->ok()) return status;
    status = check_no_cycle(context, nested, forbidden, depth + 1, result);
    if (!status.is_ok() || !result->ok()) return status;
  }
  return Status::ok();
}

Status collect_royalties(ObjectContext& context, const Asset& asset, const Address& seller, int depth,
                         std::vector<objects::Royalty>* out, OpResult* result) {
  if (asset.body.royalty_bps() > 0 && to_string(seller) != asset.body.author()) {
    out->push_back({objects::to_address(as_view(asset.body.author())), asset.body.royalty_bps(),
                    to_bytes(asset.object.id())});
  }
  if (asset.body.kind() != v1::CodeAsset::KIND_COMPOSITE) return Status::ok();
  if (depth >= objects::kMaxCompositeDepth) {
    *result = fail(ResultCode::kCompositionCycle,
                   fmt::format("composite {} nests deeper than the maximum depth {}", to_hex(as_view(asset.object.id())),
                               objects::kMaxCompositeDepth));
    return Status::ok();
  }
  for (const v1::ComposeChild& child : asset.body.children()) {
    Asset part;
    Status status = load_asset(context, as_view(child.asset_id()), &part, result);
    if (!status.is_ok() || !result->ok()) return status;
    status = collect_royalties(context, part, seller, depth + 1, out, result);
    if (!status.is_ok() || !result->ok()) return status;
  }
  return Status::ok();
}

class CodeObjectRules final : public objects::ObjectRules {
 public:
  Status commitment(ObjectContext&, const v1::ObjectEnvelope& object, Hash32* out, OpResult* result) const override {
    v1::CodeAsset body;
    if (!body.ParseFromString(object.body())) {
      return Status::corruption(fmt::format("body of code asset {} does not parse", to_hex(as_view(object.id()))));
    }
    v1::OfferCommitment commitment;
    commitment.set_object_id(object.id());
    // Children and branches are stored sorted, so equal content always
    // serializes to the same bytes.
    *commitment.mutable_children() = body.children();
    *commitment.mutable_branches() = body.branches();
    *out = crypto::sha256(as_view(commitment.SerializeAsString()));
    *result = {};
    return Status::ok();
  }

  Status royalties(ObjectContext& context, const v1::ObjectEnvelope& object, const Address& seller,
                   std::vector<objects::Royalty>* out, OpResult* result) const override {
    Asset asset;
    asset.object = object;
    if (!asset.body.ParseFromString(object.body())) {
      return Status::corruption(fmt::format("body of code asset {} does not parse", to_hex(as_view(object.id()))));
    }
    *result = {};
    return collect_royalties(context, asset, seller, 0, out, result);
  }

  Status on_owner_change(ObjectContext& context, v1::ObjectEnvelope* object, objects::OwnerChange change,
                         const Address&, OpResult* result) const override {
    // A buyer pays for the asset free of the seller's grants; a transfer
    // keeps them until they expire.
    if (change == objects::OwnerChange::kSale) object->clear_grants();
    v1::CodeAsset body;
    if (!body.ParseFromString(object->body())) {
      return Status::corruption(fmt::format("body of code asset {} does not parse", to_hex(as_view(object->id()))));
    }
    // Approvals were given to the previous owner's repository; the new
    // owner's proposals start over.
    for (const std::string& id : body.open_proposals()) {
      *result = charge(context, gas::kPerObjectRead + gas::kPerObjectWrite, "clearing proposal approvals");
      if (!result->ok()) return Status::ok();
      v1::CodeProposal proposal;
      bool found = false;
      Status status = objects::read_record(*context.state, keys::proposal(as_view(id)), &proposal, &found);
      if (!status.is_ok()) return status;
      if (!found || proposal.approvals_size() == 0) continue;
      proposal.clear_approvals();
      objects::write_record(*context.state, keys::proposal(as_view(id)), proposal);
    }
    *result = {};
    return Status::ok();
  }
};

}  // namespace

Status apply_compose(const v1::CodeCompose& op, ObjectContext& context, OpResult* result) {
  Hash32 id = objects::derive_object_id(context.tx_hash, context.op_index);
  std::set<std::string> forbidden{to_string(id)};
  for (const v1::ComposeChild& child : op.children()) forbidden.insert(child.asset_id());

  std::vector<Asset> children(static_cast<size_t>(op.children_size()));
  for (int i = 0; i < op.children_size(); ++i) {
    const v1::ComposeChild& child = op.children(i);
    Asset& asset = children[static_cast<size_t>(i)];
    Status status = load_asset(context, as_view(child.asset_id()), &asset, result);
    if (!status.is_ok() || !result->ok()) return status;
    *result = objects::require_owner(context, asset.object, "compose it");
    if (!result->ok()) return Status::ok();
    if (asset.body.kind() == v1::CodeAsset::KIND_REPOSITORY) {
      if (child.version().empty()) {
        *result = fail(ResultCode::kObjectNotFound,
                       fmt::format("code_compose.children[{}] names repository {} without a version to pin", i,
                                   to_hex(as_view(child.asset_id()))));
        return Status::ok();
      }
      v1::StoredVersion version;
      status = load_version(context, as_view(child.version()), as_view(child.asset_id()), &version, result);
      if (!status.is_ok() || !result->ok()) return status;
    } else if (!child.version().empty()) {
      *result = fail(ResultCode::kWrongObjectKind,
                     fmt::format("code_compose.children[{}] is composite {}, which has no versions; leave version "
                                 "empty",
                                 i, to_hex(as_view(child.asset_id()))));
      return Status::ok();
    }
    // No listed child (this one included) and not the new composite may
    // appear anywhere below this child.
    status = check_no_cycle(context, asset, forbidden, 1, result);
    if (!status.is_ok() || !result->ok()) return status;
  }

  Asset composite;
  composite.object.set_id(id.data(), id.size());
  composite.object.set_type(std::string(objects::kTypeComposite));
  composite.object.set_created_height(context.height);
  composite.body.set_kind(v1::CodeAsset::KIND_COMPOSITE);
  composite.body.set_name(op.name());
  composite.body.set_author(context.signer.data(), context.signer.size());
  composite.body.set_license(op.license());
  composite.body.set_royalty_bps(op.royalty_bps());
  std::vector<v1::ComposeChild> sorted(op.children().begin(), op.children().end());
  std::sort(sorted.begin(), sorted.end(),
            [](const v1::ComposeChild& a, const v1::ComposeChild& b) { return a.asset_id() < b.asset_id(); });
  for (const v1::ComposeChild& child : sorted) *composite.body.add_children() = child;

  for (Asset& child : children) {
    objects::set_owner(context, &child.object, {});
    child.object.set_wrapped_by(id.data(), id.size());
    *result = store_asset(context, &child);
    if (!result->ok()) return Status::ok();
  }
  objects::record_created(context, "composite", id);
  *result = charge(context, 3 * gas::kPerObjectWrite, "writing the composite indexes");
  if (!result->ok()) return Status::ok();
  objects::set_owner(context, &composite.object, context.signer);
  objects::put_index(*context.state, keys::author_index(context.signer, id));
  objects::put_index(*context.state, keys::asset_index(id));
  *result = store_asset(context, &composite);
  return Status::ok();
}

Status apply_decompose(const v1::CodeDecompose& op, ObjectContext& context, OpResult* result) {
  Asset composite;
  Status status = load_asset(context, as_view(op.composite_id()), &composite, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = objects::require_owner(context, composite.object, "decompose it");
  if (!result->ok()) return Status::ok();
  if (composite.body.kind() != v1::CodeAsset::KIND_COMPOSITE) {
    *result = fail(ResultCode::kWrongObjectKind,
                   fmt::format("asset {} is a repository, not a composite", to_hex(as_view(op.composite_id()))));
    return Status::ok();
  }
  for (const v1::ComposeChild& child_ref : composite.body.children()) {
    Asset child;
    status = load_asset(context, as_view(child_ref.asset_id()), &child, result);
    if (!status.is_ok() || !result->ok()) return status;
    child.object.clear_wrapped_by();
    objects::set_owner(context, &child.object, as_view(composite.object.owner()));
    *result = store_asset(context, &child);
    if (!result->ok()) return Status::ok();
  }
  composite.body.clear_children();
  *result = store_asset(context, &composite);
  return Status::ok();
}

const objects::ObjectRules& object_rules() {
  static const CodeObjectRules rules;
  return rules;
}

}  // namespace automata::code
