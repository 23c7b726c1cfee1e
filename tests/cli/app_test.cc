// The automata command line, run in-process against a fake node on
// 127.0.0.1 that serves canned JSON-RPC results.
#include "automata/cli/app.h"

#include "automata/crypto/bech32.h"
#include "automata/crypto/keyring.h"
#include "automata/v1/tx.pb.h"
#include "chain_fixture.h"
#include "fake_http_server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <optional>
#include <sstream>

namespace automata::cli {
namespace {

using nlohmann::json;
using testing::ChainFixture;
using testing::FakeHttpServer;
using testing::FakeResponse;
using testing::TempDir;

struct RunResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// Serves node_status, account_get, tx_submit, tx_get, state_proof and
// block_get, recording the submitted tx.
class FakeNode {
 public:
  FakeNode()
      : server_([this](const std::string&, const std::string&, const std::string& body) { return handle(body); }) {}

  std::string url() const { return server_.url(); }

  json status = {{"chain_id", "automata-test"}, {"height", 9}, {"min_gas_price", 2}};
  uint64_t account_nonce = 4;
  std::optional<uint64_t> pending_nonce;  // account_get's pending_nonce, when set
  json committed_result = {{"status", "committed"}, {"height", 10}, {"index", 0}, {"code", 0}, {"name", "ok"}};
  json submit_error;  // when set, tx_submit returns this error object
  std::function<json(const json& params)> state_proof;
  std::function<json(const json& params)> block_get;

  std::string submitted_tx_hex;

 private:
  FakeResponse handle(const std::string& body) {
    json request = json::parse(body);
    std::string method = request["method"];
    const json& params = request["params"];
    json reply = {{"jsonrpc", "2.0"}, {"id", request["id"]}};
    if (method == "node_status") {
      reply["result"] = status;
    } else if (method == "account_get") {
      reply["result"] = {{"address", params["address"]}, {"height", 9}, {"nonce", account_nonce},
                         {"pubkey", ""}, {"balances", json::array()}};
      if (pending_nonce) reply["result"]["pending_nonce"] = *pending_nonce;
    } else if (method == "tx_submit" && !submit_error.is_null()) {
      reply["error"] = submit_error;
    } else if (method == "tx_submit") {
      submitted_tx_hex = params["tx"];
      reply["result"] = {{"hash", std::string(64, 'a')}, {"status", "pending"}};
    } else if (method == "tx_get") {
      reply["result"] = committed_result;
      reply["result"]["hash"] = params["hash"];
    } else if (method == "state_proof" && state_proof) {
      reply["result"] = state_proof(params);
    } else if (method == "block_get" && block_get) {
      reply["result"] = block_get(params);
    } else {
      reply["error"] = {{"code", -32601}, {"message", "method not found: " + method}};
    }
    return FakeResponse{200, reply.dump()};
  }

  FakeHttpServer server_;
};

class AppTest : public ::testing::Test {
 protected:
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

  // Adds a key with the empty passphrase and cheap scrypt parameters.
  crypto::PrivateKey add_key(const std::string& name) {
    crypto::PrivateKey key = crypto::PrivateKey::generate();
    crypto::Keyring keyring(keyring_dir(), crypto::ScryptParams{1024, 8, 1});
    EXPECT_TRUE(keyring.add(name, key, "", false).is_ok());
    return key;
  }

  v1::TxBody submitted_body(v1::Tx* tx) {
    auto bytes = from_hex(node_.submitted_tx_hex);
    EXPECT_TRUE(bytes.has_value());
    EXPECT_TRUE(tx->ParseFromArray(bytes->data(), static_cast<int>(bytes->size())));
    v1::TxBody body;
    EXPECT_TRUE(body.ParseFromString(tx->body_bytes()));
    return body;
  }

