// Builds and signs transactions in end-to-end tests, independently of the
// CLI, so tests can send deliberately broken ones.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"

#include <string>
#include <utility>
#include <vector>

namespace automata::e2e {

struct TransferSpec {
  std::string chain_id;
  uint64_t nonce = 0;
  uint64_t gas_limit = 50000;
  std::string fee = "50000";
  uint64_t expiry_height = 0;
  std::string memo;
  Address to{};
  std::string denom = "atm";
  std::string amount = "1";
};

// A transfer spec with the usual defaults for the other fields.
inline TransferSpec make_spec(std::string chain_id, uint64_t nonce, const Address& to, std::string amount = "1") {
  TransferSpec spec;
  spec.chain_id = std::move(chain_id);
  spec.nonce = nonce;
  spec.to = to;
  spec.amount = std::move(amount);
  return spec;
}

// Serialized automata.v1.Tx with one transfer op, signed by key over
// SHA-256(body_bytes).
Bytes build_transfer(const crypto::PrivateKey& key, const TransferSpec& spec);

// Same, but returns the body bytes and signature separately so a test can
// tamper with either before assembling.
Bytes assemble_tx(const Bytes& body_bytes, const crypto::Signature& signature);
Bytes transfer_body(const crypto::PrivateKey& key, const TransferSpec& spec);

}  // namespace automata::e2e
