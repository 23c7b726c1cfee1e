#include "automata/node/testnet.h"

#include "automata/crypto/bech32.h"
#include "automata/node/config.h"
#include "automata/node/dev.h"
#include "automata/node/genesis_file.h"
#include "automata/node/fragment_attest.h"
#include "automata/node/home.h"
#include "automata/p2p/network.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace automata::node {

namespace fs = std::filesystem;

namespace {

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::io_error(fmt::format("cannot write {}", path));
  return Status::ok();
}

}  // namespace

Status init_testnet(const TestnetOptions& options, TestnetSetup* setup) {
  if (options.validators < 1 || options.validators > 100) {
    return Status::invalid_argument(
        fmt::format("--validators {} is out of range: a testnet has 1 to 100 validators", options.validators));
  }
  uint64_t last_port = uint64_t{options.base_port} + 2 * options.validators - 1;
  if (options.base_port == 0 || last_port > 65535) {
    return Status::invalid_argument(fmt::format(
        "--base-port {}: the {} nodes need ports {} to {}, which must lie within 1..65535", options.base_port,
        options.validators, options.base_port, last_port));
  }
  if (home_initialized((fs::path(options.out_dir) / "node0").string())) {
    return Status::invalid_argument(
        fmt::format("{} already contains a testnet (node0/config.toml exists); choose an empty directory",
                    options.out_dir));
  }

  uint64_t genesis_time = options.genesis_time_ms;
  if (genesis_time == 0) {
    genesis_time = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  }
  auto dev_key = crypto::PrivateKey::generate();
  execution::Genesis genesis;
  genesis.chain_id = options.chain_id;
  genesis.genesis_time_ms = genesis_time;
  execution::GenesisAccount dev_account;
  dev_account.address = crypto::address_of(dev_key.public_key());
  dev_account.balances.emplace_back(execution::kNativeDenom, kDevFunds);
  genesis.accounts.push_back(dev_account);

  TestnetSetup result;
  std::vector<crypto::PrivateKey> validator_keys;
  std::vector<crypto::PrivateKey> node_keys;
  for (size_t i = 0; i < options.validators; ++i) {
    validator_keys.push_back(crypto::PrivateKey::generate());
    node_keys.push_back(crypto::PrivateKey::generate());
    execution::GenesisValidator validator;
    validator.pubkey = validator_keys.back().public_key();
    validator.power = 1;
    validator.name = fmt::format("node{}", i);
    genesis.validators.push_back(validator);
    // The validator pays the fees of the ModelAttest txs its fragment
    // worker submits.
    execution::GenesisAccount validator_account;
    validator_account.address = crypto::address_of(validator.pubkey);
    validator_account.balances.emplace_back(execution::kNativeDenom, kValidatorFunds);
    genesis.accounts.push_back(validator_account);

    TestnetNode node;
    node.home = (fs::path(options.out_dir) / fmt::format("node{}", i)).string();
    node.rpc_laddr = fmt::format("127.0.0.1:{}", options.base_port + 2 * i);
    node.p2p_laddr = fmt::format("127.0.0.1:{}", options.base_port + 2 * i + 1);
    node.validator_pubkey = validator.pubkey;
    node.node_pubkey = node_keys.back().public_key();
    result.nodes.push_back(node);
  }
  std::string invalid = execution::validate_genesis(genesis);
  if (!invalid.empty()) return Status::invalid_argument("genesis: " + invalid);
  std::string genesis_text = render_genesis(genesis);

  for (size_t i = 0; i < options.validators; ++i) {
    const auto& node = result.nodes[i];
    auto paths = HomePaths::of(node.home);
    std::error_code ec;
    fs::create_directories(paths.data, ec);
    if (ec) return Status::io_error(fmt::format("cannot create {}: {}", paths.data, ec.message()));

    NodeConfig config;
    config.rpc.laddr = node.rpc_laddr;
    config.p2p.laddr = node.p2p_laddr;
    std::string peers;
    for (size_t j = 0; j < options.validators; ++j) {
      if (j == i) continue;
      p2p::PeerAddress peer{result.nodes[j].node_pubkey, "127.0.0.1",
                            static_cast<uint16_t>(options.base_port + 2 * j + 1)};
      peers += (peers.empty() ? "" : ",") + peer.to_string();
    }
    config.p2p.persistent_peers = peers;
    // Every node shares the loopback address, and each pair may hold an
    // inbound and an outbound connection for a moment.
    config.p2p.max_per_ip = 2 * options.validators + 2;
    config.consensus.timeout_propose_ms = options.timeout_propose_ms;
    config.consensus.timeout_prevote_ms = options.timeout_prevote_ms;
    config.consensus.timeout_precommit_ms = options.timeout_precommit_ms;
    config.consensus.empty_block_interval_ms = options.empty_block_interval_ms;

    Status status = write_key_file(paths.validator_key, validator_keys[i]);
    if (status.is_ok()) status = write_key_file(paths.node_key, node_keys[i]);
    if (status.is_ok()) status = write_text(paths.genesis, genesis_text);
    // config.toml goes last: its presence marks the home as initialized.
    if (status.is_ok()) status = write_text(paths.config, render_config(config));
    if (!status.is_ok()) return status;
  }

  result.dev_key_path = (fs::path(options.out_dir) / "dev.json").string();
  result.dev_pubkey = dev_key.public_key();
  Status status = write_key_file(result.dev_key_path, dev_key);
  if (!status.is_ok()) return status;
  *setup = std::move(result);
  return Status::ok();
}

}  // namespace automata::node
