// automatad: the Automata node. Subcommands: init, start, dev, testnet,
// version.
#include "automata/crypto/bech32.h"
#include "automata/crypto/keyring.h"
#include "automata/node/dev.h"
#include "automata/node/home.h"
#include "automata/node/node.h"
#include "automata/node/testnet.h"
#include "automata/types/logging.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace {

using automata::Status;

int fail(const std::string& message) {
  std::cerr << "automatad: " << message << "\n";
  return 1;
}

// Opens and runs the node in home until SIGINT, SIGTERM or a fatal error.
// on_ready prints extra lines once RPC is listening.
int run_node(const automata::node::StartOptions& options, const std::function<void(const std::string&)>& on_ready) {
  std::unique_ptr<automata::node::Node> node;
  Status status = automata::node::Node::open(options, &node);
  if (!status.is_ok()) return fail(status.to_string());
  status = node->start();
  if (!status.is_ok()) {
    node->stop();
    return fail(status.to_string());
  }
  std::cout << "rpc listening on " << node->rpc_url() << "\n";
  if (on_ready) on_ready(node->rpc_url());
  std::cout.flush();
  int code = node->wait_for_shutdown();
  node->stop();
  return code;
}

std::string default_dev_home() {
  const char* home = std::getenv("HOME");
  std::filesystem::path base = home != nullptr && *home != '\0' ? home : ".";
  return (base / ".automata" / "dev").string();
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the mask and
  // the main thread receives the shutdown signals.
  automata::node::block_shutdown_signals();

  CLI::App app{"automatad: the Automata blockchain node"};
  app.require_subcommand(1);

  std::string home;
  std::string chain_id = "automata-local";
  std::string moniker = "node0";
  bool force = false;
  std::vector<std::string> funds;
  auto* init = app.add_subcommand("init", "Write config.toml, genesis.json and keys for a new one-validator chain");
  init->add_option("--home", home, "Home directory to create")->required();
  init->add_option("--chain-id", chain_id, "Chain id: 1-50 characters of a-z, 0-9 and -")->capture_default_str();
  init->add_option("--moniker", moniker, "Name of this validator in genesis")->capture_default_str();
  init->add_flag("--force", force, "Overwrite an initialized home and delete its chain data");
  init->add_option("--fund", funds, "Genesis balance ADDRESS=AMOUNT in atm, e.g. atm1...=1000atm (repeatable)");

  std::optional<std::string> rpc_laddr;
  std::optional<std::string> log_level;
  auto* start = app.add_subcommand("start", "Run the node from an initialized home");
  start->add_option("--home", home, "Home directory written by init")->required();
  start->add_option("--rpc-laddr", rpc_laddr, "JSON-RPC listen address HOST:PORT (overrides config.toml)");
  start->add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off");

  bool reset = false;
  auto* dev = app.add_subcommand("dev", "Run a one-validator dev chain with a funded \"dev\" key in the CLI keyring");
  dev->add_option("--home", home, "Dev home directory (default $HOME/.automata/dev)");
  dev->add_option("--rpc-laddr", rpc_laddr, "JSON-RPC listen address HOST:PORT (overrides config.toml)");
  dev->add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off");
  dev->add_flag("--reset", reset, "Delete the dev chain and replace the keyring's \"dev\" key");

  automata::node::TestnetOptions testnet_options;
  auto* testnet = app.add_subcommand(
      "testnet", "Write the homes of an N-validator chain on 127.0.0.1 that share one genesis and a funded dev key");
  testnet->add_option("--validators", testnet_options.validators, "Number of validators, 1 to 100")
      ->capture_default_str();
  testnet->add_option("--out", testnet_options.out_dir, "Directory for node0 ... nodeN-1 and dev.json")->required();
  testnet->add_option("--base-port", testnet_options.base_port,
                      "First port; node i uses RPC port base+2i and P2P port base+2i+1")
      ->capture_default_str();
  testnet->add_option("--chain-id", testnet_options.chain_id, "Chain id")->capture_default_str();

  auto* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }

  if (version->parsed()) {
    std::cout << "automatad " << automata::node::kVersion << "\n";
    return 0;
  }

  if (init->parsed()) {
    automata::node::InitOptions options;
    options.home = home;
    options.chain_id = chain_id;
    options.moniker = moniker;
    options.force = force;
    for (const auto& fund : funds) {
      Status added = automata::node::add_fund_flag(fund, &options.funded);
      if (!added.is_ok()) return fail(added.message());
    }
    std::optional<automata::crypto::PrivateKey> key;
    Status status = automata::node::init_home(options, &key);
    if (!status.is_ok()) return fail(status.to_string());
    std::cout << "initialized " << home << " for chain " << chain_id << "\n"
              << "validator address " << automata::crypto::encode_address(automata::crypto::address_of(key->public_key()))
              << "\n"
              << "start it with: automatad start --home " << home << "\n";
    return 0;
  }

  if (testnet->parsed()) {
    automata::node::TestnetSetup setup;
    Status status = automata::node::init_testnet(testnet_options, &setup);
    if (!status.is_ok()) return fail(status.to_string());
    for (const auto& node : setup.nodes) {
      std::cout << node.home << ": rpc " << node.rpc_laddr << ", p2p " << node.p2p_laddr << "\n";
    }
    std::cout << "funded dev key: " << setup.dev_key_path << " ("
              << automata::crypto::encode_address(automata::crypto::address_of(setup.dev_pubkey)) << ")\n"
              << "start each node with: automatad start --home " << testnet_options.out_dir << "/node<i>\n";
    return 0;
  }

  if (start->parsed()) {
    return run_node({home, rpc_laddr, log_level}, nullptr);
  }

  // dev
  automata::node::DevOptions options;
  options.home = home.empty() ? default_dev_home() : home;
  options.keyring_dir = automata::crypto::Keyring::default_dir();
  options.reset = reset;
  automata::node::DevSetup setup;
  Status status = automata::node::prepare_dev_home(options, &setup);
  if (!status.is_ok()) return fail(status.to_string());
  std::string dev_address = automata::crypto::encode_address(setup.dev_address);
  if (setup.created) {
    std::cout << "created dev chain " << automata::node::kDevChainId << " in " << options.home << "\n";
  } else {
    std::cout << "reusing dev chain in " << options.home << " (pass --reset to start over)\n";
  }
  automata::node::StartOptions dev_start{options.home, rpc_laddr, log_level};
  dev_start.enable_p2p = false;
  return run_node(dev_start, [&](const std::string& rpc_url) {
    // The CLI's default node is http://127.0.0.1:7701; any other address
    // has to be named.
    std::string node_flag =
        rpc_url == "http://127.0.0.1:7701" || rpc_url == "http://127.0.0.1:7701/" ? "" : "--node " + rpc_url + " ";
    std::cout << "dev account \"" << automata::node::kDevKeyName << "\": " << dev_address << " (keyring "
              << options.keyring_dir << ")\n"
              << "try: automata " << node_flag << "tx send dev <address> 1000atm --wait\n";
  });
}
