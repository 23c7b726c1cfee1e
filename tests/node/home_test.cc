// init writes a home that the node opens and serves; dev homes and flags.
#include "automata/crypto/bech32.h"
#include "automata/crypto/keyring.h"
#include "automata/node/dev.h"
#include "automata/node/fragment_attest.h"
#include "automata/node/genesis_file.h"
#include "automata/node/home.h"
#include "automata/node/node.h"
#include "node_test_util.h"
#include "rpc/rpc_fixture.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <fstream>

namespace automata::node {
namespace {

unsigned file_mode(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 0777;
}

TEST(Home, InitWritesEveryFile) {
  testing::TempDir dir;
  InitOptions options;
  options.home = dir.str();
  options.chain_id = "home-test";
  options.moniker = "alpha";
  Address funded = crypto::address_of(crypto::PrivateKey::generate().public_key());
  ASSERT_TRUE(add_fund_flag(crypto::encode_address(funded) + "=1000atm", &options.funded).is_ok());
  std::optional<crypto::PrivateKey> key;
  Status status = init_home(options, &key);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  ASSERT_TRUE(key);

  auto paths = HomePaths::of(dir.str());
  EXPECT_TRUE(std::filesystem::is_directory(paths.data));
  EXPECT_EQ(file_mode(paths.validator_key), 0600u);
  EXPECT_EQ(file_mode(paths.node_key), 0600u);

  std::optional<crypto::PrivateKey> stored;
  ASSERT_TRUE(read_key_file(paths.validator_key, &stored).is_ok());
  EXPECT_EQ(stored->public_key(), key->public_key());

  execution::Genesis genesis;
  status = load_genesis(paths.genesis, &genesis);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(genesis.chain_id, "home-test");
  ASSERT_EQ(genesis.validators.size(), 1u);
  EXPECT_EQ(genesis.validators[0].pubkey, key->public_key());
  EXPECT_EQ(genesis.validators[0].name, "alpha");
  ASSERT_EQ(genesis.accounts.size(), 1u);
  EXPECT_EQ(genesis.accounts[0].address, funded);
  EXPECT_TRUE(genesis.accounts[0].balances[0].second == 1000);

  NodeConfig config;
  EXPECT_TRUE(load_config(paths.config, &config).is_ok());
}

TEST(Home, InitTwiceNeedsForce) {
  testing::TempDir dir;
  InitOptions options;
  options.home = dir.str();
  ASSERT_TRUE(init_home(options).is_ok());
  std::ofstream(HomePaths::of(dir.str()).data + "/marker") << "old chain";

  Status again = init_home(options);
  EXPECT_EQ(again.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(again.message().find("--force"), std::string::npos) << again.message();

  options.force = true;
  ASSERT_TRUE(init_home(options).is_ok());
  EXPECT_FALSE(std::filesystem::exists(HomePaths::of(dir.str()).data + "/marker"));
}

TEST(Home, FundFlagRules) {
  std::vector<execution::GenesisAccount> accounts;
  std::string address = crypto::encode_address(Address{});
  ASSERT_TRUE(add_fund_flag(address + "=10", &accounts).is_ok());
  ASSERT_TRUE(add_fund_flag(address + "=5atm", &accounts).is_ok());
  ASSERT_EQ(accounts.size(), 1u);
  EXPECT_TRUE(accounts[0].balances[0].second == 15);

  std::vector<std::string> bad_values = {address, address + "=", address + "=-1", address + "=1.5", address + "=0",
                                         "atm1xx=5"};
  for (const auto& bad : bad_values) {
    Status status = add_fund_flag(bad, &accounts);
    EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("--fund"), std::string::npos) << status.message();
  }
}

TEST(Home, CorruptKeyFileIsNamed) {
  testing::TempDir dir;
  std::string path = (dir.path() / "validator_key.json").string();
  std::ofstream(path) << R"({"secret_key": "1234"})";
  std::optional<crypto::PrivateKey> key;
  Status status = read_key_file(path, &key);
  EXPECT_EQ(status.kind(), Status::Kind::kCorruption);
  EXPECT_NE(status.message().find(path), std::string::npos);
}

TEST(Node, OpensInitializedHomeAndServes) {
  testing::TempDir dir;
  InitOptions options;
  options.home = dir.str();
  ASSERT_TRUE(init_home(options).is_ok());

  std::unique_ptr<Node> node;
  Status status = Node::open({dir.str(), "127.0.0.1:0", "warn"}, &node);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  status = node->start();
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(node->rpc_url(), "http://127.0.0.1:" + std::to_string(node->rpc_port()));

  rpc::testing::HttpClient client(node->rpc_port());
  auto health = client.get("/health");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.parsed()["status"], "ok");

