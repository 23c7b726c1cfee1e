// The `automata model` ownership commands run in-process against a fake
// node on 127.0.0.1 that serves a model record built by each test, with a
// content key sealed to the owner by real ECIES.
#include "automata/cli/app.h"

#include "automata/crypto/aead.h"
#include "automata/crypto/bech32.h"
#include "automata/crypto/ecies.h"
#include "automata/crypto/keyring.h"
#include "automata/crypto/merkle.h"
#include "automata/crypto/model_content.h"
#include "automata/crypto/sha256.h"
#include "automata/v1/tx.pb.h"
#include "fake_http_server.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace automata::cli {
namespace {

using nlohmann::json;
using testing::FakeHttpServer;
using testing::FakeResponse;
using testing::TempDir;

constexpr uint64_t kHeight = 10;
constexpr uint64_t kFragmentSize = 64 * 1024;

bool decode_base64(const std::string& text, std::string* out) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out->clear();
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    size_t value = kAlphabet.find(c);
    if (value == std::string::npos) return false;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return true;
}

json envelope_json(const Address& recipient, const crypto::PublicKey& pubkey, ByteView content_key,
                   const Hash32& model_id) {
  crypto::SealedKey sealed = crypto::ecies_seal(pubkey, content_key, ByteView(model_id));
  return {{"recipient", crypto::encode_address(recipient)},
          {"ephemeral_pubkey", to_hex(ByteView(sealed.ephemeral_pubkey))},
          {"sealed_key", to_hex(sealed.sealed)}};
}

// A node that serves model_get from per-height records, public keys of
// the accounts it was given, records every submitted tx body and every
// uploaded fragment, and commits each tx at once with code 0.
constexpr const char* kNotServed = R"({"jsonrpc":"2.0","error":{"code":-32600,"message":"not served"},"id":null})";

class FakeModelNode {
 public:
  FakeModelNode()
      : server_([this](const std::string&, const std::string& target, const std::string& body) {
          // Like a node before POST /v1/txs, so the CLI sends txs with tx_submit.
          if (target == "/v1/txs") return FakeResponse{404, kNotServed};
          return handle(body);
        }) {}

  std::string url() const { return server_.url(); }

  void set_pubkey(const Address& address, const crypto::PublicKey& pubkey) {
    std::lock_guard<std::mutex> lock(mutex_);
    pubkeys_[crypto::encode_address(address)] = to_hex(ByteView(pubkey));
  }
  // The record model_get returns at heights >= height, until the next one.
  void set_model(uint64_t height, json record) {
    std::lock_guard<std::mutex> lock(mutex_);
    models_[height] = std::move(record);
  }
  void set_created(json created) {
    std::lock_guard<std::mutex> lock(mutex_);
    created_ = std::move(created);
  }
  // The record offer_get returns for id.
  void set_offer(const std::string& id, json record) {
    std::lock_guard<std::mutex> lock(mutex_);
    offers_[id] = std::move(record);
  }

