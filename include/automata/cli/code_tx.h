// Transactions carrying code and object ops (automata.v1 CodeUploadBlobs ...
// OfferCancel) for the `automata code` commands: encoding, signing, object
// ids, gas estimates and the split of blob uploads into txs.
#pragma once

#include "automata/cli/tx_builder.h"
#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace automata::cli {

// Field numbers of the ops in the automata.v1.Op oneof (tx.proto). They are
// part of the signed encoding, so they never change.
namespace op_field {
inline constexpr uint32_t kCodeUploadBlobs = 200;
inline constexpr uint32_t kCodePublish = 201;
inline constexpr uint32_t kCodeCommit = 202;
inline constexpr uint32_t kCodeBranch = 203;
inline constexpr uint32_t kCodeMerge = 204;
inline constexpr uint32_t kCodeSetRules = 205;
inline constexpr uint32_t kCodePropose = 206;
inline constexpr uint32_t kCodeReview = 207;
inline constexpr uint32_t kCodeCompose = 208;
inline constexpr uint32_t kCodeDecompose = 209;
inline constexpr uint32_t kObjectTransfer = 600;
inline constexpr uint32_t kObjectGrantUse = 601;
inline constexpr uint32_t kOfferCreate = 602;
inline constexpr uint32_t kOfferAccept = 603;
inline constexpr uint32_t kOfferCancel = 604;
}  // namespace op_field

// One op: its Op oneof field number and the serialized op message.
struct EncodedOp {
  uint32_t field_number = 0;
  std::string message;
};

struct OpsTxRequest {
  std::string chain_id;
  uint64_t nonce = 0;
  uint64_t gas_limit = 0;
  Amount fee = 0;              // in kFeeDenom
  uint64_t expiry_height = 0;  // 0: no expiry
  std::string memo;
  std::vector<EncodedOp> ops;
};

// Serializes an automata.v1.Op holding the one op. The encoding is the
// canonical protobuf encoding, written by field number so that the CLI
// does not depend on the generated Op accessors of each module.
std::string encode_op(const EncodedOp& op);

// Builds the TxBody (ops last, as field 8), signs SHA-256(body_bytes) with
// BIP-340 and serializes the Tx. Returns invalid_argument when the chain id
// is empty, there are no ops, or an op has field number 0.
Status build_signed_ops_tx(const OpsTxRequest& request, const crypto::PrivateKey& key, SignedTx* out);

// The size in bytes of the Tx that build_signed_ops_tx() builds for
// request, computed without copying the ops or signing.
size_t signed_ops_tx_size(const OpsTxRequest& request);

// The id of the object created by op op_index of a tx:
// SHA-256("automata/object" || tx_hash || big-endian u32 op_index).
Hash32 object_id(const Hash32& tx_hash, uint32_t op_index);

// What a tx stores, beyond its size and op count, for the gas estimate.
struct GasHint {
  uint64_t blob_count = 0;    // blobs uploaded
  uint64_t blob_bytes = 0;    // bytes of those blobs
  uint64_t tree_entries = 0;  // entries of content trees the ops carry
};

// A gas limit for a tx of tx_bytes bytes with op_count code or object ops:
// the intrinsic gas plus the code module's per-record, per-blob-byte and
// per-tree-entry charges, with a quarter added as margin, capped at max_gas.
// NOTE: an estimate that mirrors the code module's gas constants
// (docs/gas.md); pass --gas when a node charges more.
uint64_t estimate_ops_gas(size_t tx_bytes, size_t op_count, const GasHint& hint = {},
                          uint64_t max_gas = 10'000'000);

// Splits blobs (given by size, in upload order) into batches whose encoded
// CodeUploadBlobs op stays within max_payload_bytes and that hold at most
// max_blobs blobs. Each batch lists blob indexes in order. Returns
// invalid_argument naming the blob when one blob alone does not fit.
Status plan_upload_batches(const std::vector<uint64_t>& blob_sizes, uint64_t max_payload_bytes, size_t max_blobs,
                           std::vector<std::vector<size_t>>* batches);

// Bytes a blob of `size` bytes adds to a CodeUploadBlobs message: its tag,
// length prefix and contents.
uint64_t upload_entry_bytes(uint64_t size);

}  // namespace automata::cli
