// Code and object op txs: encoding through the Op oneof, signatures, object
// ids, upload batching and base64 decoding.
#include "automata/cli/code_client.h"
#include "automata/cli/code_tx.h"

#include "automata/crypto/sha256.h"
#include "automata/v1/tx.pb.h"

#include <gtest/gtest.h>

namespace automata::cli {
namespace {

crypto::PrivateKey test_key() {
  Hash32 secret{};
  secret[31] = 7;
  auto key = crypto::PrivateKey::from_bytes(secret);
  EXPECT_TRUE(key.has_value());
  return *key;
}

TEST(CodeTx, ComputedSizeMatchesBuiltTx) {
  crypto::PrivateKey key = test_key();
  // Sizes around the one- and two-byte varint limits of the length prefixes
  // (127/128 and 16383/16384 bytes), and gas and fee values of several
  // varint and decimal lengths.
  for (size_t blob_size : {size_t{0}, size_t{100}, size_t{125}, size_t{126}, size_t{127}, size_t{128},
                           size_t{16'380}, size_t{16'384}, size_t{300'000}}) {
    for (uint64_t gas : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{9'999'999}}) {
      v1::CodeUploadBlobs upload;
      upload.add_blobs(std::string(blob_size, 'b'));
      upload.add_blobs("second");
      OpsTxRequest request;
      request.chain_id = "automata-test";
      request.nonce = blob_size;
      request.gas_limit = gas;
      request.fee = gas * 3;
      request.memo = blob_size % 2 == 0 ? "" : "memo";
      request.ops = {{op_field::kCodeUploadBlobs, upload.SerializeAsString()},
                     {op_field::kOfferCancel, std::string(34, 'c')}};
      SignedTx signed_tx;
      ASSERT_TRUE(build_signed_ops_tx(request, key, &signed_tx).is_ok());
      EXPECT_EQ(signed_ops_tx_size(request), signed_tx.tx_bytes.size()) << "blob " << blob_size << ", gas " << gas;
    }
  }
}

TEST(CodeTx, OpsDecodeThroughGeneratedOneof) {
  v1::CodePublish publish;
  publish.set_name("demo");
  publish.set_royalty_bps(250);
  v1::TreeEntry* entry = publish.add_tree();
  entry->set_path("a.txt");
  entry->set_blob_hash(std::string(32, '\x01'));
  entry->set_mode(0644);
  v1::OfferAccept accept;
  accept.set_offer_id(std::string(32, '\x02'));

  OpsTxRequest request;
  request.chain_id = "automata-test";
  request.nonce = 3;
  request.gas_limit = 90000;
  request.fee = 180000;
  request.ops = {{op_field::kCodePublish, publish.SerializeAsString()},
                 {op_field::kOfferAccept, accept.SerializeAsString()}};
  crypto::PrivateKey key = test_key();
  SignedTx signed_tx;
  Status s = build_signed_ops_tx(request, key, &signed_tx);
  ASSERT_TRUE(s.is_ok()) << s.to_string();

  v1::Tx tx;
  ASSERT_TRUE(tx.ParseFromArray(signed_tx.tx_bytes.data(), static_cast<int>(signed_tx.tx_bytes.size())));
  v1::TxBody body;
  ASSERT_TRUE(body.ParseFromString(tx.body_bytes()));
  EXPECT_EQ(body.chain_id(), "automata-test");
  EXPECT_EQ(body.nonce(), 3u);
  EXPECT_EQ(body.gas_limit(), 90000u);
  EXPECT_EQ(body.fee().amount(), "180000");
  ASSERT_EQ(body.ops_size(), 2);
  ASSERT_TRUE(body.ops(0).has_code_publish());
  EXPECT_EQ(body.ops(0).code_publish().name(), "demo");
  EXPECT_EQ(body.ops(0).code_publish().royalty_bps(), 250u);
  ASSERT_EQ(body.ops(0).code_publish().tree_size(), 1);
  EXPECT_EQ(body.ops(0).code_publish().tree(0).path(), "a.txt");
  ASSERT_TRUE(body.ops(1).has_offer_accept());
  EXPECT_EQ(body.ops(1).offer_accept().offer_id(), std::string(32, '\x02'));

  // The appended ops give the same bytes protobuf itself would write.
  EXPECT_EQ(body.SerializeAsString(), tx.body_bytes());
  EXPECT_EQ(signed_tx.hash, crypto::sha256(as_view(tx.body_bytes())));
  auto signature = to_array<64>(as_view(tx.signature()));
  ASSERT_TRUE(signature.has_value());
  EXPECT_TRUE(crypto::verify(key.public_key(), signed_tx.hash, *signature));
}

TEST(CodeTx, RejectsEmptyOpsAndChainId) {
  OpsTxRequest request;
  request.chain_id = "c";
  SignedTx tx;
  EXPECT_EQ(build_signed_ops_tx(request, test_key(), &tx).kind(), Status::Kind::kInvalidArgument);
  request.ops = {{op_field::kCodeDecompose, ""}};
  request.chain_id = "";
  EXPECT_EQ(build_signed_ops_tx(request, test_key(), &tx).kind(), Status::Kind::kInvalidArgument);
}

TEST(CodeTx, ObjectIdHashesDomainTxHashAndIndex) {
  Hash32 tx_hash{};
  for (size_t i = 0; i < tx_hash.size(); ++i) tx_hash[i] = static_cast<uint8_t>(i);
  std::string preimage = "automata/object" + to_string(tx_hash) + std::string("\x00\x00\x01\x02", 4);
  EXPECT_EQ(object_id(tx_hash, 258), crypto::sha256(as_view(preimage)));
  EXPECT_NE(object_id(tx_hash, 0), object_id(tx_hash, 1));
}

TEST(CodeTx, UploadBatchesStayUnderPayload) {
  // Each blob of 100 bytes costs 1 tag + 1 length byte + 100 = 102 bytes.
  std::vector<uint64_t> sizes = {100, 100, 100, 100, 100};
  std::vector<std::vector<size_t>> batches;
  ASSERT_TRUE(plan_upload_batches(sizes, 210, 10, &batches).is_ok());
  std::vector<std::vector<size_t>> expected = {{0, 1}, {2, 3}, {4}};
  EXPECT_EQ(batches, expected);

  ASSERT_TRUE(plan_upload_batches({1, 1, 1, 1, 1}, 1000, 2, &batches).is_ok());
  std::vector<std::vector<size_t>> by_count = {{0, 1}, {2, 3}, {4}};
  EXPECT_EQ(batches, by_count);

  EXPECT_EQ(upload_entry_bytes(300), 1u + 2u + 300u);
  Status s = plan_upload_batches({50, 500}, 210, 10, &batches);
  ASSERT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("blob 1"), std::string::npos) << s.message();
}

TEST(CodeTx, GasEstimateCoversChargesAndIsCapped) {
  // Intrinsic gas of a 1000-byte, one-op tx: 5,000 + 10 * 1,000 + 1,000.
  uint64_t intrinsic = 16'000;
  EXPECT_GE(estimate_ops_gas(1000, 1), intrinsic);
  // Two new blobs of 300 bytes: 2 * (300 + 1,500) + 4 * 600 on top.
  GasHint upload{2, 600, 0};
  EXPECT_GE(estimate_ops_gas(1000, 1, upload) - estimate_ops_gas(1000, 1), 2u * 1800u + 2400u);
  // A tree of 100 entries: 150 per entry to validate, 300 per blob check.
  GasHint tree{0, 0, 100};
  EXPECT_GE(estimate_ops_gas(1000, 1, tree) - estimate_ops_gas(1000, 1), 100u * 450u);
  EXPECT_EQ(estimate_ops_gas(2'000'000, 1, {}, 10'000'000), 10'000'000u);
}

TEST(CodeTx, Base64Decoding) {
  std::string out;
  ASSERT_TRUE(decode_base64("aGVsbG8=", &out));
  EXPECT_EQ(out, "hello");
  ASSERT_TRUE(decode_base64("aGk=", &out));
  EXPECT_EQ(out, "hi");
  ASSERT_TRUE(decode_base64("AAEC/w==", &out));
  EXPECT_EQ(out, std::string("\x00\x01\x02\xff", 4));
  ASSERT_TRUE(decode_base64("", &out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(decode_base64("aGVsbG8", &out));
  EXPECT_FALSE(decode_base64("aG=sbG8=", &out));
  EXPECT_FALSE(decode_base64("a*VsbG8=", &out));
}

TEST(CodeTx, ParseIdNamesTheValue) {
  Hash32 id{};
  EXPECT_TRUE(parse_id(std::string(64, 'a'), "asset id", &id).is_ok());
  Status s = parse_id("abc", "asset id", &id);
  ASSERT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("asset id 'abc'"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace automata::cli
