// The CLI's model content pipeline: spool encryption, proof and tag checks
// on fetched fragments, key envelopes, model_get decoding, and fetch
// against a fake node on 127.0.0.1 that serves fragments from a spool.
#include "automata/cli/model_content.h"

#include "automata/crypto/bech32.h"
#include "automata/crypto/merkle.h"
#include "automata/crypto/model_content.h"
#include "automata/crypto/sha256.h"
#include "automata/v1/model.pb.h"
#include "cli/context.h"
#include "fake_http_server.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace automata::cli {
namespace {

using nlohmann::json;
using testing::FakeHttpServer;
using testing::FakeResponse;
using testing::TempDir;

constexpr uint64_t kFragment = kMinFragmentSize;  // 64 KiB

Bytes pseudo_random_bytes(size_t size, uint32_t seed) {
  std::mt19937 engine(seed);
  Bytes out(size);
  for (auto& byte : out) byte = static_cast<uint8_t>(engine());
  return out;
}

std::string write_file(const std::string& dir, const std::string& name, const Bytes& data) {
  std::string path = dir + "/" + name;
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  return path;
}

Bytes read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

std::string base64(ByteView bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

Hash32 test_model_id() { return crypto::sha256(as_view("model content test")); }

// A file of 3 full fragments and a short fourth one, spooled under a fixed
// content key.
class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plaintext_ = pseudo_random_bytes(3 * kFragment + 1234, 7);
    file_ = write_file(dir_.path(), "model.bin", plaintext_);
    content_key_ = pseudo_random_bytes(32, 8);
    ASSERT_TRUE(encrypt_to_spool(file_, test_model_id(), content_key_, kFragment, dir_.path() + "/spool", &spool_)
                    .is_ok());
  }

  Bytes sealed(uint64_t index) {
    Bytes out;
    EXPECT_TRUE(read_spool_fragment(spool_, index, &out).is_ok());
    return out;
  }

  v1::ModelManifest manifest() {
    v1::ModelManifest out;
    spool_.fill_manifest(&out);
    return out;
  }

  TempDir dir_;
  Bytes plaintext_;
  std::string file_;
  Bytes content_key_;
  ModelSpool spool_;
};

TEST_F(SpoolTest, ManifestDescribesFile) {
  EXPECT_EQ(spool_.fragment_count(), 4u);
  EXPECT_EQ(spool_.total_size, plaintext_.size());
  EXPECT_EQ(spool_.fragment_size, kFragment);
  EXPECT_EQ(spool_.plaintext_sha256, crypto::sha256(plaintext_));
  // Each sealed fragment is its plaintext plus the nonce and tag.
  EXPECT_EQ(sealed(0).size(), kFragment + crypto::kFragmentOverhead);
  EXPECT_EQ(sealed(3).size(), 1234 + crypto::kFragmentOverhead);

  std::vector<Bytes> fragments;
  for (uint64_t i = 0; i < 4; ++i) fragments.push_back(sealed(i));
  EXPECT_EQ(spool_.fragments_root, crypto::merkle_root(fragments));

  v1::ModelManifest m = manifest();
  EXPECT_EQ(m.fragment_count(), 4u);
  EXPECT_EQ(m.cipher_suite(), crypto::kModelCipherSuite);
  EXPECT_EQ(m.fragments_root(), to_string(spool_.fragments_root));
}

TEST_F(SpoolTest, DecryptsBackByteForByte) {
  const v1::ModelManifest m = manifest();
  Bytes joined;
  for (uint64_t i = 0; i < spool_.fragment_count(); ++i) {
    Bytes fragment = sealed(i);
    Bytes plaintext;
    Status s = open_fetched_fragment(m, test_model_id(), i, fragment,
                                     crypto::merkle_inclusion_proof(spool_.leaf_hashes, i), content_key_, &plaintext);
    ASSERT_TRUE(s.is_ok()) << s.message();
    joined.insert(joined.end(), plaintext.begin(), plaintext.end());
  }
  EXPECT_EQ(joined, plaintext_);
}