  TempDir temp_;
  FakeNode node_;
};

TEST_F(AppTest, KeysAddShowList) {
  RunResult added = run({"keys", "add", "bob", "--no-passphrase"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  RunResult shown = run({"--output", "json", "keys", "show", "bob"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  json info = json::parse(shown.out);
  crypto::KeyInfo stored;
  ASSERT_TRUE(crypto::Keyring(keyring_dir()).info("bob", &stored).is_ok());
  EXPECT_EQ(info["address"], crypto::encode_address(stored.address));
  EXPECT_EQ(info["pubkey"], to_hex(stored.pubkey));

  RunResult listed = run({"keys", "list"});
  EXPECT_EQ(listed.out, "bob\t" + crypto::encode_address(stored.address) + "\n");

  RunResult again = run({"keys", "add", "bob", "--no-passphrase"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
}

TEST_F(AppTest, KeysImportExportRoundTrip) {
  crypto::PrivateKey key = crypto::PrivateKey::generate();
  std::string passphrase_file = temp_.path() + "/pass.txt";
  std::ofstream(passphrase_file) << "s3cret\n";
  RunResult imported = run({"--passphrase-file", passphrase_file, "keys", "import", "carol", to_hex(key.bytes())});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find(crypto::encode_address(crypto::address_of(key.public_key()))), std::string::npos);

  RunResult exported = run({"--passphrase-file", passphrase_file, "keys", "export", "carol"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(exported.out, to_hex(key.bytes()) + "\n");
  EXPECT_NE(exported.err.find("warning"), std::string::npos);

  std::ofstream(passphrase_file) << "wrong\n";
  RunResult wrong = run({"--passphrase-file", passphrase_file, "keys", "export", "carol"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("wrong passphrase for key carol"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.out, "");

  RunResult bad_hex = run({"--no-passphrase", "keys", "import", "dan", "1234"});
  EXPECT_EQ(bad_hex.exit_code, 1);
  EXPECT_NE(bad_hex.err.find("64 hex digits"), std::string::npos) << bad_hex.err;
}

TEST_F(AppTest, SendFillsDefaultsFromNode) {
  crypto::PrivateKey key = add_key("alice");
  crypto::PrivateKey bob = add_key("bob");
  RunResult sent = run({"tx", "send", "alice", "bob", "1000atm,5token/abc", "--memo", "hi"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_NE(sent.out.find("pending"), std::string::npos) << sent.out;

  v1::Tx tx;
  v1::TxBody body = submitted_body(&tx);
  EXPECT_EQ(body.chain_id(), "automata-test");
  EXPECT_EQ(body.nonce(), 4u);
  EXPECT_EQ(body.gas_limit(), 50000u);
  EXPECT_EQ(body.fee().denom(), "atm");
  EXPECT_EQ(body.fee().amount(), "100000");  // 50000 gas * min_gas_price 2
  EXPECT_EQ(body.memo(), "hi");
  ASSERT_EQ(body.ops_size(), 1);
  Address bob_address = crypto::address_of(bob.public_key());
  EXPECT_EQ(body.ops(0).transfer().to(), std::string(bob_address.begin(), bob_address.end()));
  ASSERT_EQ(body.ops(0).transfer().amount_size(), 2);
  EXPECT_EQ(body.ops(0).transfer().amount(1).denom(), "token/abc");
  crypto::PublicKey pubkey = key.public_key();
  EXPECT_EQ(body.signer(), std::string(pubkey.begin(), pubkey.end()));
  EXPECT_TRUE(crypto::verify(as_view(body.signer()), crypto::sha256(as_view(tx.body_bytes())),
                             as_view(tx.signature())));
}

TEST_F(AppTest, SendUsesPendingNonceWhenReported) {
  add_key("alice");
  node_.pending_nonce = 6;  // nonces 4 and 5 wait in the node's mempool
  RunResult sent = run({"tx", "send", "alice", crypto::encode_address(Address{}), "7atm"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  v1::Tx tx;
  EXPECT_EQ(submitted_body(&tx).nonce(), 6u);
}

TEST_F(AppTest, SendFlagsOverrideDefaults) {
  add_key("alice");
  std::string to = crypto::encode_address(Address{});
  RunResult sent = run({"tx", "send", "alice", to, "7atm", "--fee", "123", "--gas", "9000", "--nonce", "11",
                        "--expiry-height", "77", "--chain-id", "other-chain"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  v1::Tx tx;
  v1::TxBody body = submitted_body(&tx);
  EXPECT_EQ(body.chain_id(), "other-chain");
  EXPECT_EQ(body.nonce(), 11u);
  EXPECT_EQ(body.gas_limit(), 9000u);
  EXPECT_EQ(body.fee().amount(), "123");
  EXPECT_EQ(body.expiry_height(), 77u);
}

TEST_F(AppTest, MultiSendBuildsOneOp) {
  add_key("alice");
  std::string a = crypto::encode_address(Address{});
  RunResult sent = run({"tx", "multi-send", "alice", a + "=10atm", "alice=20atm"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  v1::Tx tx;
  v1::TxBody body = submitted_body(&tx);
  ASSERT_EQ(body.ops_size(), 1);
  ASSERT_EQ(body.ops(0).multi_send().outputs_size(), 2);
  EXPECT_EQ(body.ops(0).multi_send().outputs(1).amount(0).amount(), "20");

  RunResult bad = run({"tx", "multi-send", "alice", "no-equals-sign"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("expected TO=AMOUNT"), std::string::npos) << bad.err;
}

TEST_F(AppTest, WaitReportsCommitAndFailure) {
  add_key("alice");
  std::string to = crypto::encode_address(Address{});
  RunResult ok = run({"tx", "send", "alice", to, "1atm", "--wait"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("committed: height 10, code 0 (ok)"), std::string::npos) << ok.out;

  node_.committed_result["code"] = 301;
  node_.committed_result["name"] = "insufficient_funds";
  RunResult failed = run({"tx", "send", "alice", to, "1atm", "--wait"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.out.find("code 301 (insufficient_funds)"), std::string::npos) << failed.out;
  EXPECT_NE(failed.err.find("failed with code 301"), std::string::npos) << failed.err;
}

TEST_F(AppTest, WaitTimesOutWhilePending) {
  add_key("alice");
  node_.committed_result = {{"status", "pending"}};
  RunResult pending = run({"tx", "send", "alice", crypto::encode_address(Address{}), "1atm", "--wait",
                           "--timeout", "0"});
  EXPECT_EQ(pending.exit_code, 1);
  EXPECT_NE(pending.err.find("was not committed within 0 s"), std::string::npos) << pending.err;
}

TEST_F(AppTest, RejectionShowsCodeName) {
  add_key("alice");
  node_.submit_error = {{"code", -32002},
                        {"message", "tx rejected"},
                        {"data", {{"code", 201}, {"name", "nonce_too_low"}, {"log", "expected 5"}}}};
  RunResult rejected = run({"tx", "send", "alice", crypto::encode_address(Address{}), "1atm"});
  EXPECT_EQ(rejected.exit_code, 1);
  EXPECT_NE(rejected.err.find("tx rejected: nonce_too_low (code 201): expected 5"), std::string::npos)
      << rejected.err;
}

TEST_F(AppTest, BadInputMessages) {
  add_key("alice");
  RunResult bad_amount = run({"tx", "send", "alice", "alice", "10.5atm"});
  EXPECT_EQ(bad_amount.exit_code, 1);
  EXPECT_NE(bad_amount.err.find("invalid amount '10.5atm': expected an integer followed by a denom"),
            std::string::npos)
      << bad_amount.err;

  RunResult missing = run({"tx", "send", "nobody", "alice", "1atm"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("key 'nobody' not found in " + keyring_dir() + "; run 'automata keys list'"),
            std::string::npos)
      << missing.err;

  RunResult bad_fee = run({"tx", "send", "alice", "alice", "1atm", "--fee", "5token/abc"});
  EXPECT_EQ(bad_fee.exit_code, 1);
  EXPECT_NE(bad_fee.err.find("fees are paid in atm"), std::string::npos) << bad_fee.err;

  RunResult bad_output = run({"--output", "yaml", "status"});
  EXPECT_NE(bad_output.exit_code, 0);
}

TEST_F(AppTest, StatusPrintsNodeFields) {
  RunResult status = run({"--output", "json", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(json::parse(status.out), node_.status);
}

TEST_F(AppTest, ProofVerifyChecksRealProof) {
  ChainFixture chain;
  crypto::PrivateKey key = add_key("alice");
  Address address = crypto::address_of(key.public_key());
  state::ChangeSet changes;
  changes[keys::account(address)] = ChainFixture::account_value(3, "500");
  chain.commit(changes);
  node_.state_proof = [&](const json& params) {
    auto decoded = crypto::decode_address(params["address"].get<std::string>());
    return chain.proof_json(chain.height(), keys::account(*decoded));
  };
  node_.block_get = [&](const json& params) { return chain.block_json(params["height"].get<uint64_t>()); };

  RunResult valid = run({"proof", "verify", "alice"});
  ASSERT_EQ(valid.exit_code, 0) << valid.err;
  EXPECT_NE(valid.out.find("proof valid: " + crypto::encode_address(address) + " at height 1, root "),
            std::string::npos)
      << valid.out;
  EXPECT_NE(valid.out.find("nonce 3"), std::string::npos) << valid.out;
  EXPECT_NE(valid.out.find("500atm"), std::string::npos) << valid.out;

  // A node that serves a different value for the same proof is caught.
  node_.state_proof = [&](const json& params) {
    auto decoded = crypto::decode_address(params["address"].get<std::string>());
    json proof = chain.proof_json(chain.height(), keys::account(*decoded));
    proof["value"] = to_hex(ChainFixture::account_value(3, "999999"));
    return proof;
  };
  RunResult forged = run({"proof", "verify", "alice"});
  EXPECT_EQ(forged.exit_code, 1);
  EXPECT_NE(forged.err.find("does not lead to state root"), std::string::npos) << forged.err;
}

TEST_F(AppTest, UnreachableNodeMessage) {
  std::vector<std::string> argv = {"automata", "--node", "http://127.0.0.1:1", "status"};
  std::vector<const char*> cargs;
  for (const auto& a : argv) cargs.push_back(a.c_str());
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(run_cli(static_cast<int>(cargs.size()), cargs.data(), out, err), 1);
  EXPECT_NE(err.str().find("cannot reach node at http://127.0.0.1:1: connection refused; is automatad running?"),
            std::string::npos)
      << err.str();
}

}  // namespace
}  // namespace automata::cli
