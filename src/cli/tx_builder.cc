#include "automata/cli/tx_builder.h"

#include "automata/crypto/sha256.h"
#include "automata/v1/tx.pb.h"

namespace automata::cli {

namespace {

void fill_coins(const std::vector<Coin>& coins, google::protobuf::RepeatedPtrField<v1::Coin>* out) {
  for (const auto& coin : coins) {
    v1::Coin* c = out->Add();
    c->set_denom(coin.denom);
    c->set_amount(amount_to_string(coin.amount));
  }
}

std::string address_bytes(const Address& address) { return std::string(address.begin(), address.end()); }

}  // namespace

Status build_signed_tx(const TxRequest& request, const crypto::PrivateKey& key, SignedTx* out) {
  if (request.chain_id.empty()) return Status::invalid_argument("chain id is empty");
  if (request.outputs.empty()) return Status::invalid_argument("a tx needs at least one recipient");
  if (request.kind == TxKind::kTransfer && request.outputs.size() != 1) {
    return Status::invalid_argument("a transfer has exactly one recipient, got " +
                                    std::to_string(request.outputs.size()) + "; use multi-send");
  }
  for (size_t i = 0; i < request.outputs.size(); ++i) {
    if (request.outputs[i].amount.empty()) {
      return Status::invalid_argument("recipient " + std::to_string(i + 1) + " has no amount");
    }
  }

  crypto::PublicKey pubkey = key.public_key();
  v1::TxBody body;
  body.set_chain_id(request.chain_id);
  body.set_signer(std::string(pubkey.begin(), pubkey.end()));
  body.set_nonce(request.nonce);
  body.set_gas_limit(request.gas_limit);
  body.mutable_fee()->set_denom(kFeeDenom);
  body.mutable_fee()->set_amount(amount_to_string(request.fee));
  body.set_expiry_height(request.expiry_height);
  body.set_memo(request.memo);

  v1::Op* op = body.add_ops();
  if (request.kind == TxKind::kTransfer) {
    v1::Transfer* transfer = op->mutable_transfer();
    transfer->set_to(address_bytes(request.outputs[0].to));
    fill_coins(request.outputs[0].amount, transfer->mutable_amount());
  } else {
    v1::MultiSend* multi = op->mutable_multi_send();
    for (const auto& output : request.outputs) {
      v1::Output* o = multi->add_outputs();
      o->set_to(address_bytes(output.to));
      fill_coins(output.amount, o->mutable_amount());
    }
  }

  std::string body_bytes;
  if (!body.SerializeToString(&body_bytes)) return Status::invalid_argument("cannot serialize the tx body");
  out->body_bytes = to_bytes(body_bytes);
  out->hash = crypto::sha256(out->body_bytes);
  out->signature = key.sign(out->hash);

  v1::Tx tx;
  tx.set_body_bytes(body_bytes);
  tx.set_signature(std::string(out->signature.begin(), out->signature.end()));
  std::string tx_bytes;
  if (!tx.SerializeToString(&tx_bytes)) return Status::invalid_argument("cannot serialize the tx");
  out->tx_bytes = to_bytes(tx_bytes);
  return Status::ok();
}

}  // namespace automata::cli
