// Ops shared by every ownable object: ObjectTransfer, ObjectGrantUse,
// OfferCreate, OfferAccept and OfferCancel. What depends on the object's
// type (what an offer commits to, who earns royalties, what a change of
// owner resets) comes from an ObjectRules implementation.
#pragma once

#include "automata/modules/objects/object_store.h"
#include "automata/types/amount.h"

#include <vector>

namespace automata::v1 {
class ObjectGrantUse;
class ObjectTransfer;
class OfferAccept;
class OfferCancel;
class OfferCreate;
}  // namespace automata::v1

namespace automata::objects {

// One royalty owed on a sale: bps of the price to recipient. part names the
// object whose author earns it (for logs).
struct Royalty {
  Address recipient{};
  uint32_t bps = 0;
  Bytes part;
};

// The kind of owner change: an ObjectTransfer or an accepted offer.
enum class OwnerChange { kTransfer, kSale };

// Generic ops that a type may reject for its objects.
enum class GenericOp { kTransfer, kGrantUse };

// Type-specific behaviour of objects. Each method charges its own gas and
// returns a non-ok Status only for a storage failure.
class ObjectRules {
 public:
  virtual ~ObjectRules() = default;

  // SHA-256 of what an offer on object commits to.
  virtual Status commitment(ObjectContext& context, const v1::ObjectEnvelope& object, Hash32* out,
                            OpResult* result) const = 0;

  // Royalties owed when seller sells object, in a deterministic order.
  virtual Status royalties(ObjectContext& context, const v1::ObjectEnvelope& object, const Address& seller,
                           std::vector<Royalty>* out, OpResult* result) const = 0;

  // Resets type-specific state after object changed owner from
  // previous_owner (for code: the approvals of its open proposals, and on a
  // sale its use grants). The caller has set the new owner and stores
  // object afterwards.
  virtual Status on_owner_change(ObjectContext& context, v1::ObjectEnvelope* object, OwnerChange change,
                                 const Address& previous_owner, OpResult* result) const = 0;

  // kOk when op may act on object, else the code and a log naming the op
  // to use instead. Types that accept every generic op keep this default.
  virtual OpResult check_generic_op(const v1::ObjectEnvelope& object, GenericOp op) const {
    (void)object;
    (void)op;
    return {};
  }
};

// floor(price * bps / 10000) without overflow for any 128-bit price and
// bps <= 10000: the royalty rounds down, so the remainder stays with the
// seller.
Amount royalty_amount(Amount price, uint32_t bps);

// Stateless shape checks: 32-byte ids, 20-byte addresses, a canonical
// positive price in a valid denom. kOk, or the code with log naming the
// field, the value and the rule.
ResultCode check_object_transfer(const v1::ObjectTransfer& op, std::string* log);
ResultCode check_object_grant_use(const v1::ObjectGrantUse& op, std::string* log);
ResultCode check_offer_create(const v1::OfferCreate& op, std::string* log);
ResultCode check_offer_accept(const v1::OfferAccept& op, std::string* log);
ResultCode check_offer_cancel(const v1::OfferCancel& op, std::string* log);

// Apply steps. Only the owner of an unwrapped object transfers, grants and
// offers it, and only when rules.check_generic_op allows a transfer or
// grant. A transfer and a sale call rules.on_owner_change, which decides
// whether use grants survive (code assets drop them on a sale and keep
// them on a transfer until they expire). A grant with expiry_height 0 revokes the
// grantee's grant. OfferAccept checks expiry, the reserved buyer and the
// commitment, pays the seller the price minus every royalty and each
// royalty recipient its share, moves the object to the buyer and removes
// the offer. On a failed result the overlay contains partial writes and the
// caller discards it. REQUIRES: the op passed its shape check.
Status apply_object_transfer(const v1::ObjectTransfer& op, const ObjectRules& rules, ObjectContext& context,
                             OpResult* result);
Status apply_object_grant_use(const v1::ObjectGrantUse& op, const ObjectRules& rules, ObjectContext& context,
                              OpResult* result);
// The same without a type check: every object type accepts the grant.
Status apply_object_grant_use(const v1::ObjectGrantUse& op, ObjectContext& context, OpResult* result);
Status apply_offer_create(const v1::OfferCreate& op, const ObjectRules& rules, ObjectContext& context,
                          OpResult* result);
Status apply_offer_accept(const v1::OfferAccept& op, const ObjectRules& rules, ObjectContext& context,
                          OpResult* result);
Status apply_offer_cancel(const v1::OfferCancel& op, ObjectContext& context, OpResult* result);

}  // namespace automata::objects
