// config.toml: the node settings that are not part of the chain's genesis.
#pragma once

#include "automata/types/status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace automata::node {

struct RpcConfig {
  std::string laddr = "127.0.0.1:7701";  // HOST:PORT
  uint64_t max_body_bytes = 4 << 20;
  uint64_t threads = 2;
  uint64_t read_timeout_ms = 30'000;
};

struct MempoolSettings {
  uint64_t max_txs = 50'000;
  uint64_t max_bytes = 64u << 20;
  uint64_t max_nonce_gap = 64;
};

struct ConsensusConfig {
  uint64_t block_interval_ms = 100;         // minimum time between two blocks
  // An empty block after this much quiet (CometBFT's
  // create_empty_blocks_interval; config key empty_block_interval_ms or
  // create_empty_blocks_interval_ms).
  uint64_t empty_block_interval_ms = 5000;
  // Timeout of a step in round r: base + r * delta, in milliseconds.
  uint64_t timeout_propose_ms = 3000;
  uint64_t timeout_propose_delta_ms = 500;
  uint64_t timeout_prevote_ms = 1000;
  uint64_t timeout_prevote_delta_ms = 500;
  uint64_t timeout_precommit_ms = 1000;
  uint64_t timeout_precommit_delta_ms = 500;
};

struct P2pConfig {
  std::string laddr = "127.0.0.1:7702";  // HOST:PORT to listen on
  // Comma-separated "<node pubkey hex>@host:port" entries, dialed at start
  // and redialed after a disconnect.
  std::string persistent_peers;
  uint64_t max_peers = 50;
  uint64_t max_per_ip = 4;
  uint64_t recv_rate = 10u << 20;  // bytes per second read from one peer
};

struct StorageConfig {
  uint64_t keep_state_versions = 1000;
};

struct NodeConfig {
  RpcConfig rpc;
  MempoolSettings mempool;
  ConsensusConfig consensus;
  P2pConfig p2p;
  StorageConfig storage;
  std::string log_level = "info";
};

// Parses config.toml text. Missing keys keep their defaults. Returns
// invalid_argument naming the source and the key for a syntax error, an
// unknown section or key, a value of the wrong type, or a value out of
// range.
Status parse_config(const std::string& text, const std::string& source, NodeConfig* config);

// Reads and parses a config file; io_error naming the path when unreadable.
Status load_config(const std::string& path, NodeConfig* config);

// The entries of a comma-separated persistent_peers value, trimmed, with
// empty entries dropped.
std::vector<std::string> split_peers(const std::string& list);

// config.toml text for config, with a comment on every key.
std::string render_config(const NodeConfig& config);

}  // namespace automata::node
