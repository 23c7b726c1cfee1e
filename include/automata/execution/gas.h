// The gas schedule: what each unit of work inside apply costs. Part of
// consensus, because gas_used is stored in every TxResult and decides
// kOutOfGas. docs/gas.md lists the same table.
#pragma once

#include <cstddef>
#include <cstdint>

namespace automata::execution::gas {

// Charged once per tx. Covers decoding, the signature check, the nonce
// update and the fee transfer (signer and fee-collector reads and writes).
inline constexpr uint64_t kTxBase = 5'000;
// Charged per byte of the serialized Tx (body and signature).
inline constexpr uint64_t kPerTxByte = 10;
// Charged per op, before the op runs.
inline constexpr uint64_t kPerOp = 1'000;
// Charged per coin (one denom, one recipient) that an op moves.
inline constexpr uint64_t kPerCoinMoved = 500;
// Charged per account that an op reads from state.
inline constexpr uint64_t kPerAccountRead = 200;
// Charged per account that an op writes to state.
inline constexpr uint64_t kPerAccountWrite = 1'000;

// Gas a tx costs before any op runs: base, bytes and ops. check rejects a
// tx whose gas_limit is below this with kGasLimitTooLow.
inline constexpr uint64_t intrinsic(size_t tx_bytes, size_t op_count) {
  return kTxBase + kPerTxByte * static_cast<uint64_t>(tx_bytes) + kPerOp * static_cast<uint64_t>(op_count);
}

}  // namespace automata::execution::gas

namespace automata::execution {

// Counts gas against a limit. consume() fails once the total would pass
// the limit; used() then stays at the limit, which is what a tx that ran
// out of gas reports.
class GasMeter {
 public:
  explicit GasMeter(uint64_t limit, uint64_t used = 0) : limit_(limit), used_(used) {}

  // Adds amount. Returns false (and sets used to the limit) when the total
  // would exceed the limit.
  bool consume(uint64_t amount) {
    if (amount > limit_ - used_) {
      used_ = limit_;
      return false;
    }
    used_ += amount;
    return true;
  }

  uint64_t used() const { return used_; }
  uint64_t limit() const { return limit_; }

 private:
  uint64_t limit_;
  uint64_t used_;
};

}  // namespace automata::execution
