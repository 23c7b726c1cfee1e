// config.toml: the node settings that are not part of the chain's genesis.
#pragma once

#include "automata/types/status.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace automata::node {

struct RpcConfig {
  std::string laddr = "127.0.0.1:7701";  // HOST:PORT
  uint64_t max_body_bytes = 1 << 20;
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
  uint64_t empty_block_interval_ms = 5000;  // an empty block after this much quiet
};

struct StorageConfig {
  uint64_t keep_state_versions = 1000;
};

struct NodeConfig {
  RpcConfig rpc;
  MempoolSettings mempool;
  ConsensusConfig consensus;
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

// config.toml text for config, with a comment on every key.
std::string render_config(const NodeConfig& config);

}  // namespace automata::node