TEST_F(SpoolTest, LoadsBackFromDisk) {
  ModelSpool loaded;
  Status s = load_spool(spool_.dir, &loaded);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(loaded.model_id, test_model_id());
  EXPECT_EQ(loaded.fragments_root, spool_.fragments_root);
  EXPECT_EQ(loaded.plaintext_sha256, spool_.plaintext_sha256);
  EXPECT_EQ(loaded.offsets, spool_.offsets);
  EXPECT_EQ(loaded.leaf_hashes, spool_.leaf_hashes);
}

TEST_F(SpoolTest, FlippedByteFailsProof) {
  Bytes fragment = sealed(2);
  fragment[100] ^= 0x01;
  Bytes plaintext;
  Status s = open_fetched_fragment(manifest(), test_model_id(), 2, fragment,
                                   crypto::merkle_inclusion_proof(spool_.leaf_hashes, 2), content_key_, &plaintext);
  EXPECT_EQ(s.kind(), Status::Kind::kCorruption);
  EXPECT_NE(s.message().find("fragment 2 of model"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("Merkle proof"), std::string::npos) << s.message();
}

TEST_F(SpoolTest, ProofOfOtherIndexFails) {
  Bytes plaintext;
  Status s = open_fetched_fragment(manifest(), test_model_id(), 1, sealed(1),
                                   crypto::merkle_inclusion_proof(spool_.leaf_hashes, 0), content_key_, &plaintext);
  EXPECT_EQ(s.kind(), Status::Kind::kCorruption);
  EXPECT_NE(s.message().find("fragment 1 of model"), std::string::npos) << s.message();
}

TEST_F(SpoolTest, WrongKeyFailsTag) {
  Bytes wrong_key = pseudo_random_bytes(32, 9);
  Bytes plaintext;
  Status s = open_fetched_fragment(manifest(), test_model_id(), 3, sealed(3),
                                   crypto::merkle_inclusion_proof(spool_.leaf_hashes, 3), wrong_key, &plaintext);
  EXPECT_EQ(s.kind(), Status::Kind::kCorruption);
  EXPECT_NE(s.message().find("fragment 3 of model"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("tag"), std::string::npos) << s.message();
}

TEST_F(SpoolTest, DamagedSpoolRejected) {
  // A truncated data file no longer matches the offsets in the index.
  std::filesystem::resize_file(spool_.dir + "/fragments.bin", spool_.offsets.back() - 1);
  ModelSpool loaded;
  Status s = load_spool(spool_.dir, &loaded);
  EXPECT_EQ(s.kind(), Status::Kind::kCorruption);
  EXPECT_NE(s.message().find("fragments.bin"), std::string::npos) << s.message();
}

TEST_F(SpoolTest, FlippedSpoolByteRejected) {
  {
    std::fstream file(spool_.dir + "/fragments.bin", std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(spool_.offsets[1] + 5));
    file.put('\x5a');
  }
  Bytes out;
  Status s = read_spool_fragment(spool_, 1, &out);
  EXPECT_EQ(s.kind(), Status::Kind::kCorruption);
  EXPECT_NE(s.message().find("fragment 1"), std::string::npos) << s.message();
}

TEST(ModelSpool, MissingSpoolIsNotFound) {
  TempDir dir;
  ModelSpool spool;
  EXPECT_TRUE(load_spool(dir.path() + "/none", &spool).is_not_found());
}

TEST(ModelSpool, DirBesideKeyring) {
  Hash32 id = test_model_id();
  EXPECT_EQ(spool_dir_for("/home/u/.automata/keyring", id), "/home/u/.automata/uploads/" + to_hex(id));
  EXPECT_EQ(spool_dir_for("/home/u/.automata/keyring/", id), "/home/u/.automata/uploads/" + to_hex(id));
}

TEST(FragmentPlan, Bounds) {
  EXPECT_TRUE(check_fragment_plan(1, kMinFragmentSize).is_ok());
  EXPECT_TRUE(check_fragment_plan(kMaxFragmentSize * 3, kMaxFragmentSize).is_ok());

  Status small = check_fragment_plan(100, kMinFragmentSize - 1);
  EXPECT_EQ(small.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(small.message().find("65535"), std::string::npos) << small.message();

  Status large = check_fragment_plan(100, kMaxFragmentSize + 1);
  EXPECT_NE(large.message().find("2097153"), std::string::npos) << large.message();

  Status empty = check_fragment_plan(0, kMinFragmentSize);
  EXPECT_NE(empty.message().find("empty"), std::string::npos) << empty.message();

  Status too_many = check_fragment_plan(kMaxFragmentCount * kMinFragmentSize + 1, kMinFragmentSize);
  EXPECT_EQ(too_many.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(too_many.message().find("1048577 fragments"), std::string::npos) << too_many.message();
}

TEST(ModelSpool, EmptyFileRejected) {
  TempDir dir;
  std::string path = write_file(dir.path(), "empty.bin", {});
  ModelSpool spool;
  Status s = encrypt_to_spool(path, test_model_id(), Bytes(32, 1), kFragment, dir.path() + "/spool", &spool);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("empty"), std::string::npos) << s.message();
}

// A model_get result for a model owned by owner_key, with an envelope for
// each of the keys, built the way the node encodes it.
json model_get_json(const Hash32& id, const crypto::PrivateKey& owner_key,
                    const std::vector<const crypto::PrivateKey*>& envelope_keys, ByteView content_key,
                    const ModelSpool* spool, json leases = json::array()) {
  json envelopes = json::array();
  for (const crypto::PrivateKey* key : envelope_keys) {
    v1::KeyEnvelope envelope;
    EXPECT_TRUE(wrap_content_key(key->public_key(), content_key, id, &envelope).is_ok());
    envelopes.push_back({{"recipient", crypto::encode_address(*to_array<20>(as_view(envelope.recipient())))},
                         {"ephemeral_pubkey", to_hex(as_view(envelope.ephemeral_pubkey()))},
                         {"sealed_key", to_hex(as_view(envelope.sealed_key()))}});
  }
  std::string owner = crypto::encode_address(crypto::address_of(owner_key.public_key()));
  json manifest = {{"fragment_size", kFragment},        {"fragment_count", 1},
                   {"total_size", 10},                   {"fragments_root", to_hex(Hash32{})},
                   {"plaintext_sha256", to_hex(Hash32{})}, {"cipher_suite", crypto::kModelCipherSuite}};
  if (spool != nullptr) {
    manifest = {{"fragment_size", spool->fragment_size},
                {"fragment_count", spool->fragment_count()},
                {"total_size", std::to_string(spool->total_size)},
                {"fragments_root", to_hex(spool->fragments_root)},
                {"plaintext_sha256", to_hex(spool->plaintext_sha256)},
                {"cipher_suite", crypto::kModelCipherSuite}};
  }
  return {{"id", to_hex(id)},
          {"type", "model.nft"},
          {"owner", owner},
          {"creator", owner},
          {"name", "test model"},
          {"format", "onnx"},
          {"metadata",
           {{"parameter_count", 42},
            {"tensor_count", 3},
            {"ir_version", 7},
            {"opsets", {{{"domain", ""}, {"version", 13}}}},
            {"inputs", {{{"name", "x"}, {"elem_type", "float"}, {"dims", {"1", "N"}}}}}}},
          {"license", "MIT"},
          {"base_models", json::array()},
          {"royalty_bps", 250},
          {"flags", {{"transferable", true}, {"burnable", false}, {"mutable", true}}},
          {"manifest", manifest},
          {"envelopes", envelopes},
          {"leases", leases},
          {"epoch", 0},
          {"available", false},
          {"key_pending_from", nullptr},
          {"version", 1},
          {"created_height", 5},
          {"updated_height", 5}};
}

TEST(ModelRecord, ParsesModelGet) {
  crypto::PrivateKey owner = crypto::PrivateKey::generate();
  Bytes key = pseudo_random_bytes(32, 1);
  ModelRecord record;
  Status s = parse_model_record(model_get_json(test_model_id(), owner, {&owner}, key, nullptr), &record);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(record.id, test_model_id());
  EXPECT_EQ(record.owner, crypto::address_of(owner.public_key()));
  EXPECT_EQ(record.nft().name(), "test model");
  EXPECT_EQ(record.nft().metadata().parameter_count(), 42u);
  ASSERT_EQ(record.nft().metadata().opsets_size(), 1);
  EXPECT_EQ(record.nft().metadata().opsets(0).version(), 13);
  ASSERT_EQ(record.nft().metadata().inputs_size(), 1);
  EXPECT_EQ(record.nft().metadata().inputs(0).dims(1), "N");
  EXPECT_EQ(record.nft().royalty_bps(), 250u);
  EXPECT_TRUE(record.nft().flags().mutable_());
  EXPECT_FALSE(record.nft().flags().burnable());
  EXPECT_EQ(record.nft().manifest().fragment_size(), kFragment);
  EXPECT_EQ(record.nft().envelopes_size(), 1);
  EXPECT_EQ(record.created_height, 5u);
}

TEST(ModelRecord, BadFieldNamed) {
  crypto::PrivateKey owner = crypto::PrivateKey::generate();
  json result = model_get_json(test_model_id(), owner, {}, Bytes(32, 1), nullptr);
  result["manifest"]["fragments_root"] = "abcd";
  ModelRecord record;
  Status s = parse_model_record(result, &record);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("fragments_root"), std::string::npos) << s.message();

  result = model_get_json(test_model_id(), owner, {}, Bytes(32, 1), nullptr);
  result["owner"] = "not-an-address";
  s = parse_model_record(result, &record);
  EXPECT_NE(s.message().find("'owner'"), std::string::npos) << s.message();
}

TEST(ModelEnvelope, OwnerOpensContentKey) {
  crypto::PrivateKey owner = crypto::PrivateKey::generate();
  Bytes key = pseudo_random_bytes(32, 2);
  ModelRecord record;
  ASSERT_TRUE(parse_model_record(model_get_json(test_model_id(), owner, {&owner}, key, nullptr), &record).is_ok());
  Bytes opened;
  Status s = open_content_key(record, owner, 10, &opened);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(opened, key);
}

TEST(ModelEnvelope, StrangerHasNoKey) {
  crypto::PrivateKey owner = crypto::PrivateKey::generate();
  crypto::PrivateKey stranger = crypto::PrivateKey::generate();
  ModelRecord record;
  ASSERT_TRUE(
      parse_model_record(model_get_json(test_model_id(), owner, {&owner}, Bytes(32, 3), nullptr), &record).is_ok());
  Bytes opened;
  Status s = open_content_key(record, stranger, 10, &opened);
  EXPECT_TRUE(s.is_not_found());
  std::string expected = "no key for this model: " +
                         crypto::encode_address(crypto::address_of(stranger.public_key())) +
                         " holds no key envelope for model " + to_hex(test_model_id());
  EXPECT_EQ(s.message(), expected);
}

TEST(ModelEnvelope, ExpiredLeaseHasNoKey) {
  crypto::PrivateKey owner = crypto::PrivateKey::generate();
  crypto::PrivateKey lessee = crypto::PrivateKey::generate();
  json leases = {{{"grantee", crypto::encode_address(crypto::address_of(lessee.public_key()))},
                  {"expiry_height", 20}}};
  ModelRecord record;
  ASSERT_TRUE(parse_model_record(model_get_json(test_model_id(), owner, {&owner, &lessee}, Bytes(32, 4), nullptr,
                                                leases),
                                 &record)
                  .is_ok());
  Bytes opened;
  // Height 20 is the last height of the lease.
  ASSERT_TRUE(open_content_key(record, lessee, 20, &opened).is_ok());
  EXPECT_EQ(opened, Bytes(32, 4));
  Status s = open_content_key(record, lessee, 21, &opened);
  EXPECT_TRUE(s.is_not_found());
  EXPECT_NE(s.message().find("expired at height 20"), std::string::npos) << s.message();
}

TEST(ModelEnvelope, EnvelopeWithoutLeaseHasNoKey) {
  // model_get omits an expired lease, but its envelope stays until the
  // model's next write.
  crypto::PrivateKey owner = crypto::PrivateKey::generate();
  crypto::PrivateKey former = crypto::PrivateKey::generate();
  ModelRecord record;
  ASSERT_TRUE(parse_model_record(model_get_json(test_model_id(), owner, {&owner, &former}, Bytes(32, 6), nullptr),
                                 &record)
                  .is_ok());
  Bytes opened;
  Status s = open_content_key(record, former, 10, &opened);
  EXPECT_TRUE(s.is_not_found());
  std::string expected = "no key for this model: " + crypto::encode_address(crypto::address_of(former.public_key())) +
                         " is not the owner of model " + to_hex(test_model_id()) + " and holds no active lease on it";
  EXPECT_EQ(s.message(), expected);
}

TEST(ModelEnvelope, PendingSellerOpensDespiteExpiredLease) {
  crypto::PrivateKey buyer = crypto::PrivateKey::generate();
  crypto::PrivateKey seller = crypto::PrivateKey::generate();
  std::string seller_text = crypto::encode_address(crypto::address_of(seller.public_key()));
  json leases = {{{"grantee", seller_text}, {"expiry_height", 20}}};
  json result = model_get_json(test_model_id(), buyer, {&seller}, Bytes(32, 5), nullptr, leases);
  result["key_pending_from"] = seller_text;
  ModelRecord record;
  ASSERT_TRUE(parse_model_record(result, &record).is_ok());

  Bytes opened;
  Status s = open_content_key(record, seller, 30, &opened);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(opened, Bytes(32, 5));

  // The buyer has no envelope yet, and the message names the seller.
  s = open_content_key(record, buyer, 30, &opened);
  EXPECT_TRUE(s.is_not_found());
  EXPECT_NE(s.message().find("the seller " + seller_text + " has not delivered it yet"), std::string::npos)
      << s.message();
}

TEST(ModelEnvelope, WrapRejectsPointOffCurve) {
  // x = 2^256 - 1 is above the field prime, so it is no point's x.
  crypto::PublicKey bad{};
  bad.fill(0xff);
  v1::KeyEnvelope envelope;
  Status s = wrap_content_key(bad, Bytes(32, 5), test_model_id(), &envelope);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find(to_hex(bad)), std::string::npos) << s.message();
}

// Context pointed at a fake node.
struct FakeNodeContext {
  explicit FakeNodeContext(const std::string& url) {
    ctx.node_url = url;
    ctx.out = &out;
    ctx.err = &err;
  }
  Context ctx;
  std::ostringstream out;
  std::ostringstream err;
};

std::string rpc_result(const std::string& body, const json& result) {
  json request = json::parse(body);
  return json{{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", result}}.dump();
}

std::string rpc_error(const std::string& body, int code, const std::string& message) {
  json request = json::parse(body);
  return json{{"jsonrpc", "2.0"}, {"id", request["id"]}, {"error", {{"code", code}, {"message", message}}}}.dump();
}

TEST(RecipientPubkey, AccountWithoutKey) {
  crypto::PrivateKey recipient = crypto::PrivateKey::generate();
  const Address address = crypto::address_of(recipient.public_key());
  FakeHttpServer server([&](const std::string&, const std::string&, const std::string& body) {
    return FakeResponse{200, rpc_result(body, {{"address", crypto::encode_address(address)},
                                               {"nonce", 0},
                                               {"pubkey", ""},
                                               {"balances", json::array()}})};
  });
  FakeNodeContext node(server.url());
  crypto::PublicKey pubkey{};
  Status s = recipient_pubkey(node.ctx, address, "", &pubkey);
  EXPECT_TRUE(s.is_not_found());
  EXPECT_EQ(s.message(), "recipient " + crypto::encode_address(address) +
                             " has no public key on chain yet; it must send a transaction first, or pass "
                             "--to-pubkey HEX");

  // The key given by hand is used once it matches the address.
  s = recipient_pubkey(node.ctx, address, to_hex(recipient.public_key()), &pubkey);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(pubkey, recipient.public_key());

  crypto::PrivateKey other = crypto::PrivateKey::generate();
  s = recipient_pubkey(node.ctx, address, to_hex(other.public_key()), &pubkey);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("not of " + crypto::encode_address(address)), std::string::npos) << s.message();
}

TEST(RecipientPubkey, ReadsAccountKey) {
  crypto::PrivateKey recipient = crypto::PrivateKey::generate();
  const Address address = crypto::address_of(recipient.public_key());
  FakeHttpServer server([&](const std::string&, const std::string&, const std::string& body) {
    return FakeResponse{200, rpc_result(body, {{"nonce", 3}, {"pubkey", to_hex(recipient.public_key())}})};
  });
  FakeNodeContext node(server.url());
  crypto::PublicKey pubkey{};
  ASSERT_TRUE(recipient_pubkey(node.ctx, address, "", &pubkey).is_ok());
  EXPECT_EQ(pubkey, recipient.public_key());
}

// A node that serves model_fragment from a spool, flipping one byte of
// fragment flip_index when it is set.
class FetchTest : public SpoolTest {
 protected:
  FakeResponse serve(const std::string& body) {
    json request = json::parse(body);
    if (request["method"] != "model_fragment") return {200, rpc_error(body, -32601, "method not found")};
    uint64_t index = request["params"]["index"].get<uint64_t>();
    if (index >= spool_.fragment_count()) return {200, rpc_error(body, -32001, "no such fragment")};
    Bytes data;
    EXPECT_TRUE(read_spool_fragment(spool_, index, &data).is_ok());
    if (flip_index && *flip_index == index) data[data.size() / 2] ^= 0x80;
    json proof = json::array();
    for (const Hash32& node : crypto::merkle_inclusion_proof(spool_.leaf_hashes, index)) proof.push_back(to_hex(node));
    return {200, rpc_result(body, {{"id", to_hex(spool_.model_id)},
                                   {"index", index},
                                   {"data", base64(data)},
                                   {"proof", proof},
                                   {"root", to_hex(spool_.fragments_root)},
                                   {"count", spool_.fragment_count()}})};
  }

  ModelRecord record() {
    crypto::PrivateKey owner = crypto::PrivateKey::generate();
    ModelRecord out;
    EXPECT_TRUE(parse_model_record(model_get_json(test_model_id(), owner, {&owner}, content_key_, &spool_), &out)
                    .is_ok());
    return out;
  }

  std::optional<uint64_t> flip_index;
};

TEST_F(FetchTest, WritesFileByteForByte) {
  FakeHttpServer server([this](const std::string&, const std::string&, const std::string& body) { return serve(body); });
  FakeNodeContext node(server.url());
  const std::string out_path = dir_.path() + "/fetched.bin";
  Status s = fetch_content(node.ctx, record(), content_key_, out_path, nullptr);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(read_file(out_path), plaintext_);
}

TEST_F(FetchTest, TamperedFragmentRemovesOutput) {
  flip_index = 2;
  FakeHttpServer server([this](const std::string&, const std::string&, const std::string& body) { return serve(body); });
  FakeNodeContext node(server.url());
  const std::string out_path = dir_.path() + "/fetched.bin";
  Status s = fetch_content(node.ctx, record(), content_key_, out_path, nullptr);
  EXPECT_EQ(s.kind(), Status::Kind::kCorruption);
  EXPECT_NE(s.message().find("fragment 2 of model " + to_hex(test_model_id())), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(out_path));
}

TEST_F(FetchTest, WrongPlaintextHashRejected) {
  FakeHttpServer server([this](const std::string&, const std::string&, const std::string& body) { return serve(body); });
  FakeNodeContext node(server.url());
  ModelRecord model = record();
  model.nft().mutable_manifest()->set_plaintext_sha256(to_string(Hash32{}));
  const std::string out_path = dir_.path() + "/fetched.bin";
  Status s = fetch_content(node.ctx, model, content_key_, out_path, nullptr);
  EXPECT_EQ(s.kind(), Status::Kind::kCorruption);
  EXPECT_NE(s.message().find("plaintext_sha256"), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(out_path));
}

}  // namespace
}  // namespace automata::cli
