// Builds and signs bank transactions (automata.v1.Tx) for the CLI.
#pragma once

#include "automata/cli/coins.h"
#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <string>
#include <vector>

namespace automata::cli {

struct TxOutput {
  Address to{};
  std::vector<Coin> amount;  // sorted by denom, each denom once
};

enum class TxKind {
  kTransfer,   // one Transfer op; outputs must hold exactly one entry
  kMultiSend,  // one MultiSend op with every output
};

// Everything the signer chooses. The fee is in the native denom "atm".
struct TxRequest {
  std::string chain_id;
  uint64_t nonce = 0;
  uint64_t gas_limit = 0;
  Amount fee = 0;
  uint64_t expiry_height = 0;  // 0: no expiry
  std::string memo;
  TxKind kind = TxKind::kTransfer;
  std::vector<TxOutput> outputs;
};

struct SignedTx {
  Bytes body_bytes;   // serialized TxBody
  Hash32 hash{};      // SHA-256(body_bytes), the tx hash
  crypto::Signature signature{};
  Bytes tx_bytes;     // serialized Tx {body_bytes, signature}
};

inline constexpr const char* kFeeDenom = "atm";

// Serializes the body with the key's public key as signer, signs
// SHA-256(body_bytes) with BIP-340 and serializes the Tx. Returns
// invalid_argument when the chain id is empty, there are no outputs, a
// transfer has more than one output, or an output has no coins.
Status build_signed_tx(const TxRequest& request, const crypto::PrivateKey& key, SignedTx* out);

}  // namespace automata::cli
