// Each JSON-RPC method against the real server, chain and mempool.
#include "rpc_fixture.h"

#include "automata/crypto/bech32.h"
#include "automata/state/state_tree.h"
#include "automata/types/state_keys.h"
#include "automata/v1/state.pb.h"

namespace automata::rpc::testing {
namespace {

Address random_address() {
  return crypto::address_of(crypto::PrivateKey::generate().public_key());
}

TEST_F(RpcServerTest, NodeStatusReportsGenesisChain) {
  json reply = call(*client_, "node_status");
  ASSERT_TRUE(reply.contains("result")) << reply.dump();
  const json& result = reply["result"];
  EXPECT_EQ(result["chain_id"], "rpc-test");
  EXPECT_EQ(result["version"], "test-version");
  EXPECT_EQ(result["height"], 0);
  EXPECT_EQ(result["validator_address"], crypto::encode_address(crypto::address_of(validator_key_.public_key())));
  EXPECT_EQ(result["min_gas_price"], genesis_.params.min_gas_price);
  EXPECT_EQ(result["mempool_txs"], 0);
  EXPECT_EQ(result["catching_up"], false);
  EXPECT_TRUE(result["peers"].is_array());
  EXPECT_EQ(result["state_root"].get<std::string>().size(), 64u);
  EXPECT_EQ(result["limits"]["max_tx_bytes"], genesis_.params.max_tx_bytes);
  EXPECT_EQ(result["limits"]["max_blob_bytes"], genesis_.params.max_blob_bytes);
  EXPECT_EQ(result["limits"]["max_files_per_version"], genesis_.params.max_files_per_version);
  EXPECT_EQ(result["limits"]["max_path_bytes"], genesis_.params.max_path_bytes);
  EXPECT_EQ(reply["id"], 1);
  EXPECT_EQ(reply["jsonrpc"], "2.0");
}

TEST_F(RpcServerTest, SubmittedTxIsPendingThenCommitted) {
  Address to = random_address();
  auto tx = make_transfer(user_key_, "rpc-test", 0, to, "1234");

  json submitted = call(*client_, "tx_submit", {{"tx", to_hex(tx.bytes)}});
  ASSERT_TRUE(submitted.contains("result")) << submitted.dump();
  EXPECT_EQ(submitted["result"]["hash"], to_hex(tx.hash));
  EXPECT_EQ(submitted["result"]["status"], "pending");

  json pending = call(*client_, "tx_get", {{"hash", to_hex(tx.hash)}});
  ASSERT_TRUE(pending.contains("result")) << pending.dump();
  EXPECT_EQ(pending["result"]["status"], "pending");

  commit_block();

  json committed = call(*client_, "tx_get", {{"hash", to_hex(tx.hash)}});
  ASSERT_TRUE(committed.contains("result")) << committed.dump();
  const json& result = committed["result"];
  EXPECT_EQ(result["status"], "committed");
  EXPECT_EQ(result["height"], 1);
  EXPECT_EQ(result["index"], 0);
  EXPECT_EQ(result["code"], 0);
  EXPECT_EQ(result["name"], "ok");
  EXPECT_GT(result["gas_used"].get<uint64_t>(), 0u);
  EXPECT_EQ(result["tx"]["signer"], crypto::encode_address(user_address()));
  EXPECT_EQ(result["tx"]["nonce"], 0);
  EXPECT_EQ(result["tx"]["memo"], "rpc test");
  EXPECT_EQ(result["tx"]["fee"]["amount"], "50000");
  EXPECT_EQ(result["tx"]["ops"][0]["transfer"]["to"], crypto::encode_address(to));
  EXPECT_EQ(result["tx"]["ops"][0]["transfer"]["amount"][0]["amount"], "1234");
}

TEST_F(RpcServerTest, TxBytesRouteSubmitsLikeTxSubmit) {
  Address to = random_address();
  auto tx = make_transfer(user_key_, "rpc-test", 0, to, "777");
  std::string bytes(tx.bytes.begin(), tx.bytes.end());

  HttpReply reply = client_->request(http::verb::post, "/v1/txs", bytes);
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.content_type, "application/json");
  json submitted = reply.parsed();
  ASSERT_TRUE(submitted.contains("result")) << reply.body;
  EXPECT_EQ(submitted["result"]["hash"], to_hex(tx.hash));
  EXPECT_EQ(submitted["result"]["status"], "pending");
  EXPECT_TRUE(submitted["id"].is_null());

  // The same bytes again are a duplicate, rejected as tx_submit would.
  json again = client_->request(http::verb::post, "/v1/txs", bytes).parsed();
  ASSERT_TRUE(again.contains("error")) << again.dump();
  EXPECT_EQ(again["error"]["code"], kTxRejected);
  EXPECT_EQ(again["error"]["data"]["hash"], to_hex(tx.hash));

