#include "automata/cli/proof.h"

#include "chain_fixture.h"

#include <gtest/gtest.h>

namespace automata::cli {
namespace {

using nlohmann::json;
using testing::ChainFixture;

Address address_from(uint8_t fill) {
  Address a{};
  a.fill(fill);
  return a;
}

class ProofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state::ChangeSet first;
    for (uint8_t i = 1; i <= 20; ++i) first[keys::account(address_from(i))] = ChainFixture::account_value(i, "100");
    chain_.commit(first);
    state::ChangeSet second;
    second[keys::account(address_from(1))] = ChainFixture::account_value(2, "40");
    chain_.commit(second);
  }

  Status verify(const json& proof, const json& block, ByteView key) {
    VerifiedProof out;
    return verify_proof_response(proof, block, key, &out);
  }

  ChainFixture chain_;
};

TEST_F(ProofTest, InclusionVerifies) {
  Bytes key = keys::account(address_from(1));
  VerifiedProof out;
  Status s = verify_proof_response(chain_.proof_json(2, key), chain_.block_json(2), key, &out);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(out.height, 2u);
  EXPECT_EQ(out.key, key);
  ASSERT_TRUE(out.value.has_value());
  EXPECT_EQ(*out.value, ChainFixture::account_value(2, "40"));
}

TEST_F(ProofTest, OlderHeightVerifiesOldValue) {
  Bytes key = keys::account(address_from(1));
  VerifiedProof out;
  Status s = verify_proof_response(chain_.proof_json(1, key), chain_.block_json(1), key, &out);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(*out.value, ChainFixture::account_value(1, "100"));
}

TEST_F(ProofTest, ExclusionVerifies) {
  Bytes key = keys::account(address_from(0xee));
  VerifiedProof out;
  Status s = verify_proof_response(chain_.proof_json(2, key), chain_.block_json(2), key, &out);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_FALSE(out.value.has_value());
}

TEST_F(ProofTest, HeaderHashMismatchRejected) {
  Bytes key = keys::account(address_from(1));
  json block = chain_.block_json(2);
  block["hash"] = to_hex(Hash32{});
  Status s = verify(chain_.proof_json(2, key), block, key);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("SHA-256(header_bytes)"), std::string::npos) << s.message();
}

TEST_F(ProofTest, HeaderFromOtherHeightRejected) {
  Bytes key = keys::account(address_from(1));
  Status s = verify(chain_.proof_json(2, key), chain_.block_json(1), key);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("height"), std::string::npos) << s.message();
}

TEST_F(ProofTest, OtherKeyRejected) {
  Bytes asked = keys::account(address_from(1));
  Bytes proved = keys::account(address_from(2));
  Status s = verify(chain_.proof_json(2, proved), chain_.block_json(2), asked);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("instead of"), std::string::npos) << s.message();
}

TEST_F(ProofTest, ChangedValueRejected) {
  Bytes key = keys::account(address_from(1));
  json proof = chain_.proof_json(2, key);
  proof["value"] = to_hex(ChainFixture::account_value(2, "1000000"));
  Status s = verify(proof, chain_.block_json(2), key);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("does not lead to state root"), std::string::npos) << s.message();
}

TEST_F(ProofTest, ClaimedAbsenceOfPresentKeyRejected) {
  Bytes key = keys::account(address_from(1));
  json proof = chain_.proof_json(2, key);
  proof["value"] = nullptr;
  proof["exists"] = false;
  EXPECT_FALSE(verify(proof, chain_.block_json(2), key).is_ok());
}

TEST_F(ProofTest, ExistsDisagreeingWithValueRejected) {
  Bytes key = keys::account(address_from(1));
  json proof = chain_.proof_json(2, key);
  proof["exists"] = false;
  Status s = verify(proof, chain_.block_json(2), key);
  EXPECT_NE(s.message().find("exists"), std::string::npos) << s.message();
}

TEST_F(ProofTest, ChangedSiblingRejected) {
  Bytes key = keys::account(address_from(3));
  json proof = chain_.proof_json(2, key);
  ASSERT_FALSE(proof["proof"]["siblings"].empty());
  std::string sibling = proof["proof"]["siblings"][0];
  sibling[0] = sibling[0] == 'a' ? 'b' : 'a';
  proof["proof"]["siblings"][0] = sibling;
  EXPECT_FALSE(verify(proof, chain_.block_json(2), key).is_ok());
}

TEST_F(ProofTest, MalformedFieldsNamed) {
  Bytes key = keys::account(address_from(1));
  struct Case {
    std::string expect;
    std::function<void(json&, json&)> tamper;
  };
  const std::vector<Case> cases = {
      {"block.hash", [](json&, json& b) { b["hash"] = "xyz"; }},
      {"block.header_bytes", [](json&, json& b) { b.erase("header_bytes"); }},
      {"BlockHeader", [](json&, json& b) { b["header_bytes"] = "ff"; b["hash"] = to_hex(crypto::sha256(Bytes{0xff})); }},
      {"proof result.height", [](json& p, json&) { p["height"] = "2"; }},
      {"proof.siblings[0]", [](json& p, json&) { p["proof"]["siblings"][0] = "00"; }},
      {"proof.key_hash", [](json& p, json&) { p["proof"]["key_hash"] = nullptr; }},
      {"proof result.exists", [](json& p, json&) { p.erase("exists"); }},
  };
  for (const auto& c : cases) {
    json proof = chain_.proof_json(2, key);
    json block = chain_.block_json(2);
    c.tamper(proof, block);
    Status s = verify(proof, block, key);
    EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument) << c.expect;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << c.expect << ": " << s.message();
  }
}

}  // namespace
}  // namespace automata::cli
