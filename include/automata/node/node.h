// The node process: opens a home directory, then wires the Chain, the
// mempool, the P2P network, the consensus driver and the JSON-RPC server
// together and runs them until a shutdown signal or a fatal error.
#pragma once

#include "automata/types/status.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace automata::node {

inline constexpr const char* kVersion = "0.1.0";

struct StartOptions {
  std::string home;
  std::optional<std::string> rpc_laddr;  // overrides config.toml [rpc] laddr
  std::optional<std::string> log_level;  // overrides config.toml [log] level
  // Runs the P2P network. Off for the dev chain, which has no peers.
  bool enable_p2p = true;
};

// Blocks SIGINT and SIGTERM in the calling thread and in every thread it
// creates afterwards, so that wait_for_shutdown() receives them. Call it
// first in main(), before any thread starts.
void block_shutdown_signals();

class Node {
 public:
  // Loads config.toml, genesis.json and validator_key.json from the home,
  // opens the chain database and builds every service without starting
  // them. Returns not_found when the home is not initialized, and the
  // loader's error (naming the file and key) for a bad file.
  static Status open(const StartOptions& options, std::unique_ptr<Node>* out);

  ~Node();  // calls stop()

  // Starts the RPC server, the P2P network and the consensus driver.
  // Returns unavailable naming the address when the RPC port is in use,
  // and the network's error when the P2P address cannot be bound.
  Status start();

  // The RPC base URL, "http://HOST:PORT", valid after start().
  std::string rpc_url() const;
  uint16_t rpc_port() const;

  // Blocks until SIGINT or SIGTERM arrives (see block_shutdown_signals) or a
  // fatal producer error. Returns 0 for a signal and 1 for a fatal error.
  int wait_for_shutdown();

  // Stops accepting RPC, stops the network, finishes the block in
  // progress, stops consensus and closes the database, then logs
  // "stopped". Idempotent.
  void stop();

  // Makes wait_for_shutdown() return, as a signal would. Thread-safe.
  void request_stop();

 private:
  struct Services;
  Node() = default;

  std::unique_ptr<Services> services_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> failed_{false};
  bool stopped_ = false;
};

}  // namespace automata::node
