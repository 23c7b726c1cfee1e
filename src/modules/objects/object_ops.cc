#include "automata/modules/objects/object_ops.h"

#include "automata/crypto/bech32.h"
#include "automata/modules/bank/bank.h"
#include "automata/types/state_keys.h"
#include "automata/v1/code_state.pb.h"
#include "automata/v1/objects.pb.h"
#include "automata/v1/state.pb.h"

#include <fmt/format.h>

#include <algorithm>

namespace automata::objects {

namespace {

constexpr uint32_t kBpsDenominator = 10'000;

ResultCode check_id(const std::string& id, std::string_view field, std::string* log) {
  if (id.size() != 32) {
    *log = fmt::format("{} is {} bytes; an object id is 32 bytes", field, id.size());
    return ResultCode::kInvalidOp;
  }
  return ResultCode::kOk;
}

ResultCode check_address(const std::string& address, std::string_view field, std::string* log) {
  if (address.size() != 20) {
    *log = fmt::format("{} is {} bytes; an address is 20 bytes", field, address.size());
    return ResultCode::kInvalidAddress;
  }
  return ResultCode::kOk;
}

bool same_address(const std::string& raw, const Address& address) { return raw == to_string(address); }

// Loads account, applies change (credit or debit) and stores it, charging
// one account read and write.
template <typename Change>
Status update_account(ObjectContext& context, const Address& address, Change change, OpResult* result) {
  *result = charge(context, execution::gas::kPerAccountRead + execution::gas::kPerAccountWrite,
                   "updating an account");
  if (!result->ok()) return Status::ok();
  v1::Account account;
  Status status = bank::load_account(*context.state, address, &account);
  if (!status.is_ok()) return status;
  std::string log;
  ResultCode code = change(&account, &log);
  if (code != ResultCode::kOk) {
    *result = fail(code, log);
    return Status::ok();
  }
  bank::store_account(*context.state, address, account);
  return Status::ok();
}

Status load_offer(ObjectContext& context, ByteView id, v1::Offer* offer, OpResult* result) {
  *result = charge(context, gas::kPerObjectRead, "reading an offer");
  if (!result->ok()) return Status::ok();
  bool found = false;
  Status status = read_record(*context.state, keys::offer(id), offer, &found);
  if (!status.is_ok()) return status;
  if (!found) *result = fail(ResultCode::kObjectNotFound, fmt::format("offer {} not found", to_hex(id)));
  return Status::ok();
}

// Pays the price from the buyer (the signer) to the seller and the royalty
// recipients. The seller receives the price minus every royalty.
Status pay_for_offer(ObjectContext& context, const v1::Offer& offer, const std::vector<Royalty>& royalties,
                     OpResult* result) {
  const std::string& denom = offer.price().denom();
  Amount price = *parse_amount(offer.price().amount());
  Amount seller_share = price;
  std::vector<Amount> shares;
  shares.reserve(royalties.size());
  for (const Royalty& royalty : royalties) {
    Amount share = royalty_amount(price, royalty.bps);
    if (!checked_sub(seller_share, share, seller_share)) {
      *result = fail(ResultCode::kRoyaltyExceedsPrice,
                     fmt::format("royalties of the {} parts of object {} add up to more than the price {}{}",
                                 royalties.size(), to_hex(as_view(offer.object_id())), offer.price().amount(),
                                 denom));
      return Status::ok();
    }
    shares.push_back(share);
  }
  *result = charge(context, execution::gas::kPerCoinMoved * (royalties.size() + 1), "moving the price");
  if (!result->ok()) return Status::ok();

  Status status = update_account(
      context, context.signer,
      [&](v1::Account* account, std::string* log) {
        return bank::debit(account, context.signer, denom, price, log);
      },
      result);
  if (!status.is_ok() || !result->ok()) return status;
  Address seller = to_address(as_view(offer.seller()));
  status = update_account(
      context, seller,
      [&](v1::Account* account, std::string* log) { return bank::credit(account, denom, seller_share, log); },
      result);
  if (!status.is_ok() || !result->ok()) return status;
  for (size_t i = 0; i < royalties.size(); ++i) {
    if (shares[i] == 0) continue;
    status = update_account(
        context, royalties[i].recipient,
        [&](v1::Account* account, std::string* log) { return bank::credit(account, denom, shares[i], log); },
        result);
    if (!status.is_ok() || !result->ok()) return status;
  }
  return Status::ok();
}

}  // namespace

Amount royalty_amount(Amount price, uint32_t bps) {
  // price = q * 10000 + r, so price * bps / 10000 = q * bps + r * bps / 10000
  // and q * bps is exact; neither product can pass 2^128 - 1 for
  // bps <= 10000.
  Amount quotient = price / kBpsDenominator;
  Amount remainder = price % kBpsDenominator;
  return quotient * bps + remainder * bps / kBpsDenominator;
}

ResultCode check_object_transfer(const v1::ObjectTransfer& op, std::string* log) {
  ResultCode code = check_id(op.object_id(), "object_transfer.object_id", log);
  if (code != ResultCode::kOk) return code;
  return check_address(op.to(), "object_transfer.to", log);
}

ResultCode check_object_grant_use(const v1::ObjectGrantUse& op, std::string* log) {
  ResultCode code = check_id(op.object_id(), "object_grant_use.object_id", log);
  if (code != ResultCode::kOk) return code;
  return check_address(op.grantee(), "object_grant_use.grantee", log);
}

ResultCode check_offer_create(const v1::OfferCreate& op, std::string* log) {
  ResultCode code = check_id(op.object_id(), "offer_create.object_id", log);
  if (code != ResultCode::kOk) return code;
  if (!op.buyer().empty()) {
    code = check_address(op.buyer(), "offer_create.buyer", log);
    if (code != ResultCode::kOk) return code;
  }
  if (!op.has_price()) {
    *log = "offer_create.price is missing";
    return ResultCode::kInvalidAmount;
  }
  if (!bank::is_valid_denom(op.price().denom())) {
    *log = fmt::format("offer_create.price.denom '{}' does not match [a-z][a-z0-9/]{{2,63}}", op.price().denom());
    return ResultCode::kInvalidDenom;
  }
  auto price = parse_amount(op.price().amount());
  if (!price || *price == 0) {
    *log = fmt::format("offer_create.price.amount '{}' is not a positive canonical decimal below 2^128",
                       op.price().amount());
    return ResultCode::kInvalidAmount;
  }
  return ResultCode::kOk;
}

ResultCode check_offer_accept(const v1::OfferAccept& op, std::string* log) {
  return check_id(op.offer_id(), "offer_accept.offer_id", log);
}

ResultCode check_offer_cancel(const v1::OfferCancel& op, std::string* log) {
  return check_id(op.offer_id(), "offer_cancel.offer_id", log);
}

Status apply_object_transfer(const v1::ObjectTransfer& op, const ObjectRules& rules, ObjectContext& context,
                             OpResult* result) {
  v1::ObjectEnvelope object;
  Status status = load_object(context, as_view(op.object_id()), &object, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = require_owner(context, object, "transfer it");
  if (!result->ok()) return Status::ok();
  *result = rules.check_generic_op(object, GenericOp::kTransfer);
  if (!result->ok()) return Status::ok();
  Address previous_owner = to_address(as_view(object.owner()));
  set_owner(context, &object, as_view(op.to()));
  status = rules.on_owner_change(context, &object, OwnerChange::kTransfer, previous_owner, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = store_object(context, &object);
  return Status::ok();
}

namespace {

// Accepts every generic op on every object.
class NoTypeRules final : public ObjectRules {
 public:
  Status commitment(ObjectContext&, const v1::ObjectEnvelope&, Hash32*, OpResult* result) const override {
    *result = {};
    return Status::ok();
  }
  Status royalties(ObjectContext&, const v1::ObjectEnvelope&, const Address&, std::vector<Royalty>*,
                   OpResult* result) const override {
    *result = {};
    return Status::ok();
  }
  Status on_owner_change(ObjectContext&, v1::ObjectEnvelope*, OwnerChange, const Address&,
                         OpResult* result) const override {
    *result = {};
    return Status::ok();
  }
};

}  // namespace

Status apply_object_grant_use(const v1::ObjectGrantUse& op, ObjectContext& context, OpResult* result) {
  static const NoTypeRules rules;
  return apply_object_grant_use(op, rules, context, result);
}

Status apply_object_grant_use(const v1::ObjectGrantUse& op, const ObjectRules& rules, ObjectContext& context,
                              OpResult* result) {
  v1::ObjectEnvelope object;
  Status status = load_object(context, as_view(op.object_id()), &object, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = require_owner(context, object, "grant its use");
  if (!result->ok()) return Status::ok();
  *result = rules.check_generic_op(object, GenericOp::kGrantUse);
  if (!result->ok()) return Status::ok();
  if (op.expiry_height() != 0 && op.expiry_height() < context.height) {
    *result = fail(ResultCode::kExpiryInPast,
                   fmt::format("object_grant_use.expiry_height {} is below the current height {}",
                               op.expiry_height(), context.height));
    return Status::ok();
  }

  auto* grants = object.mutable_grants();
  auto it = std::lower_bound(grants->begin(), grants->end(), op.grantee(),
                             [](const v1::UseGrant& grant, const std::string& grantee) {
                               return grant.grantee() < grantee;
                             });
  bool exists = it != grants->end() && it->grantee() == op.grantee();
  int index = static_cast<int>(it - grants->begin());
  if (op.expiry_height() == 0) {
    if (exists) grants->DeleteSubrange(index, 1);
  } else if (exists) {
    it->set_expiry_height(op.expiry_height());
  } else {
    v1::UseGrant* grant = object.add_grants();
    grant->set_grantee(op.grantee());
    grant->set_expiry_height(op.expiry_height());
    for (int i = grants->size() - 1; i > index; --i) grants->SwapElements(i, i - 1);
  }
  *result = store_object(context, &object);
  return Status::ok();
}

Status apply_offer_create(const v1::OfferCreate& op, const ObjectRules& rules, ObjectContext& context,
                          OpResult* result) {
  v1::ObjectEnvelope object;
  Status status = load_object(context, as_view(op.object_id()), &object, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = require_owner(context, object, "offer it for sale");
  if (!result->ok()) return Status::ok();
  if (op.expiry_height() != 0 && op.expiry_height() < context.height) {
    *result = fail(ResultCode::kOfferExpired,
                   fmt::format("offer_create.expiry_height {} is below the current height {}", op.expiry_height(),
                               context.height));
    return Status::ok();
  }
  Hash32 commitment{};
  status = rules.commitment(context, object, &commitment, result);
  if (!status.is_ok() || !result->ok()) return status;

  *result = charge(context, gas::kPerObjectWrite, "writing the offer");
  if (!result->ok()) return Status::ok();
  Hash32 id = derive_object_id(context.tx_hash, context.op_index);
  v1::Offer offer;
  offer.set_id(id.data(), id.size());
  offer.set_object_id(op.object_id());
  offer.set_seller(context.signer.data(), context.signer.size());
  *offer.mutable_price() = op.price();
  offer.set_buyer(op.buyer());
  offer.set_expiry_height(op.expiry_height());
  offer.set_commitment(commitment.data(), commitment.size());
  offer.set_created_height(context.height);
  write_record(*context.state, keys::offer(id), offer);
  record_created(context, "offer", id);
  return Status::ok();
}

Status apply_offer_accept(const v1::OfferAccept& op, const ObjectRules& rules, ObjectContext& context,
                          OpResult* result) {
  v1::Offer offer;
  Status status = load_offer(context, as_view(op.offer_id()), &offer, result);
  if (!status.is_ok() || !result->ok()) return status;
  std::string offer_hex = to_hex(as_view(offer.id()));
  if (offer.expiry_height() != 0 && context.height > offer.expiry_height()) {
    *result = fail(ResultCode::kOfferExpired, fmt::format("offer {} expired at height {}; the current height is {}",
                                                          offer_hex, offer.expiry_height(), context.height));
    return Status::ok();
  }
  if (!offer.buyer().empty() && !same_address(offer.buyer(), context.signer)) {
    *result = fail(ResultCode::kNotReservedBuyer,
                   fmt::format("offer {} is reserved for {}; signer {} may not accept it", offer_hex,
                               address_text(as_view(offer.buyer())), crypto::encode_address(context.signer)));
    return Status::ok();
  }

  v1::ObjectEnvelope object;
  status = load_object(context, as_view(offer.object_id()), &object, result);
  if (!status.is_ok() || !result->ok()) return status;
  if (!object.wrapped_by().empty() || object.owner() != offer.seller()) {
    *result = fail(ResultCode::kOfferMismatch,
                   fmt::format("object {} is no longer owned directly by the seller {} of offer {}",
                               to_hex(as_view(object.id())), address_text(as_view(offer.seller())), offer_hex));
    return Status::ok();
  }
  Hash32 commitment{};
  status = rules.commitment(context, object, &commitment, result);
  if (!status.is_ok() || !result->ok()) return status;
  if (offer.commitment() != to_string(commitment)) {
    *result = fail(ResultCode::kOfferMismatch,
                   fmt::format("object {} changed since offer {} was made: its commitment is {}, the offer's is {}",
                               to_hex(as_view(object.id())), offer_hex, to_hex(commitment),
                               to_hex(as_view(offer.commitment()))));
    return Status::ok();
  }

  std::vector<Royalty> royalties;
  Address seller = to_address(as_view(offer.seller()));
  status = rules.royalties(context, object, seller, &royalties, result);
  if (!status.is_ok() || !result->ok()) return status;
  status = pay_for_offer(context, offer, royalties, result);
  if (!status.is_ok() || !result->ok()) return status;

  set_owner(context, &object, context.signer);
  status = rules.on_owner_change(context, &object, OwnerChange::kSale, seller, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = store_object(context, &object);
  if (!result->ok()) return Status::ok();
  *result = charge(context, gas::kPerObjectWrite, "removing the offer");
  if (!result->ok()) return Status::ok();
  context.state->erase(keys::offer(as_view(offer.id())));
  return Status::ok();
}

Status apply_offer_cancel(const v1::OfferCancel& op, ObjectContext& context, OpResult* result) {
  v1::Offer offer;
  Status status = load_offer(context, as_view(op.offer_id()), &offer, result);
  if (!status.is_ok() || !result->ok()) return status;
  if (!same_address(offer.seller(), context.signer)) {
    *result = fail(ResultCode::kNotOwner,
                   fmt::format("signer {} is not the seller {} of offer {}; only the seller may cancel it",
                               crypto::encode_address(context.signer), address_text(as_view(offer.seller())),
                               to_hex(as_view(offer.id()))));
    return Status::ok();
  }
  *result = charge(context, gas::kPerObjectWrite, "removing the offer");
  if (!result->ok()) return Status::ok();
  context.state->erase(keys::offer(as_view(offer.id())));
  return Status::ok();
}

}  // namespace automata::objects
