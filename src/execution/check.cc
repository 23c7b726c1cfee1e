#include "check.h"

#include "automata/crypto/sha256.h"
#include "verified_set.h"
#include "automata/execution/gas.h"
#include "automata/modules/bank/bank.h"
#include "automata/modules/code/code.h"
#include "automata/modules/model/model.h"
#include "automata/modules/objects/object_ops.h"
#include "automata/v1/model.pb.h"

#include <fmt/format.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <algorithm>

namespace automata::execution {

namespace {

StageResult reject(ResultCode code, std::string log) { return {code, std::move(log)}; }

// Parses the 32 bytes as the x coordinate of a point on secp256k1; false
// when they are not one.
// NOTE: calls libsecp256k1 directly because crypto/keys.h has no key
// validity check, and crypto::verify alone cannot tell a bad key from a bad
// signature. Keeping the parsed key also saves a second parse (a field
// square root) in check_tx_signature.
bool parse_xonly_key(const crypto::PublicKey& key, secp256k1_xonly_pubkey* parsed) {
  return secp256k1_xonly_pubkey_parse(secp256k1_context_static, parsed, key.data()) == 1;
}

StageResult check_op(const v1::Op& op, int index, const code::CodeLimits& limits, std::string* log) {
  ResultCode code = ResultCode::kOk;
  switch (op.kind_case()) {
    case v1::Op::kTransfer: code = bank::check_transfer(op.transfer(), log); break;
    case v1::Op::kMultiSend: code = bank::check_multi_send(op.multi_send(), log); break;
    case v1::Op::kCodeUploadBlobs: code = code::check_upload_blobs(op.code_upload_blobs(), limits, log); break;
    case v1::Op::kCodePublish: code = code::check_publish(op.code_publish(), limits, log); break;
    case v1::Op::kCodeCommit: code = code::check_commit(op.code_commit(), limits, log); break;
    case v1::Op::kCodeBranch: code = code::check_branch(op.code_branch(), log); break;
    case v1::Op::kCodeMerge: code = code::check_merge(op.code_merge(), limits, log); break;
    case v1::Op::kCodeSetRules: code = code::check_set_rules(op.code_set_rules(), log); break;
    case v1::Op::kCodePropose: code = code::check_propose(op.code_propose(), limits, log); break;
    case v1::Op::kCodeReview: code = code::check_review(op.code_review(), log); break;
    case v1::Op::kCodeCompose: code = code::check_compose(op.code_compose(), log); break;
    case v1::Op::kCodeDecompose: code = code::check_decompose(op.code_decompose(), log); break;
    case v1::Op::kObjectTransfer: code = objects::check_object_transfer(op.object_transfer(), log); break;
    case v1::Op::kObjectGrantUse: code = objects::check_object_grant_use(op.object_grant_use(), log); break;
    case v1::Op::kOfferCreate: code = objects::check_offer_create(op.offer_create(), log); break;
    case v1::Op::kOfferAccept: code = objects::check_offer_accept(op.offer_accept(), log); break;
    case v1::Op::kOfferCancel: code = objects::check_offer_cancel(op.offer_cancel(), log); break;
    case v1::Op::kModelRegister: code = model::check_register(op.model_register(), log); break;
    case v1::Op::kModelTransfer: code = model::check_transfer(op.model_transfer(), log); break;
    case v1::Op::kModelLease: code = model::check_lease(op.model_lease(), log); break;
    case v1::Op::kModelDeliverKey: code = model::check_deliver_key(op.model_deliver_key(), log); break;
    case v1::Op::kModelBurn: code = model::check_burn(op.model_burn(), log); break;
    case v1::Op::kModelUpdate: code = model::check_update(op.model_update(), log); break;
    case v1::Op::kModelRekey: code = model::check_rekey(op.model_rekey(), log); break;
    case v1::Op::kModelAttest: code = model::check_attest(op.model_attest(), log); break;
    case v1::Op::KIND_NOT_SET:
      return reject(ResultCode::kInvalidOp, fmt::format("ops[{}] has no operation set", index));
    default:
      return reject(ResultCode::kInvalidOp, fmt::format("ops[{}] is op field {}, which this node does not handle",
                                                        index, static_cast<int>(op.kind_case())));
  }
  if (code != ResultCode::kOk) return reject(code, fmt::format("ops[{}]: {}", index, *log));
  return {};
}

StageResult check_fee(const v1::TxBody& body, DecodedTx* out) {
  if (!body.has_fee()) return reject(ResultCode::kInvalidFee, "fee is missing; set fee.denom to \"atm\"");
  if (body.fee().denom() != kNativeDenom) {
    return reject(ResultCode::kInvalidFee,
                  fmt::format("fee denom '{}' is not the fee denom \"{}\"", body.fee().denom(), kNativeDenom));
  }
  auto fee = parse_amount(body.fee().amount());
  if (!fee) {
    return reject(ResultCode::kInvalidFee,
                  fmt::format("fee amount '{}' is not a canonical decimal below 2^128", body.fee().amount()));
  }
  if (*fee > Amount{UINT64_MAX}) {
    return reject(ResultCode::kInvalidFee,
                  fmt::format("fee amount {} is above the maximum fee 2^64 - 1", body.fee().amount()));
  }
  out->fee = *fee;
  return {};
}

}  // namespace

StageResult check_tx_shape(ByteView tx_bytes, std::string_view chain_id, const ChainParameters& params,
                           const VerifiedSet* verified, DecodedTx* out) {
  out->size_bytes = tx_bytes.size();
  if (tx_bytes.size() > params.max_tx_bytes) {
    return reject(ResultCode::kTxTooLarge,
                  fmt::format("tx is {} bytes; the maximum is {}", tx_bytes.size(), params.max_tx_bytes));
  }
  if (!out->tx.ParseFromArray(tx_bytes.data(), static_cast<int>(tx_bytes.size()))) {
    return reject(ResultCode::kTxMalformed, fmt::format("{} bytes do not parse as automata.v1.Tx", tx_bytes.size()));
  }
  const std::string& body_bytes = out->tx.body_bytes();
  if (!out->body.ParseFromString(body_bytes)) {
    return reject(ResultCode::kBodyMalformed,
                  fmt::format("body_bytes ({} bytes) do not parse as automata.v1.TxBody", body_bytes.size()));
  }
  out->hash = crypto::sha256(as_view(body_bytes));
  const v1::TxBody& body = out->body;

  if (body.chain_id() != chain_id) {
    return reject(ResultCode::kWrongChainId,
                  fmt::format("chain id '{}' is not this chain's id '{}'", body.chain_id(), chain_id));
  }
  if (body.signer().size() != out->signer.size()) {
    return reject(ResultCode::kBadSignerKey,
                  fmt::format("signer is {} bytes; an x-only public key is 32 bytes", body.signer().size()));
  }
  std::copy_n(body.signer().begin(), out->signer.size(), out->signer.begin());
  const std::string& signature = out->tx.signature();
  if (signature.size() == out->signature.size()) {
    std::copy_n(signature.begin(), out->signature.size(), out->signature.begin());
    // The hash covers the signer, so a verified pair implies a valid key.
    out->signature_verified = verified != nullptr && verified->contains(out->hash, out->signature);
  }
  if (!out->signature_verified && !parse_xonly_key(out->signer, &out->signer_key)) {
    return reject(ResultCode::kBadSignerKey,
                  fmt::format("signer {} is not an x coordinate on secp256k1", to_hex(out->signer)));
  }
  out->sender = crypto::address_of(out->signer);
  if (signature.size() != out->signature.size()) {
    return reject(ResultCode::kBadSignature,
                  fmt::format("signature is {} bytes; a BIP-340 signature is 64 bytes", signature.size()));
  }

  if (body.ops_size() == 0) return reject(ResultCode::kNoOps, "tx has no ops; at least one is required");
  if (static_cast<uint64_t>(body.ops_size()) > params.max_ops_per_tx) {
    return reject(ResultCode::kTooManyOps,
                  fmt::format("tx has {} ops; the maximum is {}", body.ops_size(), params.max_ops_per_tx));
  }
  std::string op_log;
  code::CodeLimits limits{params.max_blob_bytes, params.max_files_per_version, params.max_path_bytes};
  for (int i = 0; i < body.ops_size(); ++i) {
    StageResult result = check_op(body.ops(i), i, limits, &op_log);
    if (!result.ok()) return result;
  }

  StageResult fee = check_fee(body, out);
  if (!fee.ok()) return fee;
  if (body.memo().size() > kMaxMemoBytes) {
    return reject(ResultCode::kMemoTooLong,
                  fmt::format("memo is {} bytes; the maximum is {}", body.memo().size(), kMaxMemoBytes));
  }
  out->intrinsic_gas = gas::intrinsic(tx_bytes.size(), static_cast<size_t>(body.ops_size()));
  if (body.gas_limit() < out->intrinsic_gas) {
    return reject(ResultCode::kGasLimitTooLow,
                  fmt::format("gas limit {} is below the intrinsic gas {} of this tx", body.gas_limit(),
                              out->intrinsic_gas));
  }
  if (body.gas_limit() > params.max_gas_per_tx) {
    return reject(ResultCode::kGasLimitTooHigh,
                  fmt::format("gas limit {} is above the maximum {} per tx", body.gas_limit(), params.max_gas_per_tx));
  }
  return {};
}

StageResult check_tx_signature(const DecodedTx& tx) {
  if (tx.signature_verified) return {};
  // Verification needs no precomputed context tables, so the static
  // context serves every thread.
  if (secp256k1_schnorrsig_verify(secp256k1_context_static, tx.signature.data(), tx.hash.data(), tx.hash.size(),
                                  &tx.signer_key) != 1) {
    return reject(ResultCode::kBadSignature,
                  fmt::format("signature does not verify for signer {} over tx hash {}", to_hex(tx.signer),
                              to_hex(tx.hash)));
  }
  return {};
}

}  // namespace automata::execution
