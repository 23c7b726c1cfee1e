// Helpers shared by the model ops: a loaded model, its envelopes and its
// leases.
#pragma once

#include "automata/modules/model/model.h"
#include "automata/v1/code_state.pb.h"
#include "automata/v1/model.pb.h"

#include <set>
#include <string>

namespace automata::model::detail {

struct Model {
  v1::ObjectEnvelope object;
  v1::ModelNft body;
};

// Serializes body into the envelope and stores it (one object write).
OpResult store_model(ObjectContext& context, Model* model);

// Inserts envelope into body.envelopes (kept sorted by recipient),
// replacing an envelope of the same recipient.
void put_envelope(v1::ModelNft* body, const v1::KeyEnvelope& envelope);

// Removes the envelope of recipient, if any.
void drop_envelope(v1::ModelNft* body, const std::string& recipient);

// True when object has a use grant for address valid at height.
bool has_active_lease(const v1::ObjectEnvelope& object, const std::string& address, uint64_t height);

// Grantees of the leases valid at height, except `except`.
std::set<std::string> active_grantees(const v1::ObjectEnvelope& object, uint64_t height, const std::string& except);

// Removes grants that expired before height, and the envelope of each such
// grantee unless it is the owner or the seller in key_pending_from.
void prune_expired_leases(Model* model, uint64_t height);

// Removes the envelope of a former key holder (an old owner, or a seller
// whose key delivery ended) unless it is the owner or holds a lease valid at
// height.
void release_envelope(Model* model, const std::string& holder, uint64_t height);

// Starts a new placement epoch: epoch + 1, not available.
void start_epoch(v1::ModelNft* body);

// Fails with kWrongRecipient unless envelope.recipient is `expected`.
OpResult require_recipient(const v1::KeyEnvelope& envelope, const std::string& expected, std::string_view field);

}  // namespace automata::model::detail
