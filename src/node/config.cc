#include "automata/node/config.h"

#include "automata/p2p/network.h"
#include "automata/rpc/server.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <array>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

namespace automata::node {

namespace {

// One accepted key: where its value goes and the range it must be in.
struct KeySpec {
  std::string_view name;
  uint64_t* number = nullptr;
  std::string* text = nullptr;
  uint64_t min = 0;
  uint64_t max = UINT64_MAX;
};

struct SectionSpec {
  std::string_view name;
  std::vector<KeySpec> keys;
};

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    default: return "date or time";
  }
}

constexpr std::array<std::string_view, 7> kLogLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};

Status check_values(const NodeConfig& config, const std::string& source) {
  std::string host;
  uint16_t port = 0;
  Status address = rpc::parse_listen_address(config.rpc.laddr, &host, &port);
  if (!address.is_ok()) return Status::invalid_argument(fmt::format("{}: rpc.laddr: {}", source, address.message()));

  address = rpc::parse_listen_address(config.p2p.laddr, &host, &port);
  if (!address.is_ok()) return Status::invalid_argument(fmt::format("{}: p2p.laddr: {}", source, address.message()));
  for (const auto& entry : split_peers(config.p2p.persistent_peers)) {
    p2p::PeerAddress peer;
    Status parsed = p2p::parse_peer_address(entry, &peer);
    if (!parsed.is_ok()) {
      return Status::invalid_argument(fmt::format("{}: p2p.persistent_peers: {}", source, parsed.message()));
    }
  }

  bool known_level = false;
  for (auto level : kLogLevels) known_level = known_level || level == config.log_level;
  if (!known_level) {
    return Status::invalid_argument(fmt::format(
        "{}: log.level: \"{}\" is not one of trace, debug, info, warn, error, critical, off", source, config.log_level));
  }
  if (config.consensus.empty_block_interval_ms < config.consensus.block_interval_ms) {
    return Status::invalid_argument(
        fmt::format("{}: consensus.empty_block_interval_ms ({}) must be at least consensus.block_interval_ms ({})",
                    source, config.consensus.empty_block_interval_ms, config.consensus.block_interval_ms));
  }
  return Status::ok();
}

}  // namespace

std::vector<std::string> split_peers(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string entry = list.substr(start, comma - start);
    size_t first = entry.find_first_not_of(" \t");
    size_t last = entry.find_last_not_of(" \t");
    if (first != std::string::npos) out.push_back(entry.substr(first, last - first + 1));
    start = comma + 1;
  }
  return out;
}

