#include "e2e/tx_builder.h"

#include "automata/crypto/sha256.h"
#include "automata/v1/tx.pb.h"

namespace automata::e2e {

Bytes transfer_body(const crypto::PrivateKey& key, const TransferSpec& spec) {
  v1::TxBody body;
  body.set_chain_id(spec.chain_id);
  auto pub = key.public_key();
  body.set_signer(std::string(pub.begin(), pub.end()));
  body.set_nonce(spec.nonce);
  body.set_gas_limit(spec.gas_limit);
  body.mutable_fee()->set_denom("atm");
  body.mutable_fee()->set_amount(spec.fee);
  body.set_expiry_height(spec.expiry_height);
  body.set_memo(spec.memo);
  auto* transfer = body.add_ops()->mutable_transfer();
  transfer->set_to(std::string(spec.to.begin(), spec.to.end()));
  auto* coin = transfer->add_amount();
  coin->set_denom(spec.denom);
  coin->set_amount(spec.amount);
  std::string bytes = body.SerializeAsString();
  return Bytes(bytes.begin(), bytes.end());
}

Bytes assemble_tx(const Bytes& body_bytes, const crypto::Signature& signature) {
  v1::Tx tx;
  tx.set_body_bytes(std::string(body_bytes.begin(), body_bytes.end()));
  tx.set_signature(std::string(signature.begin(), signature.end()));
  std::string bytes = tx.SerializeAsString();
  return Bytes(bytes.begin(), bytes.end());
}

Bytes build_transfer(const crypto::PrivateKey& key, const TransferSpec& spec) {
  Bytes body = transfer_body(key, spec);
  Hash32 hash = crypto::sha256(body);
  return assemble_tx(body, key.sign(hash));
}

}  // namespace automata::e2e
