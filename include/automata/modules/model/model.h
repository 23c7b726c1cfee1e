// The model module: AI model files registered as NFTs. A model is an
// ObjectEnvelope of type "model.nft" whose body is a v1::ModelNft: the
// manifest of the encrypted fragments, the key envelopes of the owner and
// of lease holders, the lineage (base_models) and the placement epoch.
// Storage nodes attest the fragments they hold (ModelHolding records), and
// the model is available once every fragment is held where placement puts
// it. Records and keys: proto/automata/v1/model.proto and
// include/automata/types/state_keys.h.
#pragma once

#include "automata/execution/overlay.h"
#include "automata/modules/objects/object_ops.h"
#include "automata/modules/objects/object_store.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace automata::v1 {
class KeyEnvelope;
class ModelAttest;
class ModelBurn;
class ModelDeliverKey;
class ModelHolding;
class ModelLease;
class ModelManifest;
class ModelMetadata;
class ModelNft;
class ModelRegister;
class ModelRekey;
class ModelTransfer;
class ModelUpdate;
}  // namespace automata::v1

namespace automata::model {

using execution::ResultCode;
using objects::ObjectContext;
using objects::OpResult;

// ObjectEnvelope.type of a model NFT.
inline constexpr std::string_view kTypeModel = "model.nft";

// Shape bounds checked before a tx is admitted.
inline constexpr size_t kMaxNameBytes = 128;
inline constexpr size_t kMaxLicenseBytes = 64;
inline constexpr size_t kMaxBaseModels = 16;
inline constexpr uint32_t kMaxRoyaltyBps = 10'000;
inline constexpr uint64_t kMinFragmentSize = 64 * 1024;
inline constexpr uint64_t kMaxFragmentSize = 2 * 1024 * 1024;
// Entries of each repeated metadata field (inputs, outputs, opsets, dtypes,
// dims of one tensor).
inline constexpr size_t kMaxMetadataEntries = 1024;
// Bytes of each metadata string.
inline constexpr size_t kMaxMetadataStringBytes = 256;
inline constexpr size_t kMaxAttestIndices = 100'000;
inline constexpr size_t kEphemeralPubkeyBytes = 33;
inline constexpr size_t kSealedKeyBytes = 48;
// Ancestors walked for royalties and model_lineage, counted from the
// model's own base_models at depth 1.
inline constexpr int kMaxLineageDepth = 4;
inline constexpr std::string_view kFormats[] = {"onnx", "safetensors", "gguf", "other"};

// Gas of model ops, on top of gas::kPerOp and the object read and write
// rates of objects::gas. docs/gas.md lists the same table.
namespace gas {
// Per key envelope an op validates and stores.
inline constexpr uint64_t kPerEnvelope = 500;
// Per fragment index a ModelAttest carries, on top of the placement scores.
inline constexpr uint64_t kPerAttestedIndex = 50;
// Per placement score (one SHA-256) computed.
inline constexpr uint64_t kPerPlacementScore = 30;
}  // namespace gas

// Stateless shape checks (stage 1). kOk, or kInvalidOp / kInvalidAddress
// with log naming the field, the value and the rule it breaks.
ResultCode check_manifest(const v1::ModelManifest& manifest, std::string_view field, std::string* log);
ResultCode check_metadata(const v1::ModelMetadata& metadata, std::string_view field, std::string* log);
ResultCode check_envelope(const v1::KeyEnvelope& envelope, std::string_view field, std::string* log);
ResultCode check_register(const v1::ModelRegister& op, std::string* log);
ResultCode check_transfer(const v1::ModelTransfer& op, std::string* log);
ResultCode check_lease(const v1::ModelLease& op, std::string* log);
ResultCode check_deliver_key(const v1::ModelDeliverKey& op, std::string* log);
ResultCode check_burn(const v1::ModelBurn& op, std::string* log);
ResultCode check_update(const v1::ModelUpdate& op, std::string* log);
ResultCode check_rekey(const v1::ModelRekey& op, std::string* log);
ResultCode check_attest(const v1::ModelAttest& op, std::string* log);

// Apply steps. Each returns a non-ok Status only when state cannot be read;
// otherwise result is kOk or the failure, and on failure the caller
// discards the op overlay. REQUIRES: the op passed its shape check.
//
// Register mints a model owned by the signer, with id
// crypto::derive_model_id(signer, tx nonce, op index). Every base model
// must be a registered model or code asset, and owner_envelope must be
// addressed to the signer.
Status apply_register(const v1::ModelRegister& op, ObjectContext& context, OpResult* result);
// Transfer moves a transferable model from its owner to `to`, swapping the
// owner envelope (the old owner keeps one only while it holds an active
// lease), dropping envelopes of expired leases and starting a new epoch.
// A key delivery still pending from an earlier sale ends, and that seller's
// envelope goes under the same lease exception. With rekey set, the content
// is re-encrypted under a fresh key.
Status apply_transfer(const v1::ModelTransfer& op, ObjectContext& context, OpResult* result);
// Lease grants grantee use until expiry_height (inclusive) and installs its
// envelope. Only the owner leases.
Status apply_lease(const v1::ModelLease& op, ObjectContext& context, OpResult* result);
// DeliverKey installs the buyer's envelope after a sale by offer and removes
// the seller's, which a sale leaves in place so the seller can still open
// the key (the seller keeps it only while it holds an active lease). Only
// the seller recorded in key_pending_from delivers it.
Status apply_deliver_key(const v1::ModelDeliverKey& op, ObjectContext& context, OpResult* result);
// Burn deletes a burnable model, its indexes and the storage nodes'
// holdings. Only the owner burns.
Status apply_burn(const v1::ModelBurn& op, ObjectContext& context, OpResult* result);
// Rekey replaces the manifest and envelopes with the same plaintext under
// a fresh key; Update (mutable models only) may also change the plaintext,
// format and metadata. Both start a new epoch. Only the owner sends either.
// The new manifest must keep plaintext_sha256 and total_size
// (kContentMismatch), owner_envelope must be addressed to the owner
// (kWrongRecipient), and lease_envelopes must name each active lease
// holder other than the owner exactly once (kLeaseMismatch).
//
// The first overload is the standalone op and rekeys op.model_id. The
// second rekeys model_id and ignores op.model_id.
Status apply_rekey(const v1::ModelRekey& op, ObjectContext& context, OpResult* result);
Status apply_rekey(const v1::ModelRekey& op, ByteView model_id, ObjectContext& context, OpResult* result);
Status apply_update(const v1::ModelUpdate& op, ObjectContext& context, OpResult* result);
// Attest merges the fragments a storage node (the signer) holds at the
// model's epoch into its ModelHolding, and marks the model available once
// every fragment is held by all its placed nodes.
Status apply_attest(const v1::ModelAttest& op, ObjectContext& context, OpResult* result);

// Loads the model id, charging one object read. kObjectNotFound when
// absent, kWrongObjectKind for an object of another type.
Status load_model(ObjectContext& context, ByteView id, v1::ObjectEnvelope* object, v1::ModelNft* body,
                  OpResult* result);

// True when bit index is set in a ModelHolding.held bitmap.
bool holds_fragment(const std::string& held, uint64_t index);

// Sum over nodes of the fragments their holding at epoch records (holdings
// of an older epoch count 0). A model is available when this equals
// fragment_count * effective_replication(nodes.size()), because attest
// only records placed fragments.
Status count_held(execution::StateReader& state, ByteView model_id, uint64_t epoch,
                  const std::vector<Address>& nodes, uint64_t* count);

// Offer commitment, royalties and owner-change rules of model NFTs.
const objects::ObjectRules& object_rules();

// Checks every model that `changes` wrote or deleted: its owner, model and
// creator index entries exist (or, once deleted, are gone) and an old
// owner's index entry is gone after a change of owner. problem receives a
// message naming the model and the rule, or stays empty. A non-ok Status
// means state could not be read.
Status check_model_invariants(execution::Overlay& changes, std::string* problem);

}  // namespace automata::model
