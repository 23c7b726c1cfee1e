// Offer commitment, royalties and owner-change rules of model NFTs.
#include "automata/crypto/sha256.h"
#include "automata/types/state_keys.h"
#include "automata/v1/code_state.pb.h"
#include "model_store.h"

#include <fmt/format.h>

#include <deque>
#include <set>

namespace automata::model {

using namespace detail;
using objects::fail;

namespace {

constexpr std::string_view kCommitmentDomain = "automata/model-offer";

Status parse_body(const v1::ObjectEnvelope& object, v1::ModelNft* body) {
  if (body->ParseFromString(object.body())) return Status::ok();
  return Status::corruption(
      fmt::format("body of model {} does not parse as automata.v1.ModelNft", to_hex(as_view(object.id()))));
}

void put_be32(uint32_t value, uint8_t out[4]) {
  for (int i = 3; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(value & 0xff);
    value >>= 8;
  }
}

class ModelObjectRules final : public objects::ObjectRules {
 public:
  // SHA-256("automata/model-offer" || id || plaintext_sha256 || u8 format
  // length || format || BE u32 royalty_bps || creator): an update of the
  // content or format after the offer makes acceptance fail.
  Status commitment(ObjectContext&, const v1::ObjectEnvelope& object, Hash32* out, OpResult* result) const override {
    v1::ModelNft body;
    Status status = parse_body(object, &body);
    if (!status.is_ok()) return status;
    uint8_t format_size = static_cast<uint8_t>(body.format().size());
    uint8_t bps[4];
    put_be32(body.royalty_bps(), bps);
    *out = crypto::sha256_concat({as_view(kCommitmentDomain), as_view(object.id()),
                                  as_view(body.manifest().plaintext_sha256()), ByteView(&format_size, 1),
                                  as_view(body.format()), ByteView(bps, 4), as_view(body.creator())});
    *result = {};
    return Status::ok();
  }

  // The model's creator first, then each ancestor breadth first over
  // base_models (each id once, to kMaxLineageDepth): a model pays its
  // creator and a code asset its author, each at its own royalty_bps. An
  // ancestor burned since registration is skipped.
  Status royalties(ObjectContext& context, const v1::ObjectEnvelope& object, const Address&,
                   std::vector<objects::Royalty>* out, OpResult* result) const override {
    *result = {};
    v1::ModelNft body;
    Status status = parse_body(object, &body);
    if (!status.is_ok()) return status;
    uint64_t total_bps = body.royalty_bps();
    if (body.royalty_bps() > 0) out->push_back({objects::to_address(as_view(body.creator())), body.royalty_bps(),
                                                to_bytes(object.id())});

    std::set<std::string> seen{object.id()};
    std::deque<std::pair<std::string, int>> queue;
    for (const std::string& base : body.base_models()) queue.emplace_back(base, 1);
    while (!queue.empty()) {
      auto [id, depth] = queue.front();
      queue.pop_front();
      if (!seen.insert(id).second) continue;

      *result = objects::charge(context, objects::gas::kPerObjectRead, "reading a lineage ancestor");
      if (!result->ok()) return Status::ok();
      v1::ObjectEnvelope ancestor;
      bool found = false;
      status = objects::read_record(*context.state, keys::object(as_view(id)), &ancestor, &found);
      if (!status.is_ok()) return status;
      if (!found) continue;

      if (ancestor.type() == kTypeModel) {
        v1::ModelNft parent;
        status = parse_body(ancestor, &parent);
        if (!status.is_ok()) return status;
        if (parent.royalty_bps() > 0) {
          out->push_back({objects::to_address(as_view(parent.creator())), parent.royalty_bps(), to_bytes(id)});
          total_bps += parent.royalty_bps();
        }
        if (depth < kMaxLineageDepth) {
          for (const std::string& base : parent.base_models()) queue.emplace_back(base, depth + 1);
        }
      } else {
        v1::CodeAsset asset;
        if (!asset.ParseFromString(ancestor.body())) {
          return Status::corruption(fmt::format("body of code asset {} does not parse", to_hex(as_view(id))));
        }
        if (asset.royalty_bps() > 0) {
          out->push_back({objects::to_address(as_view(asset.author())), asset.royalty_bps(), to_bytes(id)});
          total_bps += asset.royalty_bps();
        }
      }
    }
    if (total_bps > kMaxRoyaltyBps) {
      *result = fail(ResultCode::kRoyaltyExceedsPrice,
                     fmt::format("royalties of model {} and its lineage add up to {} bps, above the price's {} bps",
                                 to_hex(as_view(object.id())), total_bps, kMaxRoyaltyBps));
    }
    return Status::ok();
  }

  // Leases stay until they expire and a new epoch starts. After a transfer
  // the previous owner's envelope goes at once (unless it holds an active
  // lease). After a sale the seller keeps its envelope and owes the buyer's
  // (ModelDeliverKey), which removes the seller's. When an earlier sale's
  // delivery is still pending, that earlier seller, who still holds the key,
  // owes it to this buyer instead. No delivery is pending when the new owner
  // is the seller in key_pending_from.
  Status on_owner_change(ObjectContext& context, v1::ObjectEnvelope* object, objects::OwnerChange change,
                         const Address& previous_owner, OpResult* result) const override {
    Model model;
    model.object = *object;
    Status status = parse_body(*object, &model.body);
    if (!status.is_ok()) return status;
    std::string previous = to_string(previous_owner);
    // The seller becomes pending before expired leases are pruned, so an
    // expired lease of its own does not take its envelope.
    if (change == objects::OwnerChange::kSale && model.body.key_pending_from().empty()) {
      model.body.set_key_pending_from(previous);
    }
    prune_expired_leases(&model, context.height);
    if (change == objects::OwnerChange::kTransfer) {
      std::string pending_seller = model.body.key_pending_from();
      model.body.clear_key_pending_from();
      release_envelope(&model, previous, context.height);
      if (!pending_seller.empty()) release_envelope(&model, pending_seller, context.height);
    }
    if (model.body.key_pending_from() == model.object.owner()) model.body.clear_key_pending_from();
    start_epoch(&model.body);
    *object = std::move(model.object);
    object->set_body(model.body.SerializeAsString());
    *result = {};
    return Status::ok();
  }

  OpResult check_generic_op(const v1::ObjectEnvelope& object, objects::GenericOp op) const override {
    std::string id = to_hex(as_view(object.id()));
    if (op == objects::GenericOp::kTransfer) {
      return fail(ResultCode::kWrongObjectKind,
                  fmt::format("object {} is a model NFT; send model_transfer, which installs the new owner's key "
                              "envelope",
                              id));
    }
    return fail(ResultCode::kWrongObjectKind,
                fmt::format("object {} is a model NFT; send model_lease, which installs the grantee's key envelope",
                            id));
  }
};

}  // namespace

const objects::ObjectRules& object_rules() {
  static const ModelObjectRules rules;
  return rules;
}

}  // namespace automata::model
