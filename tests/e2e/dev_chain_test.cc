// End-to-end: the real automatad dev node driven by the real CLI and raw
// HTTP on a free loopback port.
#include "automata/crypto/bech32.h"
#include "automata/crypto/keyring.h"
#include "automata/crypto/sha256.h"
#include "automata/types/bytes.h"
#include "e2e/node_process.h"
#include "e2e/tx_builder.h"

#include <gtest/gtest.h>

#include <regex>
#include <thread>

namespace automata::e2e {
namespace {

using nlohmann::json;

// Balance of denom in an account_get result, "0" when absent.
std::string balance_of(const json& account, const std::string& denom) {
  for (const auto& coin : account.value("balances", json::array())) {
    if (coin.value("denom", "") == denom) return coin.value("amount", "");
  }
  return "0";
}

std::string first_hash(const std::string& text) {
  std::smatch m;
  static const std::regex kHash("[0-9a-f]{64}");
  return std::regex_search(text, m, kHash) ? m.str() : "";
}

class DevChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string log;
    ASSERT_TRUE(node_.start(&log)) << log;
    auto status = node_.rpc("node_status");
    ASSERT_TRUE(status.contains("result")) << status.dump();
    chain_id_ = status["result"]["chain_id"].get<std::string>();
  }

  // The funded dev key that `automatad dev` put into the keyring.
  crypto::PrivateKey dev_key() {
    crypto::Keyring keyring(node_.keyring_dir().string());
    std::optional<crypto::PrivateKey> key;
    auto status = keyring.load("dev", "", &key);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    return *key;
  }

  json account(const Address& address) {
    auto reply = node_.rpc("account_get", {{"address", crypto::encode_address(address)}});
    EXPECT_TRUE(reply.contains("result")) << reply.dump();
    return reply.value("result", json::object());
  }

  // Submits raw tx bytes and returns the whole JSON-RPC reply.
  json submit(const Bytes& tx) { return node_.rpc("tx_submit", {{"tx", to_hex(tx)}}); }