  node->request_stop();
  EXPECT_EQ(node->wait_for_shutdown(), 0);
  node->stop();
}

TEST(Node, MissingHomeIsNotFound) {
  testing::TempDir dir;
  std::unique_ptr<Node> node;
  Status status = Node::open({(dir.path() / "absent").string(), std::nullopt, std::nullopt}, &node);
  EXPECT_TRUE(status.is_not_found());
  EXPECT_NE(status.message().find("automatad init"), std::string::npos) << status.message();
}

TEST(Node, CorruptConfigIsNamed) {
  testing::TempDir dir;
  InitOptions options;
  options.home = dir.str();
  ASSERT_TRUE(init_home(options).is_ok());
  std::ofstream(HomePaths::of(dir.str()).config) << "[rpc]\nthreads = \"many\"\n";
  std::unique_ptr<Node> node;
  Status status = Node::open({dir.str(), std::nullopt, std::nullopt}, &node);
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(status.message().find("rpc.threads"), std::string::npos) << status.message();
}

TEST(Node, BadRpcOverrideIsRejected) {
  testing::TempDir dir;
  InitOptions options;
  options.home = dir.str();
  ASSERT_TRUE(init_home(options).is_ok());
  std::unique_ptr<Node> node;
  Status status = Node::open({dir.str(), "nowhere", std::nullopt}, &node);
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(status.message().find("nowhere"), std::string::npos) << status.message();
}

TEST(DevHome, CreatesThenReuses) {
  testing::TempDir dir;
  DevOptions options;
  options.home = (dir.path() / "dev").string();
  options.keyring_dir = (dir.path() / "keyring").string();
  DevSetup setup;
  Status status = prepare_dev_home(options, &setup);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_TRUE(setup.created);

  crypto::Keyring keyring(options.keyring_dir);
  std::optional<crypto::PrivateKey> key;
  ASSERT_TRUE(keyring.load(kDevKeyName, "", &key).is_ok());
  EXPECT_EQ(crypto::address_of(key->public_key()), setup.dev_address);

  execution::Genesis genesis;
  ASSERT_TRUE(load_genesis(HomePaths::of(options.home).genesis, &genesis).is_ok());
  EXPECT_EQ(genesis.chain_id, kDevChainId);
  // The dev key first, then the validator, which pays for fragment
  // attestations.
  ASSERT_EQ(genesis.accounts.size(), 2u);
  EXPECT_EQ(genesis.accounts[0].address, setup.dev_address);
  EXPECT_TRUE(genesis.accounts[0].balances[0].second == kDevFunds);
  ASSERT_EQ(genesis.validators.size(), 1u);
  EXPECT_EQ(genesis.accounts[1].address, crypto::address_of(genesis.validators[0].pubkey));
  EXPECT_TRUE(genesis.accounts[1].balances[0].second == kValidatorFunds);

  // A block starts as soon as a tx waits, and the dev key, which has the
  // empty passphrase, opens without the full scrypt cost.
  NodeConfig config;
  ASSERT_TRUE(load_config(HomePaths::of(options.home).config, &config).is_ok());
  EXPECT_EQ(config.consensus.block_interval_ms, 1u);
  std::ifstream key_file(options.keyring_dir + "/" + kDevKeyName + ".json");
  auto key_json = nlohmann::json::parse(key_file);
  EXPECT_EQ(key_json["kdf_params"]["n"], crypto::kEmptyPassphraseScrypt.n);

  DevSetup again;
  ASSERT_TRUE(prepare_dev_home(options, &again).is_ok());
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.dev_address, setup.dev_address);

  options.reset = true;
  DevSetup reset;
  ASSERT_TRUE(prepare_dev_home(options, &reset).is_ok());
  EXPECT_TRUE(reset.created);
  EXPECT_NE(reset.dev_address, setup.dev_address);
}

}  // namespace
}  // namespace automata::node
