#include "automata/cli/code_tx.h"

#include "automata/crypto/sha256.h"
#include "automata/execution/gas.h"
#include "automata/v1/tx.pb.h"

#include <algorithm>

namespace automata::cli {

namespace {

// TxBody.ops is field 8, length-delimited.
constexpr uint32_t kTxBodyOpsField = 8;
constexpr uint32_t kLengthDelimited = 2;
// The code module's charges (docs/gas.md). Per op: the object, version,
// tree and index records it may read and write, about 12 records.
constexpr uint64_t kPerOpRecords = 12 * (300 + 1'500);
constexpr uint64_t kPerBlob = 300 + 1'500;  // existence check, then the write
constexpr uint64_t kPerBlobByte = 4;
constexpr uint64_t kPerTreeEntry = 150 + 300;  // validation plus the blob check

void append_varint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

size_t varint_size(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

void append_length_delimited(std::string* out, uint32_t field_number, const std::string& payload) {
  append_varint(out, (uint64_t{field_number} << 3) | kLengthDelimited);
  append_varint(out, payload.size());
  out->append(payload);
}

// The TxBody fields other than the ops, which callers append as encoded
// bytes after this body is serialized.
v1::TxBody body_without_ops(const OpsTxRequest& request, std::string signer) {
  v1::TxBody body;
  body.set_chain_id(request.chain_id);
  body.set_signer(std::move(signer));
  body.set_nonce(request.nonce);
  body.set_gas_limit(request.gas_limit);
  body.mutable_fee()->set_denom(kFeeDenom);
  body.mutable_fee()->set_amount(amount_to_string(request.fee));
  body.set_expiry_height(request.expiry_height);
  body.set_memo(request.memo);
  return body;
}

}  // namespace

std::string encode_op(const EncodedOp& op) {
  std::string out;
  append_length_delimited(&out, op.field_number, op.message);
  return out;
}

Status build_signed_ops_tx(const OpsTxRequest& request, const crypto::PrivateKey& key, SignedTx* out) {
  if (request.chain_id.empty()) return Status::invalid_argument("chain id is empty");
  if (request.ops.empty()) return Status::invalid_argument("a tx needs at least one op");
  for (size_t i = 0; i < request.ops.size(); ++i) {
    if (request.ops[i].field_number == 0) {
      return Status::invalid_argument("op " + std::to_string(i) + " has no field number");
    }
  }

  crypto::PublicKey pubkey = key.public_key();
  v1::TxBody body = body_without_ops(request, std::string(pubkey.begin(), pubkey.end()));
  std::string body_bytes;
  if (!body.SerializeToString(&body_bytes)) return Status::invalid_argument("cannot serialize the tx body");
  // Ops are the highest-numbered TxBody field, so appending them keeps the
  // canonical field order.
  for (const EncodedOp& op : request.ops) append_length_delimited(&body_bytes, kTxBodyOpsField, encode_op(op));

  out->body_bytes = to_bytes(body_bytes);
  out->hash = crypto::sha256(out->body_bytes);
  out->signature = key.sign(out->hash);

  v1::Tx tx;
  tx.set_body_bytes(body_bytes);
  tx.set_signature(std::string(out->signature.begin(), out->signature.end()));
  std::string tx_bytes;
  if (!tx.SerializeToString(&tx_bytes)) return Status::invalid_argument("cannot serialize the tx");
  out->tx_bytes = to_bytes(tx_bytes);
  return Status::ok();
}

size_t signed_ops_tx_size(const OpsTxRequest& request) {
  // The same TxBody as build_signed_ops_tx() without the ops, whose
  // framing is added by arithmetic instead of copying their bytes.
  v1::TxBody body = body_without_ops(request, std::string(std::tuple_size_v<crypto::PublicKey>, '\0'));
  size_t body_size = body.ByteSizeLong();
  for (const EncodedOp& op : request.ops) {
    size_t op_size = varint_size((uint64_t{op.field_number} << 3) | kLengthDelimited) +
                     varint_size(op.message.size()) + op.message.size();
    body_size += varint_size((uint64_t{kTxBodyOpsField} << 3) | kLengthDelimited) + varint_size(op_size) + op_size;
  }
  // Tx: body_bytes (field 1) and the 64-byte signature (field 2), each
  // with a one-byte tag.
  constexpr size_t kSignatureSize = std::tuple_size_v<crypto::Signature>;
  return 1 + varint_size(body_size) + body_size + 1 + varint_size(kSignatureSize) + kSignatureSize;
}

Hash32 object_id(const Hash32& tx_hash, uint32_t op_index) {
  static constexpr std::string_view kDomain = "automata/object";
  uint8_t index[4] = {static_cast<uint8_t>(op_index >> 24), static_cast<uint8_t>(op_index >> 16),
                      static_cast<uint8_t>(op_index >> 8), static_cast<uint8_t>(op_index)};
  return crypto::sha256_concat({as_view(kDomain), ByteView(tx_hash), ByteView(index, 4)});
}

uint64_t estimate_ops_gas(size_t tx_bytes, size_t op_count, const GasHint& hint, uint64_t max_gas) {
  uint64_t gas = execution::gas::intrinsic(tx_bytes, op_count);
  gas += kPerOpRecords * op_count;
  gas += kPerBlob * hint.blob_count + kPerBlobByte * hint.blob_bytes;
  gas += kPerTreeEntry * hint.tree_entries;
  gas += gas / 4;
  return std::min(gas, max_gas);
}

uint64_t upload_entry_bytes(uint64_t size) { return 1 + varint_size(size) + size; }

Status plan_upload_batches(const std::vector<uint64_t>& blob_sizes, uint64_t max_payload_bytes, size_t max_blobs,
                           std::vector<std::vector<size_t>>* batches) {
  batches->clear();
  uint64_t used = 0;
  for (size_t i = 0; i < blob_sizes.size(); ++i) {
    uint64_t bytes = upload_entry_bytes(blob_sizes[i]);
    if (bytes > max_payload_bytes) {
      return Status::invalid_argument("blob " + std::to_string(i) + " of " + std::to_string(blob_sizes[i]) +
                                      " bytes does not fit in one upload tx of at most " +
                                      std::to_string(max_payload_bytes) + " payload bytes");
    }
    if (batches->empty() || used + bytes > max_payload_bytes || batches->back().size() >= max_blobs) {
      batches->emplace_back();
      used = 0;
    }
    batches->back().push_back(i);
    used += bytes;
  }
  return Status::ok();
}

}  // namespace automata::cli