  std::vector<v1::TxBody> bodies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }
  std::map<uint64_t, std::string> fragments() {
    std::lock_guard<std::mutex> lock(mutex_);
    return fragments_;
  }

 private:
  FakeResponse handle(const std::string& body) {
    json request = json::parse(body);
    std::string method = request["method"];
    const json& params = request["params"];
    json reply = {{"jsonrpc", "2.0"}, {"id", request["id"]}};
    std::lock_guard<std::mutex> lock(mutex_);
    if (method == "node_status") {
      reply["result"] = {{"chain_id", "automata-test"}, {"height", kHeight}, {"min_gas_price", 1}};
    } else if (method == "account_get") {
      json account = {{"nonce", 5}, {"balances", json::array()}};
      auto it = pubkeys_.find(params.value("address", ""));
      if (it != pubkeys_.end()) account["pubkey"] = it->second;
      reply["result"] = account;
    } else if (method == "model_get") {
      uint64_t height = params.value("height", kHeight);
      auto it = models_.upper_bound(height);
      if (it == models_.begin()) {
        reply["error"] = {{"code", -32001}, {"message", "model not found"}};
      } else {
        reply["result"] = std::prev(it)->second;
      }
    } else if (method == "tx_submit") {
      auto bytes = from_hex(params["tx"].get<std::string>());
      v1::Tx tx;
      tx.ParseFromArray(bytes->data(), static_cast<int>(bytes->size()));
      v1::TxBody tx_body;
      tx_body.ParseFromString(tx.body_bytes());
      bodies_.push_back(tx_body);
      reply["result"] = {{"hash", to_hex(crypto::sha256(as_view(tx.body_bytes())))}, {"status", "pending"}};
    } else if (method == "tx_get") {
      reply["result"] = {{"status", "committed"}, {"height", kHeight + 1}, {"code", 0}, {"name", "ok"},
                         {"hash", params["hash"]}, {"created", created_}};
    } else if (method == "offer_get") {
      auto it = offers_.find(params.value("id", ""));
      if (it == offers_.end()) {
        reply["error"] = {{"code", -32001}, {"message", "offer not found"}};
      } else {
        reply["result"] = it->second;
      }
    } else if (method == "model_fragments_held") {
      json held = json::array();
      for (const auto& [index, data] : fragments_) held.push_back(index);
      reply["result"] = {{"id", params["id"]}, {"count", held.size()}, {"held", held}};
    } else if (method == "model_fragment_put") {
      std::string data;
      decode_base64(params["data"].get<std::string>(), &data);
      uint64_t index = params["index"].get<uint64_t>();
      bool stored = fragments_.emplace(index, data).second;
      reply["result"] = {{"index", index}, {"stored", stored}};
    } else {
      reply["error"] = {{"code", -32601}, {"message", "method not found: " + method}};
    }
    // The upload opens several connections at once. Closing each after one
    // response lets this one-connection-at-a-time server serve them all.
    return FakeResponse{200, reply.dump(), /*close=*/true};
  }

  std::mutex mutex_;
  std::map<std::string, std::string> pubkeys_;  // guarded by mutex_
  std::map<uint64_t, json> models_;             // guarded by mutex_
  std::map<std::string, json> offers_;          // guarded by mutex_
  json created_ = json::array();                // guarded by mutex_
  std::vector<v1::TxBody> bodies_;              // guarded by mutex_
  std::map<uint64_t, std::string> fragments_;   // guarded by mutex_
  FakeHttpServer server_;
};

struct RunResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

class ModelOwnCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::Keyring keyring(keyring_dir(), crypto::ScryptParams{1024, 8, 1});
    for (const char* name : {"dev", "bob", "carol"}) {
      crypto::PrivateKey key = crypto::PrivateKey::generate();
      ASSERT_TRUE(keyring.add(name, key, "", false).is_ok());
      keys_.emplace(name, key);
    }
    content_key_ = crypto::random_bytes(32);
    for (size_t i = 0; i < model_id_.size(); ++i) model_id_[i] = static_cast<uint8_t>(0xa0 + i);
  }

  RunResult run(std::vector<std::string> args) {
    std::vector<std::string> argv = {"automata", "--node", node_.url(), "--keyring-dir", keyring_dir()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<const char*> cargs;
    for (const auto& a : argv) cargs.push_back(a.c_str());
    std::ostringstream out;
    std::ostringstream err;
    RunResult result;
    result.exit_code = run_cli(static_cast<int>(cargs.size()), cargs.data(), out, err);
    result.out = out.str();
    result.err = err.str();
    return result;
  }

  std::string keyring_dir() const { return temp_.path() + "/keyring"; }
  const crypto::PrivateKey& key(const std::string& name) const { return keys_.at(name); }
  crypto::PublicKey pubkey(const std::string& name) const { return key(name).public_key(); }
  Address address(const std::string& name) const { return crypto::address_of(pubkey(name)); }
  std::string atm(const std::string& name) const { return crypto::encode_address(address(name)); }
  std::string id_hex() const { return to_hex(ByteView(model_id_)); }

  // A model_get record owned by owner, with the content key sealed to
  // the given holders, for a plaintext of total_size bytes with SHA-256
  // plaintext_sha256.
  json model_record(const std::string& owner, const std::vector<std::string>& holders, uint64_t total_size = 1000,
                    const Hash32& plaintext_sha256 = Hash32{}) {
    json envelopes = json::array();
    for (const auto& holder : holders) {
      envelopes.push_back(envelope_json(address(holder), pubkey(holder), content_key_, model_id_));
    }
    return {{"id", id_hex()},
            {"type", "model.nft"},
            {"owner", atm(owner)},
            {"creator", atm("dev")},
            {"name", "tiny"},
            {"format", "other"},
            {"flags", {{"transferable", true}, {"burnable", true}, {"mutable", false}}},
            {"manifest",
             {{"fragment_size", kFragmentSize},
              {"fragment_count", (total_size + kFragmentSize - 1) / kFragmentSize},
              {"total_size", total_size},
              {"fragments_root", std::string(64, '1')},
              {"plaintext_sha256", to_hex(ByteView(plaintext_sha256))},
              {"cipher_suite", std::string(crypto::kModelCipherSuite)}}},
            {"envelopes", envelopes},
            {"leases", json::array()},
            {"epoch", 0},
            {"available", true},
            {"key_pending_from", nullptr},
            {"version", 1},
            {"created_height", 2},
            {"updated_height", 2}};
  }

  // The content key an envelope opens to with the named key.
  Bytes open(const v1::KeyEnvelope& envelope, const std::string& name) const {
    auto opened = crypto::ecies_open(key(name), as_view(envelope.ephemeral_pubkey()), as_view(envelope.sealed_key()),
                                     ByteView(model_id_));
    return opened ? *opened : Bytes{};
  }

  std::string write_file(const std::string& name, const std::string& contents) {
    std::string path = temp_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  TempDir temp_;
  FakeModelNode node_;
  std::map<std::string, crypto::PrivateKey> keys_;
  Bytes content_key_;
  Hash32 model_id_{};
};

TEST_F(ModelOwnCommandsTest, TransferWrapsKeyToNewOwner) {
  node_.set_model(1, model_record("dev", {"dev"}));
  node_.set_pubkey(address("bob"), pubkey("bob"));

  RunResult result = run({"model", "transfer", id_hex(), "bob", "--from", "dev", "--wait"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

  std::vector<v1::TxBody> bodies = node_.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  ASSERT_EQ(bodies[0].ops_size(), 1);
  ASSERT_TRUE(bodies[0].ops(0).has_model_transfer());
  const v1::ModelTransfer& transfer = bodies[0].ops(0).model_transfer();
  EXPECT_EQ(transfer.model_id(), to_string(ByteView(model_id_)));
  EXPECT_EQ(transfer.to(), to_string(ByteView(address("bob"))));
  EXPECT_EQ(transfer.new_owner_envelope().recipient(), to_string(ByteView(address("bob"))));
  EXPECT_EQ(open(transfer.new_owner_envelope(), "bob"), content_key_) << "bob's envelope opens to the content key";
  EXPECT_TRUE(open(transfer.new_owner_envelope(), "dev").empty()) << "only bob's key opens bob's envelope";
  EXPECT_FALSE(transfer.has_rekey());
}

TEST_F(ModelOwnCommandsTest, TransferWithoutEnvelopeIsRejected) {
  node_.set_model(1, model_record("dev", {"dev"}));
  node_.set_pubkey(address("bob"), pubkey("bob"));

  RunResult result = run({"model", "transfer", id_hex(), "bob", "--from", "carol"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("no key for this model: " + atm("carol")), std::string::npos) << result.err;
  EXPECT_TRUE(node_.bodies().empty());
}

TEST_F(ModelOwnCommandsTest, RecipientPublicKeyErrors) {
  node_.set_model(1, model_record("dev", {"dev"}));

  RunResult unknown = run({"model", "transfer", id_hex(), "bob", "--from", "dev"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("has no public key on chain yet"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("--to-pubkey"), std::string::npos) << unknown.err;

  std::string carol_pubkey = to_hex(ByteView(pubkey("carol")));
  RunResult wrong = run({"model", "transfer", id_hex(), "bob", "--to-pubkey", carol_pubkey, "--from", "dev"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find(atm("bob")), std::string::npos) << "names the recipient: " << wrong.err;

  RunResult given = run({"model", "transfer", id_hex(), "bob", "--to-pubkey", to_hex(ByteView(pubkey("bob"))),
                         "--from", "dev"});
  ASSERT_EQ(given.exit_code, 0) << given.out << given.err;
  ASSERT_EQ(node_.bodies().size(), 1u);
  EXPECT_EQ(open(node_.bodies()[0].ops(0).model_transfer().new_owner_envelope(), "bob"), content_key_);
}

TEST_F(ModelOwnCommandsTest, LeaseWrapsKeyToGrantee) {
  node_.set_model(1, model_record("dev", {"dev"}));
  node_.set_pubkey(address("carol"), pubkey("carol"));

  RunResult result = run({"model", "lease", id_hex(), "carol", "--until", "40", "--from", "dev"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  std::vector<v1::TxBody> bodies = node_.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  ASSERT_TRUE(bodies[0].ops(0).has_model_lease());
  const v1::ModelLease& lease = bodies[0].ops(0).model_lease();
  EXPECT_EQ(lease.grantee(), to_string(ByteView(address("carol"))));
  EXPECT_EQ(lease.expiry_height(), 40u);
  EXPECT_EQ(open(lease.envelope(), "carol"), content_key_);
}

TEST_F(ModelOwnCommandsTest, DeliverOpensSellerEnvelope) {
  // Bob bought the model from dev; dev keeps its envelope until it
  // delivers. The node serves no earlier record, so deliver must work from
  // the current one.
  json sold = model_record("bob", {"dev"});
  sold["key_pending_from"] = atm("dev");
  sold["updated_height"] = 8;
  node_.set_model(8, sold);
  node_.set_pubkey(address("bob"), pubkey("bob"));

  RunResult wrong = run({"model", "deliver", id_hex(), "--from", "carol"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("pending from the seller " + atm("dev")), std::string::npos) << wrong.err;

  RunResult result = run({"model", "deliver", id_hex(), "--from", "dev"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  std::vector<v1::TxBody> bodies = node_.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  ASSERT_TRUE(bodies[0].ops(0).has_model_deliver_key());
  const v1::KeyEnvelope& envelope = bodies[0].ops(0).model_deliver_key().envelope();
  EXPECT_EQ(envelope.recipient(), to_string(ByteView(address("bob"))));
  EXPECT_EQ(open(envelope, "bob"), content_key_);
}

TEST_F(ModelOwnCommandsTest, DeliverWithoutSellerEnvelopeIsRejected) {
  json sold = model_record("bob", {});
  sold["key_pending_from"] = atm("dev");
  node_.set_model(1, sold);
  node_.set_pubkey(address("bob"), pubkey("bob"));
  RunResult result = run({"model", "deliver", id_hex(), "--from", "dev"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("no key for this model: " + atm("dev")), std::string::npos) << result.err;
  EXPECT_TRUE(node_.bodies().empty());
}

TEST_F(ModelOwnCommandsTest, DeliverWithoutPendingKeyIsRejected) {
  node_.set_model(1, model_record("bob", {"bob"}));
  RunResult result = run({"model", "deliver", id_hex(), "--from", "dev"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("no key delivery is pending for model " + id_hex()), std::string::npos) << result.err;
  EXPECT_TRUE(node_.bodies().empty());
}

TEST_F(ModelOwnCommandsTest, OfferPrintsCreatedId) {
  std::string offer_id(64, 'e');
  node_.set_created(json::array({{{"op_index", 0}, {"kind", "offer"}, {"id", offer_id}}}));
  RunResult result =
      run({"model", "offer", id_hex(), "--price", "100atm", "--buyer", "bob", "--expiry", "30", "--from", "dev",
           "--wait"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("offer " + offer_id + "\n"), std::string::npos) << result.out;
  std::vector<v1::TxBody> bodies = node_.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  ASSERT_TRUE(bodies[0].ops(0).has_offer_create());
  const v1::OfferCreate& offer = bodies[0].ops(0).offer_create();
  EXPECT_EQ(offer.price().denom(), "atm");
  EXPECT_EQ(offer.price().amount(), "100");
  EXPECT_EQ(offer.buyer(), to_string(ByteView(address("bob"))));
  EXPECT_EQ(offer.expiry_height(), 30u);
}

TEST_F(ModelOwnCommandsTest, AcceptChecksReservedBuyer) {
  const std::string offer_id(64, 'c');
  node_.set_offer(offer_id, {{"id", offer_id}, {"buyer", atm("bob")}, {"seller", atm("dev")}});

  RunResult wrong = run({"model", "accept", offer_id, "--from", "dev"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("offer " + offer_id + " is reserved for " + atm("bob")), std::string::npos)
      << wrong.err;
  EXPECT_TRUE(node_.bodies().empty()) << "nothing is signed for the wrong buyer";

  RunResult right = run({"model", "accept", offer_id, "--from", "bob"});
  ASSERT_EQ(right.exit_code, 0) << right.out << right.err;
  std::vector<v1::TxBody> bodies = node_.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  ASSERT_TRUE(bodies[0].ops(0).has_offer_accept());
}

TEST_F(ModelOwnCommandsTest, BadArgumentsNameTheValue) {
  RunResult bad_id = run({"model", "burn", "xyz", "--from", "dev"});
  EXPECT_EQ(bad_id.exit_code, 1);
  EXPECT_NE(bad_id.err.find("invalid model id 'xyz'"), std::string::npos) << bad_id.err;

  RunResult bad_offer = run({"model", "accept", "12ab", "--from", "dev"});
  EXPECT_EQ(bad_offer.exit_code, 1);
  EXPECT_NE(bad_offer.err.find("invalid offer id '12ab'"), std::string::npos) << bad_offer.err;

  RunResult bad_price = run({"model", "offer", id_hex(), "--price", "100", "--from", "dev"});
  EXPECT_EQ(bad_price.exit_code, 1);
  EXPECT_NE(bad_price.err.find("100"), std::string::npos) << bad_price.err;

  std::string file = write_file("plain.bin", "abc");
  RunResult file_alone = run({"model", "transfer", id_hex(), "bob", "--file", file, "--from", "dev"});
  EXPECT_EQ(file_alone.exit_code, 1);
  EXPECT_NE(file_alone.err.find("--file is only used with --rekey"), std::string::npos) << file_alone.err;

  RunResult no_until = run({"model", "lease", id_hex(), "bob", "--from", "dev"});
  EXPECT_NE(no_until.exit_code, 0);
  EXPECT_NE(no_until.err.find("--until"), std::string::npos) << no_until.err;

  RunResult no_from = run({"model", "burn", id_hex()});
  EXPECT_NE(no_from.exit_code, 0);
  EXPECT_NE(no_from.err.find("--from"), std::string::npos) << no_from.err;

  EXPECT_TRUE(node_.bodies().empty());
}

TEST_F(ModelOwnCommandsTest, RekeyRejectsAnotherFile) {
  std::string registered(3000, 'r');
  node_.set_model(1, model_record("dev", {"dev"}, registered.size(), crypto::sha256(as_view(registered))));
  std::string other = write_file("other.bin", std::string(3000, 'x'));

  RunResult result = run({"model", "rekey", id_hex(), "--file", other, "--from", "dev"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("is not the content of model " + id_hex()), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(to_hex(crypto::sha256(as_view(registered)))), std::string::npos) << result.err;
  EXPECT_TRUE(node_.bodies().empty());
}

TEST_F(ModelOwnCommandsTest, TransferRekeyReencryptsForOwnerAndLessees) {
  // Two and a half fragments, so the last one is short.
  std::string plaintext;
  for (size_t i = 0; i < 2 * kFragmentSize + kFragmentSize / 2; ++i) plaintext.push_back(static_cast<char>(i * 7));
  Hash32 sha = crypto::sha256(as_view(plaintext));
  json record = model_record("dev", {"dev", "carol"}, plaintext.size(), sha);
  record["leases"] = json::array({{{"grantee", atm("carol")}, {"expiry_height", kHeight + 20}},
                                  {{"grantee", crypto::encode_address(Address{})}, {"expiry_height", kHeight}}});
  node_.set_model(1, record);
  node_.set_pubkey(address("bob"), pubkey("bob"));
  node_.set_pubkey(address("carol"), pubkey("carol"));
  std::string file = write_file("model.bin", plaintext);

  RunResult result = run({"model", "transfer", id_hex(), "bob", "--rekey", "--file", file, "--from", "dev"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

  std::vector<v1::TxBody> bodies = node_.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  const v1::ModelTransfer& transfer = bodies[0].ops(0).model_transfer();
  ASSERT_TRUE(transfer.has_rekey());
  const v1::ModelRekey& rekey = transfer.rekey();
  EXPECT_EQ(rekey.manifest().plaintext_sha256(), to_string(ByteView(sha)));
  EXPECT_EQ(rekey.manifest().total_size(), plaintext.size());
  EXPECT_EQ(rekey.manifest().fragment_count(), 3u);
  EXPECT_EQ(rekey.manifest().fragment_size(), kFragmentSize);
  Bytes new_key = open(rekey.owner_envelope(), "bob");
  ASSERT_EQ(new_key.size(), 32u);
  EXPECT_NE(new_key, content_key_) << "a re-key draws a fresh content key";
  EXPECT_EQ(open(transfer.new_owner_envelope(), "bob"), new_key);
  ASSERT_EQ(rekey.lease_envelopes_size(), 1) << "the lease that ended at the current height gets no envelope";
  EXPECT_EQ(open(rekey.lease_envelopes(0), "carol"), new_key);

  // The uploaded fragments match the new root and decrypt to the file.
  std::map<uint64_t, std::string> fragments = node_.fragments();
  ASSERT_EQ(fragments.size(), 3u);
  std::vector<Hash32> leaves;
  std::string decrypted;
  for (const auto& [index, sealed] : fragments) {
    leaves.push_back(crypto::merkle_leaf_hash(as_view(sealed)));
    auto opened = crypto::open_fragment(new_key, ByteView(model_id_), index, as_view(sealed));
    ASSERT_TRUE(opened.has_value()) << "fragment " << index;
    decrypted += to_string(*opened);
  }
  Hash32 root = crypto::merkle_root_from_leaves(leaves);
  EXPECT_EQ(rekey.manifest().fragments_root(), to_string(ByteView(root)));
  EXPECT_TRUE(decrypted == plaintext);
}

}  // namespace
}  // namespace automata::cli
