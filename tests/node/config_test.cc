// config.toml and genesis.json parsing, and their error messages.
#include "automata/crypto/bech32.h"
#include "automata/crypto/keys.h"
#include "automata/node/config.h"
#include "automata/node/genesis_file.h"
#include "node_test_util.h"

#include <gtest/gtest.h>

#include <fstream>

namespace automata::node {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Config, EmptyFileKeepsDefaults) {
  NodeConfig config;
  config.rpc.threads = 99;
  ASSERT_TRUE(parse_config("", "config.toml", &config).is_ok());
  EXPECT_EQ(config.rpc.laddr, "127.0.0.1:7701");
  EXPECT_EQ(config.rpc.max_body_bytes, 4u << 20);
  EXPECT_EQ(config.rpc.threads, 2u);
  EXPECT_EQ(config.consensus.block_interval_ms, 100u);
  EXPECT_EQ(config.consensus.empty_block_interval_ms, 5000u);
  EXPECT_EQ(config.log_level, "info");
}

TEST(Config, ReadsEverySection) {
  std::string text = R"(
[rpc]
laddr = "127.0.0.1:9000"
max_body_bytes = 4096
threads = 3
[mempool]
max_txs = 10
max_bytes = 2048
[consensus]
block_interval_ms = 20
empty_block_interval_ms = 40
[storage]
keep_state_versions = 7
[log]
level = "debug"
)";
  NodeConfig config;
  Status status = parse_config(text, "config.toml", &config);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(config.rpc.laddr, "127.0.0.1:9000");
  EXPECT_EQ(config.rpc.max_body_bytes, 4096u);
  EXPECT_EQ(config.rpc.threads, 3u);
  EXPECT_EQ(config.mempool.max_txs, 10u);
  EXPECT_EQ(config.mempool.max_bytes, 2048u);
  EXPECT_EQ(config.consensus.block_interval_ms, 20u);
  EXPECT_EQ(config.consensus.empty_block_interval_ms, 40u);
  EXPECT_EQ(config.storage.keep_state_versions, 7u);
  EXPECT_EQ(config.log_level, "debug");
}

TEST(Config, RenderedTextParsesBack) {
  NodeConfig original;
  original.rpc.laddr = "127.0.0.1:1234";
  original.mempool.max_txs = 77;
  original.consensus.block_interval_ms = 250;
  original.log_level = "warn";
  NodeConfig parsed;
  Status status = parse_config(render_config(original), "rendered", &parsed);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(parsed.rpc.laddr, "127.0.0.1:1234");
  EXPECT_EQ(parsed.mempool.max_txs, 77u);
  EXPECT_EQ(parsed.consensus.block_interval_ms, 250u);
  EXPECT_EQ(parsed.log_level, "warn");
}

TEST(Config, ErrorsNameFileAndKey) {
  struct Case {
    std::string text;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"[rpc]\nlsten = \"x\"\n", "rpc.lsten"},
      {"[metrics]\nport = 1\n", "\"metrics\""},
      {"[p2p]\nport = 1\n", "\"p2p.port\""},
      {"[p2p]\nladdr = \"nohost\"\n", "p2p.laddr"},
      {"[p2p]\npersistent_peers = \"abc@127.0.0.1:1\"\n", "p2p.persistent_peers"},
      {"[rpc]\nthreads = \"two\"\n", "rpc.threads: expected an integer, got string"},
      {"[rpc]\nladdr = 5\n", "rpc.laddr: expected a string, got integer"},
      {"[rpc]\nthreads = 0\n", "rpc.threads: 0 is out of range"},
      {"[mempool]\nmax_txs = -5\n", "mempool.max_txs"},
      {"[log]\nlevel = \"loud\"\n", "log.level"},
      {"[rpc]\nladdr = \"localhost\"\n", "rpc.laddr"},
      {"[consensus]\nblock_interval_ms = 500\nempty_block_interval_ms = 100\n", "empty_block_interval_ms"},
      {"rpc = 3\n", "rpc: expected a [rpc] table"},
      {"[rpc\n", "invalid TOML"},
  };
  for (const auto& test_case : cases) {
    NodeConfig config;
    Status status = parse_config(test_case.text, "/home/x/config.toml", &config);
    EXPECT_FALSE(status.is_ok()) << test_case.text;
    EXPECT_TRUE(contains(status.message(), "/home/x/config.toml")) << status.message();
    EXPECT_TRUE(contains(status.message(), test_case.expected)) << status.message();
  }
}

TEST(Config, MissingFileIsIoError) {
  NodeConfig config;
  Status status = load_config("/nonexistent/automata/config.toml", &config);
  EXPECT_EQ(status.kind(), Status::Kind::kIoError);
  EXPECT_TRUE(contains(status.message(), "/nonexistent/automata/config.toml"));
}

execution::Genesis sample_genesis() {
  execution::Genesis genesis;
  genesis.chain_id = "sample-1";
  genesis.genesis_time_ms = 1'700'000'000'123;
  genesis.params.min_gas_price = 3;
  execution::GenesisValidator validator;
  validator.pubkey = crypto::PrivateKey::generate().public_key();
  validator.power = 5;
  validator.name = "v0";
  genesis.validators.push_back(validator);
  execution::GenesisAccount account;
  account.address = crypto::address_of(crypto::PrivateKey::generate().public_key());
  account.balances.emplace_back("atm", kMaxAmount);
  account.balances.emplace_back("gold", 42);
  genesis.accounts.push_back(account);
  return genesis;
}

