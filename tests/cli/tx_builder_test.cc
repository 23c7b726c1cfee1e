#include "automata/cli/tx_builder.h"

#include "automata/crypto/sha256.h"
#include "automata/v1/tx.pb.h"

#include <gtest/gtest.h>

namespace automata::cli {
namespace {

Address address_from(uint8_t fill) {
  Address a{};
  a.fill(fill);
  return a;
}

std::string raw(const Address& a) { return std::string(a.begin(), a.end()); }

TxRequest transfer_request() {
  TxRequest request;
  request.chain_id = "automata-dev";
  request.nonce = 7;
  request.gas_limit = 50000;
  request.fee = 50000;
  request.expiry_height = 120;
  request.memo = "rent";
  request.kind = TxKind::kTransfer;
  request.outputs = {TxOutput{address_from(0xab), {Coin{"atm", 1000}, Coin{"token/abc", 5}}}};
  return request;
}

TEST(BuildSignedTx, TransferBodyMatchesRequest) {
  crypto::PrivateKey key = crypto::PrivateKey::generate();
  SignedTx signed_tx;
  ASSERT_TRUE(build_signed_tx(transfer_request(), key, &signed_tx).is_ok());

  v1::Tx tx;
  ASSERT_TRUE(tx.ParseFromArray(signed_tx.tx_bytes.data(), static_cast<int>(signed_tx.tx_bytes.size())));
  EXPECT_EQ(tx.body_bytes(), to_string(signed_tx.body_bytes));

  v1::TxBody body;
  ASSERT_TRUE(body.ParseFromString(tx.body_bytes()));
  crypto::PublicKey pubkey = key.public_key();
  EXPECT_EQ(body.chain_id(), "automata-dev");
  EXPECT_EQ(body.signer(), std::string(pubkey.begin(), pubkey.end()));
  EXPECT_EQ(body.nonce(), 7u);
  EXPECT_EQ(body.gas_limit(), 50000u);
  EXPECT_EQ(body.fee().denom(), "atm");
  EXPECT_EQ(body.fee().amount(), "50000");
  EXPECT_EQ(body.expiry_height(), 120u);
  EXPECT_EQ(body.memo(), "rent");
  ASSERT_EQ(body.ops_size(), 1);
  ASSERT_TRUE(body.ops(0).has_transfer());
  const v1::Transfer& transfer = body.ops(0).transfer();
  EXPECT_EQ(transfer.to(), raw(address_from(0xab)));
  ASSERT_EQ(transfer.amount_size(), 2);
  EXPECT_EQ(transfer.amount(0).denom(), "atm");
  EXPECT_EQ(transfer.amount(0).amount(), "1000");
  EXPECT_EQ(transfer.amount(1).denom(), "token/abc");
  EXPECT_EQ(transfer.amount(1).amount(), "5");
}

TEST(BuildSignedTx, SignatureVerifiesOverBodyHash) {
  crypto::PrivateKey key = crypto::PrivateKey::generate();
  SignedTx signed_tx;
  ASSERT_TRUE(build_signed_tx(transfer_request(), key, &signed_tx).is_ok());

  v1::Tx tx;
  ASSERT_TRUE(tx.ParseFromArray(signed_tx.tx_bytes.data(), static_cast<int>(signed_tx.tx_bytes.size())));
  Hash32 hash = crypto::sha256(as_view(tx.body_bytes()));
  EXPECT_EQ(hash, signed_tx.hash);
  v1::TxBody body;
  ASSERT_TRUE(body.ParseFromString(tx.body_bytes()));
  EXPECT_TRUE(crypto::verify(as_view(body.signer()), hash, as_view(tx.signature())));

  // The signature covers the body: one changed byte fails verification.
  std::string changed = tx.body_bytes();
  changed[changed.size() - 1] ^= 0x01;
  EXPECT_FALSE(crypto::verify(as_view(body.signer()), crypto::sha256(as_view(changed)), as_view(tx.signature())));
}

TEST(BuildSignedTx, MultiSendKeepsOutputOrder) {
  crypto::PrivateKey key = crypto::PrivateKey::generate();
  TxRequest request = transfer_request();
  request.kind = TxKind::kMultiSend;
  request.outputs = {TxOutput{address_from(0x02), {Coin{"atm", 20}}}, TxOutput{address_from(0x01), {Coin{"atm", 10}}}};
  SignedTx signed_tx;
  ASSERT_TRUE(build_signed_tx(request, key, &signed_tx).is_ok());

  v1::TxBody body;
  ASSERT_TRUE(body.ParseFromArray(signed_tx.body_bytes.data(), static_cast<int>(signed_tx.body_bytes.size())));
  ASSERT_EQ(body.ops_size(), 1);
  ASSERT_TRUE(body.ops(0).has_multi_send());
  const v1::MultiSend& multi = body.ops(0).multi_send();
  ASSERT_EQ(multi.outputs_size(), 2);
  EXPECT_EQ(multi.outputs(0).to(), raw(address_from(0x02)));
  EXPECT_EQ(multi.outputs(0).amount(0).amount(), "20");
  EXPECT_EQ(multi.outputs(1).to(), raw(address_from(0x01)));
  EXPECT_EQ(multi.outputs(1).amount(0).amount(), "10");
}

TEST(BuildSignedTx, HugeAmountKeepsAllDigits) {
  crypto::PrivateKey key = crypto::PrivateKey::generate();
  TxRequest request = transfer_request();
  request.outputs[0].amount = {Coin{"atm", kMaxAmount}};
  SignedTx signed_tx;
  ASSERT_TRUE(build_signed_tx(request, key, &signed_tx).is_ok());
  v1::TxBody body;
  ASSERT_TRUE(body.ParseFromArray(signed_tx.body_bytes.data(), static_cast<int>(signed_tx.body_bytes.size())));
  EXPECT_EQ(body.ops(0).transfer().amount(0).amount(), "340282366920938463463374607431768211455");
}

TEST(BuildSignedTx, RejectsBadRequests) {
  crypto::PrivateKey key = crypto::PrivateKey::generate();
  SignedTx signed_tx;

  TxRequest no_chain = transfer_request();
  no_chain.chain_id.clear();
  EXPECT_EQ(build_signed_tx(no_chain, key, &signed_tx).kind(), Status::Kind::kInvalidArgument);

  TxRequest no_outputs = transfer_request();
  no_outputs.outputs.clear();
  EXPECT_EQ(build_signed_tx(no_outputs, key, &signed_tx).kind(), Status::Kind::kInvalidArgument);

  TxRequest two_transfer = transfer_request();
  two_transfer.outputs.push_back(two_transfer.outputs[0]);
  Status s = build_signed_tx(two_transfer, key, &signed_tx);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("multi-send"), std::string::npos) << s.message();

  TxRequest empty_amount = transfer_request();
  empty_amount.outputs[0].amount.clear();
  EXPECT_EQ(build_signed_tx(empty_amount, key, &signed_tx).kind(), Status::Kind::kInvalidArgument);
}

}  // namespace
}  // namespace automata::cli
