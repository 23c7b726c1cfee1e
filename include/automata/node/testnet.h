// `automatad testnet`: the homes of an N-validator chain on one machine,
// for a localnet script and multi-process tests.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace automata::node {

struct TestnetOptions {
  std::string out_dir;               // DIR; homes go to DIR/node0 ... DIR/node<N-1>
  size_t validators = 4;             // N, 1 to 100
  uint16_t base_port = 26600;        // node i: RPC base+2i, P2P base+2i+1
  std::string chain_id = "automata-localnet";
  uint64_t genesis_time_ms = 0;      // 0: the current time
  // Consensus timeouts written to every config.toml, in milliseconds.
  uint64_t timeout_propose_ms = 1000;
  uint64_t timeout_prevote_ms = 500;
  uint64_t timeout_precommit_ms = 500;
  uint64_t empty_block_interval_ms = 1000;
};

struct TestnetNode {
  std::string home;
  std::string rpc_laddr;  // 127.0.0.1:PORT
  std::string p2p_laddr;
  crypto::PublicKey validator_pubkey{};
  crypto::PublicKey node_pubkey{};
};

struct TestnetSetup {
  std::vector<TestnetNode> nodes;
  std::string dev_key_path;  // DIR/dev.json, the funded account's key
  crypto::PublicKey dev_pubkey{};
};

// Writes N homes sharing one genesis: every node a validator with power 1,
// a fresh "dev" account funded with kDevFunds atm whose key is written to
// DIR/dev.json (key file format of home.h), and each config.toml listing
// the other nodes as persistent peers on 127.0.0.1. Returns
// invalid_argument for N outside 1..100, a port range past 65535, or a
// DIR that already contains a node0 home; io_error naming the path when a
// write fails.
Status init_testnet(const TestnetOptions& options, TestnetSetup* setup);

}  // namespace automata::node
