#include "automata/node/fragment_attest.h"

#include "automata/crypto/sha256.h"
#include "automata/execution/gas.h"
#include "automata/v1/model.pb.h"
#include "automata/v1/tx.pb.h"

namespace automata::node {

uint64_t attest_gas_limit(size_t index_count) {
  // The tx itself: base, about 200 bytes of envelope and signature plus 3
  // bytes per index, one op.
  uint64_t gas = execution::gas::intrinsic(200 + 3 * index_count, 1);
  // Reads and writes of the model object, the holding, the validator set
  // and the other nodes' holdings for the availability check.
  gas += 100'000;
  gas += 200 * static_cast<uint64_t>(index_count);
  return gas;
}

AttestTx build_attest_tx(const crypto::PrivateKey& key, const std::string& chain_id, uint64_t nonce,
                         uint64_t min_gas_price, const Hash32& model, uint64_t epoch,
                         const std::vector<uint32_t>& indices) {
  v1::TxBody body;
  body.set_chain_id(chain_id);
  auto pubkey = key.public_key();
  body.set_signer(pubkey.data(), pubkey.size());
  body.set_nonce(nonce);
  const uint64_t gas_limit = attest_gas_limit(indices.size());
  body.set_gas_limit(gas_limit);
  body.mutable_fee()->set_denom("atm");
  body.mutable_fee()->set_amount(amount_to_string(Amount{gas_limit} * Amount{min_gas_price}));
  auto* attest = body.add_ops()->mutable_model_attest();
  attest->set_model_id(model.data(), model.size());
  attest->set_epoch(epoch);
  for (uint32_t index : indices) attest->add_indices(index);

  v1::Tx tx;
  tx.set_body_bytes(body.SerializeAsString());
  AttestTx out;
  out.hash = crypto::sha256(as_view(tx.body_bytes()));
  auto signature = key.sign(out.hash);
  tx.set_signature(signature.data(), signature.size());
  std::string serialized = tx.SerializeAsString();
  out.bytes.assign(serialized.begin(), serialized.end());
  return out;
}

}  // namespace automata::node