TEST(Genesis, RenderedJsonParsesBack) {
  auto genesis = sample_genesis();
  execution::Genesis parsed;
  Status status = parse_genesis(render_genesis(genesis), "genesis.json", &parsed);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(parsed.chain_id, genesis.chain_id);
  EXPECT_EQ(parsed.genesis_time_ms, genesis.genesis_time_ms);
  EXPECT_EQ(parsed.params.min_gas_price, 3u);
  EXPECT_EQ(parsed.params.max_block_txs, genesis.params.max_block_txs);
  ASSERT_EQ(parsed.validators.size(), 1u);
  EXPECT_EQ(parsed.validators[0].pubkey, genesis.validators[0].pubkey);
  EXPECT_EQ(parsed.validators[0].power, 5u);
  EXPECT_EQ(parsed.validators[0].name, "v0");
  ASSERT_EQ(parsed.accounts.size(), 1u);
  EXPECT_EQ(parsed.accounts[0].address, genesis.accounts[0].address);
  ASSERT_EQ(parsed.accounts[0].balances.size(), 2u);
  EXPECT_TRUE(parsed.accounts[0].balances[0].second == kMaxAmount);
  EXPECT_EQ(parsed.accounts[0].balances[1].first, "gold");
}

TEST(Genesis, AcceptsCommentsAndDefaultsParams) {
  std::string pubkey = to_hex(crypto::PrivateKey::generate().public_key());
  std::string text = R"({
    // the chain id
    "chain_id": "c-1", "genesis_time_ms": 1,
    "validators": [{"pubkey": ")" + pubkey + R"(", "power": 1, "name": "a"}],
    /* no funded accounts */
    "accounts": []
  })";
  execution::Genesis genesis;
  Status status = parse_genesis(text, "genesis.json", &genesis);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(genesis.params.min_gas_price, execution::ChainParameters{}.min_gas_price);
}

TEST(Genesis, ErrorsNameJsonPath) {
  std::string address = crypto::encode_address(Address{});
  std::string pubkey = to_hex(crypto::PrivateKey::generate().public_key());
  std::string validators = R"("validators": [{"pubkey": ")" + pubkey + R"(", "power": 1, "name": "a"}])";
  struct Case {
    std::string text;
    std::string expected;
  };
  std::vector<Case> cases = {
      {R"({"genesis_time_ms": 1, )" + validators + R"(, "accounts": []})", "chain_id: missing required key"},
      {R"({"chain_id": 5, "genesis_time_ms": 1, )" + validators + R"(, "accounts": []})",
       "chain_id: expected a string, got number"},
      {R"({"chain_id": "c", "genesis_time_ms": -1, )" + validators + R"(, "accounts": []})", "genesis_time_ms"},
      {R"({"chain_id": "c", "genesis_time_ms": 1, "extra": 1, )" + validators + R"(, "accounts": []})",
       "extra: unknown key"},
      {R"({"chain_id": "c", "genesis_time_ms": 1, "params": {"min_gas_price": "1"}, )" + validators +
           R"(, "accounts": []})",
       "params.min_gas_price"},
      {R"({"chain_id": "c", "genesis_time_ms": 1, "validators": [{"pubkey": "abcd", "power": 1, "name": "a"}],
          "accounts": []})",
       "validators[0].pubkey"},
      {R"({"chain_id": "c", "genesis_time_ms": 1, )" + validators + R"(, "accounts": [{"address": "atm1bad",
          "balances": []}]})",
       "accounts[0].address"},
      {R"({"chain_id": "c", "genesis_time_ms": 1, )" + validators + R"(, "accounts": [{"address": ")" + address +
           R"(", "balances": [{"denom": "atm", "amount": "5"}, {"denom": "atm", "amount": 5}]}]})",
       "accounts[0].balances[1].amount: expected a string"},
      {R"({"chain_id": "c", "genesis_time_ms": 1, )" + validators + R"(, "accounts": [{"address": ")" + address +
           R"(", "balances": [{"denom": "atm", "amount": "007"}]}]})",
       "accounts[0].balances[0].amount: \"007\""},
      {R"({"chain_id": "c", )", "invalid JSON"},
  };
  for (const auto& test_case : cases) {
    execution::Genesis genesis;
    Status status = parse_genesis(test_case.text, "net/genesis.json", &genesis);
    EXPECT_FALSE(status.is_ok()) << test_case.text;
    EXPECT_TRUE(contains(status.message(), "net/genesis.json")) << status.message();
    EXPECT_TRUE(contains(status.message(), test_case.expected)) << status.message();
  }
}

TEST(Genesis, LoadRunsValidation) {
  testing::TempDir dir;
  auto genesis = sample_genesis();
  genesis.chain_id = "Bad Chain";
  std::string path = (dir.path() / "genesis.json").string();
  std::ofstream(path) << render_genesis(genesis);
  execution::Genesis loaded;
  Status status = load_genesis(path, &loaded);
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_TRUE(contains(status.message(), path)) << status.message();
  EXPECT_TRUE(contains(status.message(), "Bad Chain")) << status.message();
}

}  // namespace
}  // namespace automata::node

namespace automata::node {
namespace {

// The commented examples in config/ must stay loadable.
TEST(ExampleFiles, ConfigAndGenesisLoad) {
  std::string config_dir = std::string(AUTOMATA_TESTDATA_DIR) + "/../../config";
  NodeConfig config;
  Status status = load_config(config_dir + "/config.toml", &config);
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  execution::Genesis genesis;
  status = load_genesis(config_dir + "/genesis.json", &genesis);
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(genesis.chain_id, "automata-local");
}

}  // namespace
}  // namespace automata::node
