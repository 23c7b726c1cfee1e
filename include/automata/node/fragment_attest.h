// ModelAttest transactions a storage node signs with its validator key to
// state on chain that it holds the fragments placed on it.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/amount.h"
#include "automata/types/bytes.h"

#include <cstdint>
#include <string>
#include <vector>

namespace automata::node {

// Genesis balance given to each validator of a dev chain or testnet, in
// atm, so that it can pay for its ModelAttest txs.
inline constexpr Amount kValidatorFunds = 1'000'000'000'000;

// Indices per ModelAttest tx. Packed varints of indices below 2^21 take at
// most 3 bytes each, so a tx stays far below the 32 KiB tx size limit.
inline constexpr size_t kMaxAttestIndices = 4000;

// Gas limit of an attest tx with index_count indices.
// NOTE: an estimate with headroom (base, bytes, holding and object writes,
// a per-index charge), not read from the module's gas schedule, so the
// signer overpays by up to about half.
uint64_t attest_gas_limit(size_t index_count);

struct AttestTx {
  Bytes bytes;    // serialized v1.Tx
  Hash32 hash{};  // SHA-256 of its body bytes
};

// A signed tx with one ModelAttest op for model at epoch listing indices
// (sorted, distinct, at most kMaxAttestIndices), fee =
// attest_gas_limit(indices.size()) * min_gas_price atm.
AttestTx build_attest_tx(const crypto::PrivateKey& key, const std::string& chain_id, uint64_t nonce,
                         uint64_t min_gas_price, const Hash32& model, uint64_t epoch,
                         const std::vector<uint32_t>& indices);

}  // namespace automata::node
