#include "apply.h"

#include "automata/execution/fee_collector.h"
#include "automata/execution/gas.h"
#include "automata/modules/bank/bank.h"
#include "automata/modules/code/code.h"
#include "automata/modules/model/model.h"
#include "automata/modules/objects/object_ops.h"
#include "automata/types/logging.h"
#include "automata/v1/code_state.pb.h"
#include "automata/v1/model.pb.h"
#include "automata/v1/state.pb.h"
#include "invariants.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace automata::execution {

namespace {

// Moves the fee to the fee collector, advances the nonce and records the
// pubkey. Precheck proved the balance covers the fee, so a shortfall here
// means the state changed under us: it is reported as a corrupt state.
Status charge_fee(const DecodedTx& tx, Overlay& state) {
  v1::Account signer;
  Status status = bank::load_account(state, tx.sender, &signer);
  if (!status.is_ok()) return status;
  std::string log;
  if (bank::debit(&signer, tx.sender, kNativeDenom, tx.fee, &log) != ResultCode::kOk) {
    return Status::corruption("fee no longer payable after precheck: " + log);
  }
  signer.set_nonce(signer.nonce() + 1);
  if (signer.pubkey().empty()) signer.set_pubkey(tx.body.signer());
  bank::store_account(state, tx.sender, signer);

  if (tx.fee == 0) return Status::ok();
  v1::Account collector;
  status = bank::load_account(state, fee_collector_address(), &collector);
  if (!status.is_ok()) return status;
  if (bank::credit(&collector, kNativeDenom, tx.fee, &log) != ResultCode::kOk) {
    return Status::corruption("fee collector balance overflows: " + log);
  }
  bank::store_account(state, fee_collector_address(), collector);
  return Status::ok();
}

// Object rules chosen by the object's type: model NFTs follow the model
// module, every other type the code module.
class TypeRules final : public objects::ObjectRules {
 public:
  Status commitment(objects::ObjectContext& context, const v1::ObjectEnvelope& object, Hash32* out,
                    objects::OpResult* result) const override {
    return rules_for(object).commitment(context, object, out, result);
  }
  Status royalties(objects::ObjectContext& context, const v1::ObjectEnvelope& object, const Address& seller,
                   std::vector<objects::Royalty>* out, objects::OpResult* result) const override {
    return rules_for(object).royalties(context, object, seller, out, result);
  }
  Status on_owner_change(objects::ObjectContext& context, v1::ObjectEnvelope* object, objects::OwnerChange change,
                         const Address& previous_owner, objects::OpResult* result) const override {
    return rules_for(*object).on_owner_change(context, object, change, previous_owner, result);
  }
  objects::OpResult check_generic_op(const v1::ObjectEnvelope& object, objects::GenericOp op) const override {
    return rules_for(object).check_generic_op(object, op);
  }