Status parse_config(const std::string& text, const std::string& source, NodeConfig* config) {
  NodeConfig parsed;
  std::vector<SectionSpec> sections = {
      {"rpc",
       {{"laddr", nullptr, &parsed.rpc.laddr},
        {"max_body_bytes", &parsed.rpc.max_body_bytes, nullptr, 1024, uint64_t{1} << 30},
        {"threads", &parsed.rpc.threads, nullptr, 1, 256},
        {"read_timeout_ms", &parsed.rpc.read_timeout_ms, nullptr, 100, 3'600'000}}},
      {"mempool",
       {{"max_txs", &parsed.mempool.max_txs, nullptr, 1},
        {"max_bytes", &parsed.mempool.max_bytes, nullptr, 1024},
        {"max_nonce_gap", &parsed.mempool.max_nonce_gap}}},
      {"consensus",
       {{"block_interval_ms", &parsed.consensus.block_interval_ms, nullptr, 1, 3'600'000},
        {"empty_block_interval_ms", &parsed.consensus.empty_block_interval_ms, nullptr, 1, 86'400'000},
        {"create_empty_blocks_interval_ms", &parsed.consensus.empty_block_interval_ms, nullptr, 1, 86'400'000},
        {"timeout_propose_ms", &parsed.consensus.timeout_propose_ms, nullptr, 1, 3'600'000},
        {"timeout_propose_delta_ms", &parsed.consensus.timeout_propose_delta_ms, nullptr, 0, 3'600'000},
        {"timeout_prevote_ms", &parsed.consensus.timeout_prevote_ms, nullptr, 1, 3'600'000},
        {"timeout_prevote_delta_ms", &parsed.consensus.timeout_prevote_delta_ms, nullptr, 0, 3'600'000},
        {"timeout_precommit_ms", &parsed.consensus.timeout_precommit_ms, nullptr, 1, 3'600'000},
        {"timeout_precommit_delta_ms", &parsed.consensus.timeout_precommit_delta_ms, nullptr, 0, 3'600'000}}},
      {"p2p",
       {{"laddr", nullptr, &parsed.p2p.laddr},
        {"persistent_peers", nullptr, &parsed.p2p.persistent_peers},
        {"max_peers", &parsed.p2p.max_peers, nullptr, 1, 10'000},
        {"max_per_ip", &parsed.p2p.max_per_ip, nullptr, 1, 10'000},
        {"recv_rate", &parsed.p2p.recv_rate, nullptr, 1024}}},
      {"storage", {{"keep_state_versions", &parsed.storage.keep_state_versions, nullptr, 1}}},
      {"log", {{"level", nullptr, &parsed.log_level}}},
  };

  toml::table root;
  try {
    root = toml::parse(text, std::string_view(source));
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    return Status::invalid_argument(
        fmt::format("{}:{}:{}: invalid TOML: {}", source, begin.line, begin.column, error.description()));
  }

  for (const auto& [section_key, section_node] : root) {
    std::string_view section_name = section_key.str();
    const SectionSpec* section = nullptr;
    for (const auto& candidate : sections) {
      if (candidate.name == section_name) section = &candidate;
    }
    if (section == nullptr) {
      return Status::invalid_argument(fmt::format(
          "{}: unknown key \"{}\" (sections: rpc, mempool, consensus, p2p, storage, log)", source, section_name));
    }
    const toml::table* table = section_node.as_table();
    if (table == nullptr) {
      return Status::invalid_argument(
          fmt::format("{}: {}: expected a [{}] table, got {}", source, section_name, section_name, type_name(section_node)));
    }
    for (const auto& [key, node] : *table) {
      std::string_view key_name = key.str();
      const KeySpec* spec = nullptr;
      for (const auto& candidate : section->keys) {
        if (candidate.name == key_name) spec = &candidate;
      }
      if (spec == nullptr) {
        std::string names;
        for (const auto& candidate : section->keys) names += (names.empty() ? "" : ", ") + std::string(candidate.name);
        return Status::invalid_argument(
            fmt::format("{}: unknown key \"{}.{}\" (keys of [{}]: {})", source, section_name, key_name, section_name, names));
      }
      std::string where = fmt::format("{}: {}.{}", source, section_name, key_name);
      if (spec->text != nullptr) {
        auto value = node.value<std::string>();
        if (!node.is_string() || !value) {
          return Status::invalid_argument(fmt::format("{}: expected a string, got {}", where, type_name(node)));
        }
        *spec->text = *value;
        continue;
      }
      if (!node.is_integer()) {
        return Status::invalid_argument(fmt::format("{}: expected an integer, got {}", where, type_name(node)));
      }
      int64_t value = node.as_integer()->get();
      if (value < 0 || static_cast<uint64_t>(value) < spec->min || static_cast<uint64_t>(value) > spec->max) {
        return Status::invalid_argument(
            fmt::format("{}: {} is out of range [{}, {}]", where, value, spec->min, spec->max));
      }
      *spec->number = static_cast<uint64_t>(value);
    }
  }

  Status valid = check_values(parsed, source);
  if (!valid.is_ok()) return valid;
  *config = parsed;
  return Status::ok();
}

Status load_config(const std::string& path, NodeConfig* config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(fmt::format("cannot read config file {}", path));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::io_error(fmt::format("cannot read config file {}", path));
  return parse_config(text.str(), path, config);
}

std::string render_config(const NodeConfig& config) {
  return fmt::format(
      R"(# Automata node configuration. Chain-wide settings live in genesis.json.
# Every key is optional; a missing key takes the default shown here.

[rpc]
# JSON-RPC listen address, HOST:PORT. Keep it on loopback unless a proxy
# with authentication sits in front of it.
laddr = "{}"
# Largest accepted request body in bytes; larger bodies get HTTP 413.
max_body_bytes = {}
# Threads serving HTTP connections.
threads = {}
# A connection that sends no complete request for this long is closed.
read_timeout_ms = {}

[mempool]
# Maximum number of pooled transactions, executable and held together.
max_txs = {}
# Maximum total size of pooled transactions in bytes.
max_bytes = {}
# How far above an account's next nonce a transaction may be held.
max_nonce_gap = {}

[consensus]
# Minimum time between two blocks in milliseconds.
block_interval_ms = {}
# An empty block is produced after this many milliseconds without
# transactions (CometBFT's create_empty_blocks_interval). The key
# create_empty_blocks_interval_ms sets the same value.
empty_block_interval_ms = {}
# Timeout of each consensus step in round r: base + r * delta, in
# milliseconds. Rounds slow down until messages arrive in time.
timeout_propose_ms = {}
timeout_propose_delta_ms = {}
timeout_prevote_ms = {}
timeout_prevote_delta_ms = {}
timeout_precommit_ms = {}
timeout_precommit_delta_ms = {}

[p2p]
# P2P listen address, HOST:PORT. Use a routable address only for a
# validator that must be reachable from other hosts.
laddr = "{}"
# Comma-separated peers to keep connected, "<node pubkey hex>@host:port".
# The node public key is in the peer's node_key.json.
persistent_peers = "{}"
# Maximum connected peers, inbound and outbound.
max_peers = {}
# Maximum connections from or to one IP address. A localnet with every
# node on 127.0.0.1 needs at least the number of nodes.
max_per_ip = {}
# Bytes per second read from one peer; a faster peer is paused.
recv_rate = {}

[storage]
# Number of recent heights whose state stays readable (account_get and
# state_proof at a height). Older versions are pruned.
keep_state_versions = {}

[log]
# trace, debug, info, warn, error, critical or off.
level = "{}"
)",
      config.rpc.laddr, config.rpc.max_body_bytes, config.rpc.threads, config.rpc.read_timeout_ms,
      config.mempool.max_txs, config.mempool.max_bytes, config.mempool.max_nonce_gap,
      config.consensus.block_interval_ms, config.consensus.empty_block_interval_ms,
      config.consensus.timeout_propose_ms, config.consensus.timeout_propose_delta_ms,
      config.consensus.timeout_prevote_ms, config.consensus.timeout_prevote_delta_ms,
      config.consensus.timeout_precommit_ms, config.consensus.timeout_precommit_delta_ms, config.p2p.laddr,
      config.p2p.persistent_peers, config.p2p.max_peers, config.p2p.max_per_ip, config.p2p.recv_rate,
      config.storage.keep_state_versions, config.log_level);
}

}  // namespace automata::node
