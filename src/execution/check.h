// Stage 1, check: stateless validation of a serialized Tx. A failure
// rejects the tx (never included, no fee). Pure functions of the bytes and
// the chain parameters, so they may run on any thread.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/execution/genesis.h"
#include "automata/execution/result_code.h"
#include "automata/types/amount.h"
#include "automata/types/bytes.h"
#include "automata/v1/tx.pb.h"

#include <secp256k1_extrakeys.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace automata::execution {

// The outcome of one stage: kOk, or a code and a log naming the value and
// the rule that rejected it.
struct StageResult {
  ResultCode code = ResultCode::kOk;
  std::string log;

  bool ok() const { return code == ResultCode::kOk; }
};

// A tx decoded by the check stage, with the values later stages need.
struct DecodedTx {
  v1::Tx tx;
  v1::TxBody body;
  Hash32 hash{};               // SHA-256(body_bytes)
  crypto::PublicKey signer{};
  secp256k1_xonly_pubkey signer_key{};  // signer parsed once, for the signature check
  // True when check_tx_shape found this hash and signature in the
  // VerifiedSet it was given: the signature verified before, so signer_key
  // was not parsed again and check_tx_signature must not be called.
  bool signature_verified = false;
  crypto::Signature signature{};
  Address sender{};            // first 20 bytes of SHA-256(signer)
  Amount fee = 0;              // in atm; fits 64 bits after check
  uint64_t intrinsic_gas = 0;
  size_t size_bytes = 0;
  // Committed values of the accounts the tx will read, fetched by the
  // check stage so apply finds them cached (key, value or nullopt).
  std::vector<std::pair<Bytes, std::optional<Bytes>>> prefetched;
};

inline constexpr size_t kMaxMemoBytes = 256;

class VerifiedSet;

// Decodes tx_bytes and checks everything stateless except the signature:
// size, encoding, chain id, signer key, op count and shapes, fee, memo and
// gas limit. Fills out as far as decoding got. When verified (may be null)
// contains the tx's hash and signature, that signature verified earlier over
// these body bytes, so the signer key parses. The key parse (a field square
// root) is then skipped and out->signature_verified set.
StageResult check_tx_shape(ByteView tx_bytes, std::string_view chain_id, const ChainParameters& params,
                           const VerifiedSet* verified, DecodedTx* out);

// Verifies the BIP-340 signature over the tx hash. REQUIRES: check_tx_shape
// returned ok for tx.
StageResult check_tx_signature(const DecodedTx& tx);

}  // namespace automata::execution