 private:
  static const objects::ObjectRules& rules_for(const v1::ObjectEnvelope& object) {
    if (object.type() == model::kTypeModel) return model::object_rules();
    return code::object_rules();
  }
};

// Runs a model op. Sets handled to false for an op of another module.
Status run_model_op(const v1::Op& op, objects::ObjectContext& context, objects::OpResult* result, bool* handled) {
  *handled = true;
  switch (op.kind_case()) {
    case v1::Op::kModelRegister: return model::apply_register(op.model_register(), context, result);
    case v1::Op::kModelTransfer: return model::apply_transfer(op.model_transfer(), context, result);
    case v1::Op::kModelLease: return model::apply_lease(op.model_lease(), context, result);
    case v1::Op::kModelDeliverKey: return model::apply_deliver_key(op.model_deliver_key(), context, result);
    case v1::Op::kModelBurn: return model::apply_burn(op.model_burn(), context, result);
    case v1::Op::kModelUpdate: return model::apply_update(op.model_update(), context, result);
    case v1::Op::kModelRekey: return model::apply_rekey(op.model_rekey(), context, result);
    case v1::Op::kModelAttest: return model::apply_attest(op.model_attest(), context, result);
    default: *handled = false; return Status::ok();
  }
}

// Runs a code, object or model op. Sets handled to false for an op of
// another module.
Status run_object_op(const v1::Op& op, objects::ObjectContext& context, objects::OpResult* result, bool* handled) {
  static const TypeRules rules;
  *handled = true;
  switch (op.kind_case()) {
    case v1::Op::kCodeUploadBlobs: return code::apply_upload_blobs(op.code_upload_blobs(), context, result);
    case v1::Op::kCodePublish: return code::apply_publish(op.code_publish(), context, result);
    case v1::Op::kCodeCommit: return code::apply_commit(op.code_commit(), context, result);
    case v1::Op::kCodeBranch: return code::apply_branch(op.code_branch(), context, result);
    case v1::Op::kCodeMerge: return code::apply_merge(op.code_merge(), context, result);
    case v1::Op::kCodeSetRules: return code::apply_set_rules(op.code_set_rules(), context, result);
    case v1::Op::kCodePropose: return code::apply_propose(op.code_propose(), context, result);
    case v1::Op::kCodeReview: return code::apply_review(op.code_review(), context, result);
    case v1::Op::kCodeCompose: return code::apply_compose(op.code_compose(), context, result);
    case v1::Op::kCodeDecompose: return code::apply_decompose(op.code_decompose(), context, result);
    case v1::Op::kObjectTransfer: return objects::apply_object_transfer(op.object_transfer(), rules, context, result);
    case v1::Op::kObjectGrantUse:
      return objects::apply_object_grant_use(op.object_grant_use(), rules, context, result);
    case v1::Op::kOfferCreate: return objects::apply_offer_create(op.offer_create(), rules, context, result);
    case v1::Op::kOfferAccept: return objects::apply_offer_accept(op.offer_accept(), rules, context, result);
    case v1::Op::kOfferCancel: return objects::apply_offer_cancel(op.offer_cancel(), context, result);
    default: return run_model_op(op, context, result, handled);
  }
}

Status run_ops(const DecodedTx& tx, Overlay& op_state, GasMeter& gas, uint64_t height, ApplyOutcome* outcome) {
  bank::OpContext context{&op_state, &gas, tx.sender};
  objects::ObjectContext object_context;
  object_context.state = &op_state;
  object_context.gas = &gas;
  object_context.signer = tx.sender;
  object_context.tx_hash = tx.hash;
  object_context.tx_nonce = tx.body.nonce();
  object_context.height = height;
  object_context.created = &outcome->created;
  for (int i = 0; i < tx.body.ops_size(); ++i) {
    const v1::Op& op = tx.body.ops(i);
    ResultCode code = ResultCode::kOk;
    std::string log;
    Status status;
    switch (op.kind_case()) {
      case v1::Op::kTransfer: status = bank::apply_transfer(op.transfer(), context, &code, &log); break;
      case v1::Op::kMultiSend: status = bank::apply_multi_send(op.multi_send(), context, &code, &log); break;
      case v1::Op::KIND_NOT_SET:
        code = ResultCode::kInvalidOp;
        log = "no operation set";
        break;
      default: {
        object_context.op_index = static_cast<uint32_t>(i);
        objects::OpResult result;
        bool handled = false;
        status = run_object_op(op, object_context, &result, &handled);
        code = handled ? result.code : ResultCode::kInvalidOp;
        log = handled ? std::move(result.log)
                      : fmt::format("op field {} has no handler", static_cast<int>(op.kind_case()));
        break;
      }
    }
    if (!status.is_ok()) return status;
    if (code != ResultCode::kOk) {
      outcome->code = code;
      outcome->log = fmt::format("ops[{}]: {}", i, log);
      outcome->created.clear();
      return Status::ok();
    }
  }
  return Status::ok();
}

// Runs every stage 4 check over the tx's writes; result is the first
// violation.
Status check_invariants(Overlay& tx_state, StageResult* result) {
  Status status = check_supply_conserved(tx_state, result);
  if (!status.is_ok() || !result->ok()) return status;
  return check_objects_consistent(tx_state, result);
}

void log_violation(const DecodedTx& tx, const StageResult& violation) {
  logger("execution")->error("invariant violated by tx {}: {}", to_hex(tx.hash), violation.log);
}

}  // namespace

Status apply_tx(const DecodedTx& tx, Overlay& block_state, uint64_t height, ApplyOutcome* outcome) {
  *outcome = {};
  Overlay tx_state(&block_state);
  Status status = charge_fee(tx, tx_state);
  if (!status.is_ok()) return status;

  // Check stage guaranteed gas_limit >= intrinsic gas.
  GasMeter gas(tx.body.gas_limit(), tx.intrinsic_gas);
  Overlay op_state(&tx_state);
  status = run_ops(tx, op_state, gas, height, outcome);
  if (!status.is_ok()) return status;
  outcome->gas_used = gas.used();
  bool ops_kept = outcome->code == ResultCode::kOk;
  if (ops_kept) op_state.merge_into(&tx_state);

  // One check over the whole tx covers the common case. When it fails with
  // the ops kept, the ops are dropped and the fee step is checked alone.
  StageResult violation;
  status = check_invariants(tx_state, &violation);
  if (!status.is_ok()) return status;
  if (!violation.ok()) {
    log_violation(tx, violation);
    outcome->code = violation.code;
    outcome->log = violation.log;
    outcome->created.clear();
    if (!ops_kept) return Status::ok();

    tx_state.clear();
    status = charge_fee(tx, tx_state);
    if (!status.is_ok()) return status;
    StageResult fee_violation;
    status = check_invariants(tx_state, &fee_violation);
    if (!status.is_ok()) return status;
    if (!fee_violation.ok()) {
      log_violation(tx, fee_violation);
      return Status::ok();
    }
  }
  tx_state.merge_into(&block_state);
  return Status::ok();
}

}  // namespace automata::execution