  // Polls tx_get until the tx is committed; returns the result or null.
  json wait_committed(const std::string& hash) {
    for (int i = 0; i < 200; ++i) {
      auto reply = node_.rpc("tx_get", {{"hash", hash}});
      if (reply.contains("result") && reply["result"].value("status", "") == "committed") return reply["result"];
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
  }

  uint64_t next_nonce(const Address& address) { return account(address).value("nonce", uint64_t{0}); }

  DevNode node_;
  std::string chain_id_;
};

TEST_F(DevChainTest, CliTransferReadBackByCliAndHttp) {
  auto added = node_.cli({"keys", "add", "bob", "--no-passphrase"});
  ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
  auto shown = node_.cli({"--output", "json", "keys", "show", "bob"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  std::smatch m;
  std::string shown_text = shown.out;
  ASSERT_TRUE(std::regex_search(shown_text, m, std::regex("atm1[02-9ac-hj-np-z]{38}"))) << shown.out;
  std::string bob = m.str();

  auto sent = node_.cli({"tx", "send", "dev", bob, "1234atm", "--wait"});
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  std::string hash = first_hash(sent.out);
  ASSERT_FALSE(hash.empty()) << sent.out;

  // Read back with the CLI.
  auto queried = node_.cli({"--output", "json", "query", "account", bob});
  ASSERT_EQ(queried.exit_code, 0) << queried.err;
  auto queried_json = json::parse(queried.out, nullptr, false);
  ASSERT_FALSE(queried_json.is_discarded()) << queried.out;
  EXPECT_EQ(balance_of(queried_json, "atm"), "1234") << queried.out;

  // Read back with raw HTTP, as curl would.
  auto reply = http_request(node_.port(), "POST", "/",
                            R"({"jsonrpc":"2.0","id":7,"method":"account_get","params":{"address":")" + bob + "\"}}");
  ASSERT_EQ(reply.status, 200);
  auto parsed = json::parse(reply.body);
  EXPECT_EQ(parsed["id"], 7);
  EXPECT_EQ(balance_of(parsed["result"], "atm"), "1234") << reply.body;

  auto tx = node_.rpc("tx_get", {{"hash", hash}});
  ASSERT_TRUE(tx.contains("result")) << tx.dump();
  EXPECT_EQ(tx["result"]["status"], "committed");
  EXPECT_EQ(tx["result"]["code"], 0);
  EXPECT_GT(tx["result"]["height"].get<uint64_t>(), 0u);

  auto queried_tx = node_.cli({"query", "tx", hash});
  EXPECT_EQ(queried_tx.exit_code, 0) << queried_tx.err;
  auto block = node_.cli({"query", "block", std::to_string(tx["result"]["height"].get<uint64_t>())});
  EXPECT_EQ(block.exit_code, 0) << block.err;
  EXPECT_NE(block.out.find(hash), std::string::npos) << block.out;

  auto proof = node_.cli({"proof", "verify", bob});
  EXPECT_EQ(proof.exit_code, 0) << proof.out << proof.err;
}

TEST_F(DevChainTest, CliMultiSendPaysEveryRecipient) {
  Address a = crypto::address_of(crypto::PrivateKey::generate().public_key());
  Address b = crypto::address_of(crypto::PrivateKey::generate().public_key());
  auto sent = node_.cli({"tx", "multi-send", "dev", crypto::encode_address(a) + "=10atm",
                         crypto::encode_address(b) + "=20atm", "--wait"});
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  EXPECT_EQ(balance_of(account(a), "atm"), "10");
  EXPECT_EQ(balance_of(account(b), "atm"), "20");
}

TEST_F(DevChainTest, CliFailsClearlyOnBadInput) {
  auto bad_amount = node_.cli({"tx", "send", "dev", "atm1qqqq", "10.5atm"});
  EXPECT_NE(bad_amount.exit_code, 0);
  EXPECT_FALSE(bad_amount.err.empty());

  auto missing_key = node_.cli({"tx", "send", "nobody", crypto::encode_address(Address{}), "1atm"});
  EXPECT_NE(missing_key.exit_code, 0);
  EXPECT_NE(missing_key.err.find("nobody"), std::string::npos) << missing_key.err;

  auto unreachable = run_command({automata_path(), "--node", "http://127.0.0.1:" + std::to_string(free_loopback_port()),
                                  "status"});
  EXPECT_NE(unreachable.exit_code, 0);
  EXPECT_FALSE(unreachable.err.empty());
}

// Each rejection kind comes back from tx_submit as error -32002 carrying the
// stable result code, and the tx is never included.
TEST_F(DevChainTest, RejectionsCarryResultCodes) {
  auto dev = dev_key();
  Address dev_address = crypto::address_of(dev.public_key());
  Address bob = crypto::address_of(crypto::PrivateKey::generate().public_key());
  uint64_t nonce = next_nonce(dev_address);

  auto expect_rejected = [&](const Bytes& tx, int code, const std::string& what) {
    auto reply = submit(tx);
    ASSERT_TRUE(reply.contains("error")) << what << ": " << reply.dump();
    EXPECT_EQ(reply["error"]["code"], -32002) << what << ": " << reply.dump();
    EXPECT_EQ(reply["error"]["data"]["code"], code) << what << ": " << reply.dump();
    EXPECT_FALSE(reply["error"]["data"].value("log", "").empty()) << what;
  };

  TransferSpec spec = make_spec(chain_id_, nonce, bob);

  // Bad signature: a valid tx with one signature bit flipped.
  Bytes body = transfer_body(dev, spec);
  auto signature = dev.sign(crypto::sha256(body));
  signature[10] ^= 0x01;
  expect_rejected(assemble_tx(body, signature), 106, "bad signature");

  // Wrong chain id.
  TransferSpec wrong_chain = spec;
  wrong_chain.chain_id = chain_id_ + "-other";
  expect_rejected(build_transfer(dev, wrong_chain), 104, "wrong chain id");

  // Expired: the chain is already past height 1 once a block exists.
  TransferSpec expired = spec;
  expired.expiry_height = 1;
  auto first = submit(build_transfer(dev, spec));
  ASSERT_TRUE(first.contains("result")) << first.dump();
  ASSERT_FALSE(wait_committed(first["result"]["hash"]).is_null());
  expired.nonce = nonce + 1;
  expect_rejected(build_transfer(dev, expired), 204, "expired");

  // Replayed nonce: the same nonce as the committed transfer, new memo so
  // the hash differs.
  TransferSpec replay = spec;
  replay.memo = "replay";
  expect_rejected(build_transfer(dev, replay), 201, "replayed nonce");

  // Oversized: a tx one byte over the default max_tx_bytes (1 MiB). Its
  // hex form (about 2 MiB) still fits the default 4 MiB JSON-RPC body, so
  // the node, not the HTTP layer, rejects it.
  constexpr size_t kMaxTxBytes = 1024 * 1024;
  TransferSpec oversized = spec;
  oversized.nonce = nonce + 1;
  oversized.memo = std::string(kMaxTxBytes, 'x');
  size_t overhead = build_transfer(dev, oversized).size() - kMaxTxBytes;
  oversized.memo.resize(kMaxTxBytes + 1 - overhead, 'x');
  Bytes oversized_tx = build_transfer(dev, oversized);
  ASSERT_EQ(oversized_tx.size(), kMaxTxBytes + 1);
  expect_rejected(oversized_tx, 101, "oversized");

  // Malformed bytes that are not a Tx at all.
  expect_rejected(Bytes{0xff, 0xff, 0xff, 0x01, 0x02}, 102, "malformed");

  // Fee unpayable: a key with no balance.
  auto pauper = crypto::PrivateKey::generate();
  TransferSpec unfunded = make_spec(chain_id_, 0, bob);
  expect_rejected(build_transfer(pauper, unfunded), 205, "fee unpayable");

  EXPECT_EQ(balance_of(account(bob), "atm"), "1");
}

// A transfer larger than the balance passes admission (the fee is payable)
// but fails in apply: it is included with code insufficient_funds, the fee
// and nonce are kept, and no coins move.
TEST_F(DevChainTest, InsufficientFundsIsIncludedAsFailed) {
  auto dev = dev_key();
  Address dev_address = crypto::address_of(dev.public_key());
  auto carol = crypto::PrivateKey::generate();
  Address carol_address = crypto::address_of(carol.public_key());
  Address dave = crypto::address_of(crypto::PrivateKey::generate().public_key());

  auto funded = submit(build_transfer(dev, make_spec(chain_id_, next_nonce(dev_address), carol_address, "100000")));
  ASSERT_TRUE(funded.contains("result")) << funded.dump();
  ASSERT_FALSE(wait_committed(funded["result"]["hash"]).is_null());

  auto overdraw = submit(build_transfer(carol, make_spec(chain_id_, 0, dave, "60000")));
  ASSERT_TRUE(overdraw.contains("result")) << overdraw.dump();
  auto result = wait_committed(overdraw["result"]["hash"]);
  ASSERT_FALSE(result.is_null());
  EXPECT_EQ(result["code"], 301) << result.dump();
  EXPECT_EQ(result["name"], "insufficient_funds");
  auto carol_account = account(carol_address);
  EXPECT_EQ(balance_of(carol_account, "atm"), "50000");
  EXPECT_EQ(carol_account["nonce"], 1);
  EXPECT_EQ(balance_of(account(dave), "atm"), "0");
}

TEST_F(DevChainTest, RpcBadRequestsNameTheProblem) {
  auto malformed = http_request(node_.port(), "POST", "/", "{\"jsonrpc\": \"2.0\", ");
  auto parsed = json::parse(malformed.body, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << malformed.body;
  EXPECT_EQ(parsed["error"]["code"], -32700);

  auto unknown = node_.rpc("no_such_method");
  EXPECT_EQ(unknown["error"]["code"], -32601);
  EXPECT_NE(unknown["error"]["message"].get<std::string>().find("no_such_method"), std::string::npos);

  auto wrong_type = node_.rpc("block_get", {{"height", "ten"}});
  EXPECT_EQ(wrong_type["error"]["code"], -32602);
  EXPECT_NE(wrong_type["error"]["message"].get<std::string>().find("height"), std::string::npos);

  auto missing = node_.rpc("tx_get", json::object());
  EXPECT_EQ(missing["error"]["code"], -32602);
  EXPECT_NE(missing["error"]["message"].get<std::string>().find("hash"), std::string::npos);

  std::string huge(5 * 1024 * 1024, ' ');  // above the default 4 MiB body limit
  auto oversized = http_request(node_.port(), "POST", "/", "{\"pad\":\"" + huge + "\"}");
  EXPECT_EQ(oversized.status, 413);

  auto health = http_request(node_.port(), "GET", "/health", "");
  EXPECT_EQ(health.status, 200);
  auto metrics = http_request(node_.port(), "GET", "/metrics", "");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("automata_block_height"), std::string::npos);
}

}  // namespace
}  // namespace automata::e2e
