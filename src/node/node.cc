#include "automata/node/node.h"

#include "automata/crypto/bech32.h"
#include "automata/execution/chain.h"
#include "automata/mempool/mempool.h"
#include "automata/node/consensus_driver.h"
#include "automata/node/evidence_pool.h"
#include "automata/node/config.h"
#include "automata/node/fragment_exchange.h"
#include "automata/node/fragment_rpc.h"
#include "automata/node/fragment_store.h"
#include "automata/node/fragment_worker.h"
#include "automata/node/genesis_file.h"
#include "automata/node/home.h"
#include "automata/rpc/handler.h"
#include "automata/rpc/metrics.h"
#include "automata/p2p/network.h"
#include "automata/rpc/server.h"
#include "automata/types/logging.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <ctime>
#include <filesystem>

namespace automata::node {

namespace {

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void block_shutdown_signals() {
  sigset_t set = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

rpc::VoteSummary vote_summary(const consensus::Vote& vote) {
  rpc::VoteSummary out;
  out.type = std::string(consensus::to_string(vote.type));
  out.height = vote.height;
  out.round = vote.round;
  out.block_hash = vote.block_hash ? to_hex(*vote.block_hash) : "";
  out.validator = to_hex(vote.validator);
  out.signature = to_hex(vote.signature);
  return out;
}

// Members are declared in dependency order, so they are destroyed in
// reverse: the server, network and driver before the mempool, the chain
// last.
struct Node::Services {
  std::string home;
  NodeConfig config;
  execution::Genesis genesis;
  std::string rpc_host;
  uint16_t rpc_port = 0;
  std::unique_ptr<execution::Chain> chain;
  std::unique_ptr<mempool::Mempool> mempool;
  std::unique_ptr<FragmentStore> fragment_store;
  rpc::Metrics metrics;
  std::unique_ptr<rpc::Handler> handler;
  std::unique_ptr<rpc::Server> server;
  std::unique_ptr<ConsensusDriver> driver;
  std::unique_ptr<p2p::Network> network;  // null when P2P is off
  // The fragment exchange, worker and RPC service use the network, the
  // mempool and the fragment store; stop() stops and destroys them first.
  std::unique_ptr<FragmentExchange> fragment_exchange;
  std::unique_ptr<FragmentWorker> fragment_worker;
  std::unique_ptr<NodeFragmentService> fragment_service;
};

Status Node::open(const StartOptions& options, std::unique_ptr<Node>* out) {
  auto paths = HomePaths::of(options.home);
  if (!home_initialized(options.home)) {
    return Status::not_found(fmt::format("home {} is not initialized ({} is missing); run `automatad init --home {}` first",
                                         options.home, paths.config, options.home));
  }
  auto services = std::make_unique<Services>();
  services->home = options.home;
  auto& config = services->config;
  Status status = load_config(paths.config, &config);
  if (!status.is_ok()) return status;
  if (options.rpc_laddr) config.rpc.laddr = *options.rpc_laddr;
  if (options.log_level) config.log_level = *options.log_level;
  if (!set_log_level(config.log_level)) {
    return Status::invalid_argument(fmt::format(
        "log level \"{}\" is not one of trace, debug, info, warn, error, critical, off", config.log_level));
  }
  status = rpc::parse_listen_address(config.rpc.laddr, &services->rpc_host, &services->rpc_port);
  if (!status.is_ok()) return status;

  status = load_genesis(paths.genesis, &services->genesis);
  if (!status.is_ok()) return status;
  std::optional<crypto::PrivateKey> key;
  status = read_key_file(paths.validator_key, &key);
  if (!status.is_ok()) return status;
  auto pubkey = key->public_key();
  std::vector<consensus::ValidatorInfo> validator_infos;
  bool is_validator = false;
  for (const auto& validator : services->genesis.validators) {
    validator_infos.push_back({validator.pubkey, validator.power, 0});
    is_validator = is_validator || (validator.pubkey == pubkey && validator.power > 0);
  }
  consensus::ValidatorSet validators;
  status = consensus::ValidatorSet::create(std::move(validator_infos), &validators);
  if (!status.is_ok()) return Status::invalid_argument(fmt::format("{}: validators: {}", paths.genesis, status.message()));
  if (!is_validator) {
    logger("node")->info("the key in {} ({}) is not a genesis validator; this node follows the chain without voting",
                         paths.validator_key, to_hex(pubkey));
  }

  execution::ChainOptions chain_options;
  chain_options.db_path = paths.data;
  chain_options.keep_state_versions = config.storage.keep_state_versions;
  status = execution::Chain::open(chain_options, services->genesis, &services->chain);
  if (!status.is_ok()) return status;

  mempool::MempoolConfig mempool_config;
  mempool_config.max_txs = config.mempool.max_txs;
  mempool_config.max_bytes = config.mempool.max_bytes;
  mempool_config.max_nonce_gap = config.mempool.max_nonce_gap;
  services->mempool = std::make_unique<mempool::Mempool>(services->chain.get(), mempool_config);

  if (options.enable_p2p) {
    p2p::NetworkConfig network_config;
    status = rpc::parse_listen_address(config.p2p.laddr, &network_config.listen_host, &network_config.listen_port);
    if (!status.is_ok()) return Status::invalid_argument(fmt::format("{}: p2p.laddr: {}", paths.config, status.message()));
    std::optional<crypto::PrivateKey> node_key;
    status = read_key_file(paths.node_key, &node_key);
    if (!status.is_ok()) return status;
    network_config.node_key = *node_key;
    network_config.chain_id = services->genesis.chain_id;
    network_config.persistent_peers = split_peers(config.p2p.persistent_peers);
    network_config.max_peers = config.p2p.max_peers;
    network_config.max_per_ip = config.p2p.max_per_ip;
    network_config.recv_bytes_per_sec = config.p2p.recv_rate;
    services->network = std::make_unique<p2p::Network>(std::move(network_config));
  }

  status = FragmentStore::open((std::filesystem::path(paths.data) / "fragments").string(), &services->fragment_store);
  if (!status.is_ok()) return status;
  services->fragment_exchange =
      std::make_unique<FragmentExchange>(services->network.get(), services->fragment_store.get());
  FragmentWorkerConfig worker_config;
  worker_config.chain_id = services->genesis.chain_id;
  worker_config.min_gas_price = services->genesis.params.min_gas_price;
  services->fragment_worker =
      std::make_unique<FragmentWorker>(worker_config, services->chain.get(), services->mempool.get(),
                                       services->fragment_store.get(), services->fragment_exchange.get(), *key);
  FragmentWorker* worker = services->fragment_worker.get();
  services->fragment_exchange->set_on_stored([worker](const Hash32&) { worker->notify(); });
  services->fragment_service =
      std::make_unique<NodeFragmentService>(services->chain.get(), services->fragment_store.get(),
                                            services->fragment_exchange.get(), [worker] { worker->notify(); });

  DriverConfig driver_config;
  driver_config.chain_id = services->genesis.chain_id;
  driver_config.state_dir = paths.consensus;
  driver_config.timeouts.propose_base_ms = config.consensus.timeout_propose_ms;
  driver_config.timeouts.propose_delta_ms = config.consensus.timeout_propose_delta_ms;
  driver_config.timeouts.prevote_base_ms = config.consensus.timeout_prevote_ms;
  driver_config.timeouts.prevote_delta_ms = config.consensus.timeout_prevote_delta_ms;
  driver_config.timeouts.precommit_base_ms = config.consensus.timeout_precommit_ms;
  driver_config.timeouts.precommit_delta_ms = config.consensus.timeout_precommit_delta_ms;
  driver_config.block_interval_ms = config.consensus.block_interval_ms;
  driver_config.empty_block_interval_ms = config.consensus.empty_block_interval_ms;
  driver_config.max_block_txs = services->genesis.params.max_block_txs;
  driver_config.max_block_bytes = services->genesis.params.max_block_bytes;
  services->driver = std::make_unique<ConsensusDriver>(driver_config, services->chain.get(), services->chain.get(),
                                                       services->mempool.get(), services->network.get(), *key,
                                                       validators);
  status = services->driver->open();
  if (!status.is_ok()) return status;

  rpc::NodeInfo info;
  info.version = kVersion;
  info.validator_address = crypto::address_of(pubkey);
  info.min_gas_price = services->genesis.params.min_gas_price;
  info.limits.max_tx_bytes = services->genesis.params.max_tx_bytes;
  info.limits.max_blob_bytes = services->genesis.params.max_blob_bytes;
  info.limits.max_files_per_version = services->genesis.params.max_files_per_version;
  info.limits.max_path_bytes = services->genesis.params.max_path_bytes;
  info.fragments = services->fragment_service.get();
  ConsensusDriver* driver = services->driver.get();
  p2p::Network* network = services->network.get();
  info.consensus = [driver, network] {
    auto snapshot = driver->status();
    rpc::ConsensusSummary summary;
    summary.height = snapshot.height;
    summary.round = snapshot.round;
    summary.step = snapshot.step;
    summary.catching_up = snapshot.catching_up;
    if (network != nullptr) {
      for (const auto& peer : network->peers()) summary.peers.push_back({peer.id, peer.remote_address, peer.outbound});
    }
    return summary;
  };
  info.evidence = [driver](std::optional<uint64_t> height) {
    std::vector<rpc::EvidenceSummary> items;
    for (const auto& entry : driver->evidence()->list(height)) {
      rpc::EvidenceSummary item;
      item.height = entry.evidence.vote_a.height;
      item.round = entry.evidence.vote_a.round;
      item.type = "duplicate_vote";
      item.validator = to_hex(entry.evidence.vote_a.validator);
      item.vote_a = vote_summary(entry.evidence.vote_a);
      item.vote_b = vote_summary(entry.evidence.vote_b);
      item.included_height = entry.included_height;
      items.push_back(std::move(item));
    }
    return items;
  };

  services->handler =
      std::make_unique<rpc::Handler>(services->chain.get(), services->mempool.get(), info, &services->metrics);

  rpc::ServerConfig server_config;
  server_config.host = services->rpc_host;
  server_config.port = services->rpc_port;
  server_config.max_body_bytes = config.rpc.max_body_bytes;
  server_config.threads = static_cast<unsigned>(config.rpc.threads);
  server_config.read_timeout_ms = static_cast<uint32_t>(config.rpc.read_timeout_ms);
  server_config.fragments = services->fragment_service.get();
  services->server = std::make_unique<rpc::Server>(server_config, services->handler.get());

  std::unique_ptr<Node> node(new Node());
  node->services_ = std::move(services);
  *out = std::move(node);
  return Status::ok();
}

Node::~Node() { stop(); }

Status Node::start() {
  auto& services = *services_;
  auto log = logger("node");
  auto status = services.chain->status();
  log->info("starting automatad {}: chain {}, height {}, home {}", kVersion, status.chain_id, status.height,
            services.home);

  Status started = services.server->start();
  if (!started.is_ok()) return started;

  ConsensusDriver* driver = services.driver.get();
  rpc::Metrics* metrics = &services.metrics;
  FragmentWorker* worker = services.fragment_worker.get();
  driver->set_on_commit([metrics, worker](uint64_t, size_t tx_count) {
    metrics->add_committed_txs(tx_count);
    worker->notify();
  });
  driver->set_on_fatal([this](const Status&) {
    failed_ = true;
    request_stop();
  });
  services.mempool->set_on_new_tx([driver] { driver->notify_new_txs(); });
  // The exchange installs its channel handler before the network starts.
  services.fragment_exchange->start();
  if (services.network) {
    started = services.network->start();
    if (!started.is_ok()) return started;
    log->info("p2p listening on port {} as node {}", services.network->port(), services.network->id());
  }
  driver->start();
  worker->start();
  log->info("node started: rpc {}", rpc_url());
  return Status::ok();
}

std::string Node::rpc_url() const {
  const auto& host = services_->rpc_host;
  if (host.find(':') != std::string::npos) return fmt::format("http://[{}]:{}", host, rpc_port());
  return fmt::format("http://{}:{}", host, rpc_port());
}

uint16_t Node::rpc_port() const { return services_->server->port(); }

void Node::request_stop() {
  // wait_for_shutdown() polls the flag between its signal waits.
  stop_requested_ = true;
}

int Node::wait_for_shutdown() {
  sigset_t set = shutdown_signals();
  auto log = logger("node");
  while (!stop_requested_) {
    timespec timeout{0, 200'000'000};
    int signal = sigtimedwait(&set, nullptr, &timeout);
    if (signal == SIGINT || signal == SIGTERM) {
      if (!stop_requested_) log->info("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
  }
  return failed_ ? 1 : 0;
}

void Node::stop() {
  if (stopped_ || !services_) return;
  stopped_ = true;
  auto& services = *services_;
  services.server->stop();
  services.mempool->set_on_new_tx([] {});
  services.fragment_worker->stop();
  services.fragment_exchange->stop();
  // The network stops first, so no handler pushes into a stopped driver.
  if (services.network) services.network->stop();
  services.driver->stop();
  uint64_t height = services.chain->last_height();
  services.driver.reset();
  services.fragment_service.reset();
  services.fragment_worker.reset();
  services.fragment_exchange.reset();
  services.network.reset();
  services.server.reset();
  services.handler.reset();
  services.mempool.reset();
  services.fragment_store.reset();
  // Closing the chain flushes and closes the database.
  services.chain.reset();
  logger("node")->info("stopped at height {}", height);
}

}  // namespace automata::node
