#include "apply.h"

#include "automata/execution/fee_collector.h"
#include "automata/execution/gas.h"
#include "automata/modules/bank/bank.h"
#include "automata/types/logging.h"
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

Status run_ops(const DecodedTx& tx, Overlay& op_state, GasMeter& gas, ApplyOutcome* outcome) {
  bank::OpContext context{&op_state, &gas, tx.sender};
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
      default:
        // The check stage rejects op kinds without a module.
        code = ResultCode::kInvalidOp;
        log = fmt::format("op of field number {} has no module to run it", static_cast<int>(op.kind_case()));
        break;
    }
    if (!status.is_ok()) return status;
    if (code != ResultCode::kOk) {
      outcome->code = code;
      outcome->log = fmt::format("ops[{}]: {}", i, log);
      return Status::ok();
    }
  }
  return Status::ok();
}

void log_violation(const DecodedTx& tx, const StageResult& violation) {
  logger("execution")->error("invariant violated by tx {}: {}", to_hex(tx.hash), violation.log);
}

}  // namespace

Status apply_tx(const DecodedTx& tx, Overlay& block_state, ApplyOutcome* outcome) {
  *outcome = {};
  Overlay tx_state(&block_state);
  Status status = charge_fee(tx, tx_state);
  if (!status.is_ok()) return status;

  // Check stage guaranteed gas_limit >= intrinsic gas.
  GasMeter gas(tx.body.gas_limit(), tx.intrinsic_gas);
  Overlay op_state(&tx_state);
  status = run_ops(tx, op_state, gas, outcome);
  if (!status.is_ok()) return status;
  outcome->gas_used = gas.used();
  bool ops_kept = outcome->code == ResultCode::kOk;
  if (ops_kept) op_state.merge_into(&tx_state);

  // One check over the whole tx covers the common case. When it fails with
  // the ops kept, the ops are dropped and the fee step is checked alone.
  StageResult violation;
  status = check_supply_conserved(tx_state, &violation);
  if (!status.is_ok()) return status;
  if (!violation.ok()) {
    log_violation(tx, violation);
    outcome->code = violation.code;
    outcome->log = violation.log;
    if (!ops_kept) return Status::ok();

    tx_state.clear();
    status = charge_fee(tx, tx_state);
    if (!status.is_ok()) return status;
    StageResult fee_violation;
    status = check_supply_conserved(tx_state, &fee_violation);
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