  json malformed = client_->request(http::verb::post, "/v1/txs", "not a tx").parsed();
  ASSERT_TRUE(malformed.contains("error")) << malformed.dump();
  EXPECT_EQ(malformed["error"]["code"], kTxRejected);
  EXPECT_EQ(malformed["error"]["data"]["name"], "tx_malformed");

  json empty = client_->request(http::verb::post, "/v1/txs", "").parsed();
  ASSERT_TRUE(empty.contains("error")) << empty.dump();
  EXPECT_EQ(empty["error"]["code"], kInvalidRequest);
  EXPECT_NE(empty["error"]["message"].get<std::string>().find("empty"), std::string::npos);

  EXPECT_EQ(client_->request(http::verb::get, "/v1/txs").status, 405u);

  commit_block();
  json committed = call(*client_, "tx_get", {{"hash", to_hex(tx.hash)}});
  ASSERT_TRUE(committed.contains("result")) << committed.dump();
  EXPECT_EQ(committed["result"]["status"], "committed");
  EXPECT_EQ(committed["result"]["tx"]["ops"][0]["transfer"]["amount"][0]["amount"], "777");
}

TEST_F(RpcServerTest, TxGetAcceptsUppercaseAndPrefix) {
  auto tx = make_transfer(user_key_, "rpc-test", 0, random_address(), "1");
  ASSERT_TRUE(call(*client_, "tx_submit", {{"tx", "0x" + to_hex(tx.bytes)}}).contains("result"));
  std::string upper = to_hex(tx.hash);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  json reply = call(*client_, "tx_get", {{"hash", "0X" + upper}});
  ASSERT_TRUE(reply.contains("result")) << reply.dump();
  EXPECT_EQ(reply["result"]["hash"], to_hex(tx.hash));
}

TEST_F(RpcServerTest, BlockGetByHeightHashAndLatest) {
  auto tx = make_transfer(user_key_, "rpc-test", 0, random_address(), "5");
  ASSERT_TRUE(call(*client_, "tx_submit", {{"tx", to_hex(tx.bytes)}}).contains("result"));
  v1::Block first = commit_block();
  v1::Block second = commit_block();
  std::string first_hash = to_hex(crypto::sha256(as_view(first.header_bytes())));
  std::string second_hash = to_hex(crypto::sha256(as_view(second.header_bytes())));

  json by_height = call(*client_, "block_get", {{"height", 1}});
  ASSERT_TRUE(by_height.contains("result")) << by_height.dump();
  const json& block = by_height["result"];
  EXPECT_EQ(block["hash"], first_hash);
  EXPECT_EQ(block["header_bytes"], to_hex(as_view(first.header_bytes())));
  EXPECT_EQ(block["proposer_signature"], to_hex(as_view(first.proposer_signature())));
  EXPECT_EQ(block["header"]["height"], 1);
  EXPECT_EQ(block["header"]["tx_count"], 1);
  EXPECT_EQ(block["header"]["prev_hash"], std::string(64, '0'));
  EXPECT_EQ(block["header"]["proposer"], crypto::encode_address(crypto::address_of(validator_key_.public_key())));
  ASSERT_EQ(block["txs"].size(), 1u);
  EXPECT_EQ(block["txs"][0], to_hex(tx.hash));
  ASSERT_EQ(block["results"].size(), 1u);
  EXPECT_EQ(block["results"][0]["hash"], to_hex(tx.hash));
  EXPECT_EQ(block["results"][0]["code"], 0);

  json by_hash = call(*client_, "block_get", {{"hash", second_hash}});
  ASSERT_TRUE(by_hash.contains("result")) << by_hash.dump();
  EXPECT_EQ(by_hash["result"]["header"]["height"], 2);
  EXPECT_EQ(by_hash["result"]["header"]["prev_hash"], first_hash);

  json latest = call(*client_, "block_get");
  ASSERT_TRUE(latest.contains("result")) << latest.dump();
  EXPECT_EQ(latest["result"]["hash"], second_hash);
}

TEST_F(RpcServerTest, AccountGetReadsBalancesAndHeights) {
  Address to = random_address();
  auto tx = make_transfer(user_key_, "rpc-test", 0, to, "777");
  ASSERT_TRUE(call(*client_, "tx_submit", {{"tx", to_hex(tx.bytes)}}).contains("result"));
  commit_block();

  json recipient = call(*client_, "account_get", {{"address", crypto::encode_address(to)}});
  ASSERT_TRUE(recipient.contains("result")) << recipient.dump();
  EXPECT_EQ(recipient["result"]["height"], 1);
  EXPECT_EQ(recipient["result"]["nonce"], 0);
  EXPECT_EQ(recipient["result"]["pubkey"], "");
  ASSERT_EQ(recipient["result"]["balances"].size(), 1u);
  EXPECT_EQ(recipient["result"]["balances"][0]["denom"], "atm");
  EXPECT_EQ(recipient["result"]["balances"][0]["amount"], "777");

  json sender = call(*client_, "account_get", {{"address", crypto::encode_address(user_address())}});
  ASSERT_TRUE(sender.contains("result")) << sender.dump();
  EXPECT_EQ(sender["result"]["nonce"], 1);
  EXPECT_EQ(sender["result"]["pubkey"], to_hex(user_key_.public_key()));

  json before = call(*client_, "account_get", {{"address", crypto::encode_address(to)}, {"height", 0}});
  ASSERT_TRUE(before.contains("result")) << before.dump();
  EXPECT_EQ(before["result"]["height"], 0);
  EXPECT_TRUE(before["result"]["balances"].empty());

  json future = call(*client_, "account_get", {{"address", crypto::encode_address(to)}, {"height", 50}});
  ASSERT_TRUE(future.contains("error")) << future.dump();
  EXPECT_EQ(future["error"]["code"], kNotFound);
}

TEST_F(RpcServerTest, AccountGetCountsPooledTxsInPendingNonce) {
  const std::string address = crypto::encode_address(user_address());
  json idle = call(*client_, "account_get", {{"address", address}});
  ASSERT_TRUE(idle.contains("result")) << idle.dump();
  EXPECT_EQ(idle["result"]["pending_nonce"], 0);

  for (uint64_t nonce : {0, 1}) {
    auto tx = make_transfer(user_key_, "rpc-test", nonce, random_address(), "1");
    ASSERT_TRUE(call(*client_, "tx_submit", {{"tx", to_hex(tx.bytes)}}).contains("result"));
  }
  json pooled = call(*client_, "account_get", {{"address", address}});
  ASSERT_TRUE(pooled.contains("result")) << pooled.dump();
  EXPECT_EQ(pooled["result"]["nonce"], 0);
  EXPECT_EQ(pooled["result"]["pending_nonce"], 2);

  json at_height = call(*client_, "account_get", {{"address", address}, {"height", 0}});
  ASSERT_TRUE(at_height.contains("result")) << at_height.dump();
  EXPECT_FALSE(at_height["result"].contains("pending_nonce")) << "a past state has no pending txs";

  commit_block();
  json committed = call(*client_, "account_get", {{"address", address}});
  ASSERT_TRUE(committed.contains("result")) << committed.dump();
  EXPECT_EQ(committed["result"]["nonce"], 2);
  EXPECT_EQ(committed["result"]["pending_nonce"], 2);
}

TEST_F(RpcServerTest, StateProofVerifiesAgainstHeader) {
  commit_block();
  json reply = call(*client_, "state_proof", {{"address", crypto::encode_address(user_address())}});
  ASSERT_TRUE(reply.contains("result")) << reply.dump();
  const json& result = reply["result"];
  EXPECT_EQ(result["exists"], true);
  EXPECT_EQ(result["key"], to_hex(keys::account(user_address())));

  uint64_t height = result["height"];
  json block = call(*client_, "block_get", {{"height", height}});
  ASSERT_TRUE(block.contains("result")) << block.dump();
  auto header_bytes = from_hex(block["result"]["header_bytes"].get<std::string>());
  ASSERT_TRUE(header_bytes);
  EXPECT_EQ(to_hex(crypto::sha256(*header_bytes)), block["result"]["hash"]);
  v1::BlockHeader header;
  ASSERT_TRUE(header.ParseFromArray(header_bytes->data(), static_cast<int>(header_bytes->size())));
  auto root = to_array<32>(as_view(header.state_root()));
  ASSERT_TRUE(root);
  EXPECT_EQ(result["root"], to_hex(*root));

  state::StateProof proof;
  proof.key_hash = *to_array<32>(*from_hex(result["proof"]["key_hash"].get<std::string>()));
  proof.leaf_key_hash = to_array<32>(*from_hex(result["proof"]["leaf_key_hash"].get<std::string>()));
  proof.leaf_value_hash = to_array<32>(*from_hex(result["proof"]["leaf_value_hash"].get<std::string>()));
  for (const auto& sibling : result["proof"]["siblings"]) {
    proof.siblings.push_back(*to_array<32>(*from_hex(sibling.get<std::string>())));
  }
  std::optional<Bytes> value = from_hex(result["value"].get<std::string>());
  ASSERT_TRUE(value);
  EXPECT_TRUE(state::verify_state_proof(*root, keys::account(user_address()), value, proof));

  v1::Account account;
  ASSERT_TRUE(account.ParseFromArray(value->data(), static_cast<int>(value->size())));
  ASSERT_EQ(account.balances_size(), 1);
  EXPECT_EQ(account.balances(0).amount(), std::to_string(kFunds));
}

TEST_F(RpcServerTest, StateProofShowsAbsentKey) {
  commit_block();
  Address stranger = random_address();
  json reply = call(*client_, "state_proof", {{"key", to_hex(keys::account(stranger))}, {"height", 1}});
  ASSERT_TRUE(reply.contains("result")) << reply.dump();
  const json& result = reply["result"];
  EXPECT_EQ(result["exists"], false);
  EXPECT_TRUE(result["value"].is_null());
  EXPECT_EQ(result["height"], 1);

  state::StateProof proof;
  proof.key_hash = *to_array<32>(*from_hex(result["proof"]["key_hash"].get<std::string>()));
  if (!result["proof"]["leaf_key_hash"].is_null()) {
    proof.leaf_key_hash = to_array<32>(*from_hex(result["proof"]["leaf_key_hash"].get<std::string>()));
    proof.leaf_value_hash = to_array<32>(*from_hex(result["proof"]["leaf_value_hash"].get<std::string>()));
  }
  for (const auto& sibling : result["proof"]["siblings"]) {
    proof.siblings.push_back(*to_array<32>(*from_hex(sibling.get<std::string>())));
  }
  auto root = to_array<32>(*from_hex(result["root"].get<std::string>()));
  EXPECT_TRUE(state::verify_state_proof(*root, keys::account(stranger), std::nullopt, proof));
  EXPECT_FALSE(state::verify_state_proof(*root, keys::account(stranger), Bytes{1, 2, 3}, proof));
}

TEST_F(RpcServerTest, BatchSubmitsConsecutiveNonces) {
  json batch = json::array();
  std::vector<Hash32> hashes;
  for (uint64_t nonce = 0; nonce < 5; ++nonce) {
    auto tx = make_transfer(user_key_, "rpc-test", nonce, random_address(), "1");
    hashes.push_back(tx.hash);
    batch.push_back({{"jsonrpc", "2.0"}, {"id", nonce}, {"method", "tx_submit"}, {"params", {{"tx", to_hex(tx.bytes)}}}});
  }
  json replies = client_->post(batch.dump()).parsed();
  ASSERT_TRUE(replies.is_array()) << replies.dump();
  ASSERT_EQ(replies.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(replies[i]["id"], i);
    ASSERT_TRUE(replies[i].contains("result")) << replies[i].dump();
    EXPECT_EQ(replies[i]["result"]["hash"], to_hex(hashes[i]));
  }
  EXPECT_EQ(mempool_->size(), 5u);

  commit_block();
  json account = call(*client_, "account_get", {{"address", crypto::encode_address(user_address())}});
  EXPECT_EQ(account["result"]["nonce"], 5);
}

TEST_F(RpcServerTest, KeepAliveServesManyRequests) {
  for (int i = 0; i < 20; ++i) {
    json reply = call(*client_, "node_status", json::object(), i);
    ASSERT_TRUE(reply.contains("result")) << reply.dump();
    EXPECT_EQ(reply["id"], i);
  }
  EXPECT_EQ(metrics_.requests("node_status"), 20u);
}

TEST_F(RpcServerTest, HealthReportsHeight) {
  commit_block();
  HttpReply reply = client_->get("/health");
  EXPECT_EQ(reply.status, 200u);
  json body = reply.parsed();
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["height"], 1);
}

TEST_F(RpcServerTest, MetricsExportsCounters) {
  auto tx = make_transfer(user_key_, "rpc-test", 0, random_address(), "1");
  ASSERT_TRUE(call(*client_, "tx_submit", {{"tx", to_hex(tx.bytes)}}).contains("result"));
  json rejected = call(*client_, "tx_submit", {{"tx", to_hex(tx.bytes)}});
  ASSERT_TRUE(rejected.contains("error"));
  call(*client_, "no_such_method");

  HttpReply reply = client_->get("/metrics");
  EXPECT_EQ(reply.status, 200u);
  EXPECT_NE(reply.content_type.find("text/plain"), std::string::npos);
  const std::string& text = reply.body;
  EXPECT_NE(text.find("\nautomata_block_height 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nautomata_mempool_txs 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nautomata_mempool_bytes " + std::to_string(tx.bytes.size()) + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("automata_txs_committed_total 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("automata_rpc_requests_total{method=\"tx_submit\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("automata_rpc_requests_total{method=\"other\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("automata_tx_rejected_total{code=\"already_in_mempool\"} 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace automata::rpc::testing
