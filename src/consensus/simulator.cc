#include "automata/consensus/simulator.h"

#include "automata/crypto/sha256.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>
#include <tuple>

namespace automata::consensus {
namespace {

constexpr std::string_view kChainId = "automata-sim";
constexpr std::string_view kValidBlockPrefix = "block ";
constexpr uint64_t kMaxEvents = 20'000'000;

struct CommitMessage {
  Commit commit;
  Bytes block;
};
struct StatusMessage {
  uint64_t height = 0;  // the sender's current height
};
using Message = std::variant<Proposal, Vote, CommitMessage, StatusMessage>;

struct Deliver {
  size_t from = 0;
  std::vector<Message> messages;
};
struct TimeoutFired {
  uint64_t incarnation = 0;
  uint64_t height = 0;
  int64_t round = 0;
  Step step = Step::kPropose;
};
struct GossipTick {
  uint64_t incarnation = 0;
};
struct CrashNow {};
struct RestartNow {};
using Action = std::variant<Deliver, TimeoutFired, GossipTick, CrashNow, RestartNow>;

struct Event {
  uint64_t time_ms = 0;
  uint64_t sequence = 0;
  size_t node = 0;
  Action action;
};
struct EventOrder {
  bool operator()(const Event& a, const Event& b) const {
    return std::tie(a.time_ms, a.sequence) > std::tie(b.time_ms, b.sequence);
  }
};

struct Decision {
  Hash32 hash{};
  Bytes block;
  Commit commit;
};

struct Node {
  explicit Node(crypto::PrivateKey private_key) : key(std::move(private_key)) {}

  crypto::PrivateKey key;
  bool byzantine = false;
  bool up = true;
  uint64_t incarnation = 0;
  // The "disk": what survives a crash.
  LastSignState sign_state;
  RecoveryState recovery;
  // Own proposals and votes of the current height: the part of the
  // write-ahead log that lets a restarted validator resend what it signed.
  std::vector<Message> wal;
  std::map<uint64_t, Decision> chain;
  // Volatile.
  std::unique_ptr<KeySigner> signer;
  std::unique_ptr<Engine> engine;
};

crypto::PrivateKey sim_key(uint64_t seed, size_t index) {
  for (uint64_t counter = 0;; ++counter) {
    const std::string label = fmt::format("automata-sim-key/{}/{}/{}", seed, index, counter);
    const Hash32 secret = crypto::sha256(as_view(label));
    if (auto key = crypto::PrivateKey::from_bytes(secret)) return *key;
  }
}

class Simulation {
 public:
  explicit Simulation(const SimConfig& config) : config_(config), rng_(config.seed) {}

  SimResult run();

 private:
  void fail(std::string what) {
    if (!result_.ok) return;
    result_.ok = false;
    result_.failure = fmt::format("seed {} at {} ms: {}", config_.seed, now_, what);
  }
  void schedule(uint64_t at_ms, size_t node, Action action) {
    queue_.push(Event{at_ms, next_sequence_++, node, std::move(action)});
  }
  bool honest(size_t node) const { return !nodes_[node].byzantine; }
  bool connected(size_t from, size_t to) const;
  void send(size_t from, size_t to, std::vector<Message> messages);
  void broadcast(size_t from, const Message& message);

  const ValidatorSet& set_for(uint64_t height);
  EngineConfig engine_config() const { return EngineConfig{std::string(kChainId), config_.timeouts, {}}; }
  void boot(size_t node);
  void handle(size_t node, Effects effects);
  void handle_effect(size_t node, Effect effect, std::deque<Effect>& pending);
  void send_proposal(size_t node, const Proposal& proposal);
  void send_vote(size_t node, const Vote& vote);
  void on_decide(size_t node, const Decide& decide, std::deque<Effect>& pending);
  void deliver(size_t node, const Deliver& deliver);
  void gossip(size_t node);
  bool all_done() const;
  uint64_t liveness_deadline() const;

  SimConfig config_;
  std::mt19937_64 rng_;
  uint64_t now_ = 0;
  uint64_t next_sequence_ = 0;
  std::priority_queue<Event, std::vector<Event>, EventOrder> queue_;
  std::vector<Node> nodes_;
  std::vector<ValidatorSet> sets_;  // sets_[h - 1] is the set of height h
  std::map<size_t, size_t> group_of_;
  SimResult result_;

  // Invariant records.
  std::map<uint64_t, Hash32> decided_;
  std::set<Hash32> proposed_;
  std::map<std::tuple<size_t, uint64_t, int64_t, int>, BlockId> honest_signed_;
};

bool Simulation::connected(size_t from, size_t to) const {
  if (now_ >= config_.heal_ms || config_.partition.empty()) return true;
  auto a = group_of_.find(from);
  auto b = group_of_.find(to);
  if (a == group_of_.end() || b == group_of_.end()) return false;
  return a->second == b->second;
}

void Simulation::send(size_t from, size_t to, std::vector<Message> messages) {
  if (from == to || !connected(from, to)) return;
  const bool before_heal = now_ < config_.heal_ms;
  if (before_heal && rng_() % 100 < config_.loss_percent) return;
  const uint64_t spread = config_.max_delay_ms - config_.min_delay_ms + 1;
  const uint64_t delay = config_.min_delay_ms + rng_() % spread;
  if (rng_() % 100 < config_.duplicate_percent) {
    schedule(now_ + config_.min_delay_ms + rng_() % spread, to, Deliver{from, messages});
  }
  schedule(now_ + delay, to, Deliver{from, std::move(messages)});
}

void Simulation::broadcast(size_t from, const Message& message) {
  for (size_t to = 0; to < nodes_.size(); ++to) send(from, to, {message});
}

const ValidatorSet& Simulation::set_for(uint64_t height) {
  while (sets_.size() < height) sets_.push_back(sets_.back().for_next_height());
  return sets_[height - 1];
}

void Simulation::boot(size_t index) {
  Node& node = nodes_[index];
  node.up = true;
  node.incarnation++;
  node.signer = std::make_unique<KeySigner>(node.key, node.sign_state);
  node.engine = std::make_unique<Engine>(engine_config(), node.signer.get());

  const uint64_t last_decided = node.chain.empty() ? 0 : node.chain.rbegin()->first;
  if (node.recovery.height > last_decided) {
    handle(index, node.engine->recover(node.recovery, set_for(node.recovery.height)));
    const std::vector<Message> wal = node.wal;
    for (const Message& message : wal) {
      if (!node.up) break;
      if (const auto* proposal = std::get_if<Proposal>(&message)) handle(index, node.engine->on_proposal(*proposal));
      if (const auto* vote = std::get_if<Vote>(&message)) handle(index, node.engine->on_vote(*vote));
    }
  } else if (last_decided < config_.target_height) {
    handle(index, node.engine->start_height(last_decided + 1, set_for(last_decided + 1)));
  }
  schedule(now_ + config_.gossip_interval_ms, index, GossipTick{node.incarnation});
}

void Simulation::handle(size_t index, Effects effects) {
  std::deque<Effect> pending(std::make_move_iterator(effects.begin()), std::make_move_iterator(effects.end()));
  while (!pending.empty() && nodes_[index].up) {
    Effect effect = std::move(pending.front());
    pending.pop_front();
    handle_effect(index, std::move(effect), pending);
    // The signer state is persisted before any message leaves, as a
    // persisted SignStateStore would.
    nodes_[index].sign_state = nodes_[index].signer->last_sign_state();
  }
}

void Simulation::handle_effect(size_t index, Effect effect, std::deque<Effect>& pending) {
  Node& node = nodes_[index];
  auto append = [&](Effects more) {
    for (auto& e : more) pending.push_back(std::move(e));
  };
  if (auto* proposal = std::get_if<BroadcastProposal>(&effect)) {
    send_proposal(index, proposal->proposal);
  } else if (auto* vote = std::get_if<BroadcastVote>(&effect)) {
    send_vote(index, vote->vote);
  } else if (auto* timeout = std::get_if<ScheduleTimeout>(&effect)) {
    schedule(now_ + timeout->duration_ms, index,
             TimeoutFired{node.incarnation, timeout->height, timeout->round, timeout->step});
  } else if (auto* request = std::get_if<RequestBlock>(&effect)) {
    const std::string block = fmt::format("{}h={} r={} by={} seed={}", kValidBlockPrefix, request->height,
                                          request->round, index, config_.seed);
    append(node.engine->on_block_to_propose(request->height, request->round, to_bytes(block)));
  } else if (auto* validate = std::get_if<ValidateBlock>(&effect)) {
    const std::string_view text(reinterpret_cast<const char*>(validate->block.data()), validate->block.size());
    const bool valid = text.starts_with(kValidBlockPrefix);
    append(node.engine->on_block_validity(validate->height, validate->block_hash, valid));
  } else if (auto* decide = std::get_if<Decide>(&effect)) {
    on_decide(index, *decide, pending);
  } else if (auto* evidence = std::get_if<ReportEvidence>(&effect)) {
    result_.evidence_reports++;
    const auto accused = set_for(evidence->evidence.vote_a.height).index_of(evidence->evidence.vote_a.validator);
    if (!accused || honest(*accused)) {
      fail(fmt::format("validator {} reported evidence against honest validator: {} vs {}", index,
                       describe(evidence->evidence.vote_a), describe(evidence->evidence.vote_b)));
    }
  } else if (auto* persist = std::get_if<PersistState>(&effect)) {
    node.recovery = persist->state;
  }
}

void Simulation::send_proposal(size_t index, const Proposal& proposal) {
  proposed_.insert(proposal.block_hash);
  nodes_[index].wal.push_back(proposal);
  if (honest(index)) {
    auto [it, inserted] = honest_signed_.emplace(
        std::make_tuple(index, proposal.height, proposal.round, 0), BlockId(proposal.block_hash));
    if (!inserted && it->second != BlockId(proposal.block_hash)) {
      fail(fmt::format("honest validator {} signed two proposals at height {} round {}", index, proposal.height,
                       proposal.round));
    }
    broadcast(index, proposal);
    return;
  }
  if (config_.byzantine_mode == ByzantineMode::kWithhold) return;

  // A conflicting proposal; half of them carry an invalid block.
  Proposal other = proposal;
  const bool invalid = rng_() % 2 == 0;
  const std::string suffix = fmt::format(" equivocation {}", rng_());
  Bytes block = invalid ? to_bytes("bad") : proposal.block;
  block.insert(block.end(), suffix.begin(), suffix.end());
  other.block = block;
  other.block_hash = crypto::sha256(block);
  const Hash32 digest = signing_digest(proposal_sign_bytes(kChainId, other));
  other.signature = nodes_[index].key.sign(digest, &digest);
  proposed_.insert(other.block_hash);
  for (size_t to = 0; to < nodes_.size(); ++to) send(index, to, {to % 2 == 0 ? Message(proposal) : Message(other)});
}

void Simulation::send_vote(size_t index, const Vote& vote) {
  nodes_[index].wal.push_back(vote);
  if (honest(index)) {
    auto [it, inserted] = honest_signed_.emplace(
        std::make_tuple(index, vote.height, vote.round, static_cast<int>(vote.type)), vote.block_hash);
    if (!inserted && it->second != vote.block_hash) {
      fail(fmt::format("honest validator {} signed two different votes for one step: {}", index, describe(vote)));
    }
    broadcast(index, vote);
    return;
  }
  if (config_.byzantine_mode == ByzantineMode::kWithhold) return;

  Vote other = vote;
  if (vote.block_hash) {
    other.block_hash.reset();
  } else {
    other.block_hash = crypto::sha256(as_view(fmt::format("phantom {}", rng_())));
  }
  const Hash32 digest = signing_digest(vote_sign_bytes(kChainId, other));
  other.signature = nodes_[index].key.sign(digest, &digest);
  for (size_t to = 0; to < nodes_.size(); ++to) send(index, to, {to % 2 == 0 ? Message(vote) : Message(other)});
}

void Simulation::on_decide(size_t index, const Decide& decide, std::deque<Effect>& pending) {
  Node& node = nodes_[index];
  if (honest(index)) {
    auto [it, inserted] = decided_.emplace(decide.height, decide.block_hash);
    if (!inserted && it->second != decide.block_hash) {
      fail(fmt::format("agreement violated at height {}: validator {} decided {}, another decided {}",
                       decide.height, index, to_hex(decide.block_hash), to_hex(it->second)));
    }
    if (!proposed_.contains(decide.block_hash)) {
      fail(fmt::format("validity violated: validator {} decided {} at height {}, which nobody proposed", index,
                       to_hex(decide.block_hash), decide.height));
    }
    const Status status = verify_commit(kChainId, set_for(decide.height), decide.commit);
    if (!status.is_ok()) fail(fmt::format("validator {} decided with a bad commit: {}", index, status.to_string()));
  }
  // The block and commit are stored before the next height starts.
  node.chain[decide.height] = Decision{decide.block_hash, decide.block, decide.commit};
  node.wal.clear();
  result_.decided_heights[index] = std::max(result_.decided_heights[index], decide.height);
  if (decide.height < config_.target_height) {
    for (auto& e : node.engine->start_height(decide.height + 1, set_for(decide.height + 1))) {
      pending.push_back(std::move(e));
    }
  }
}

void Simulation::deliver(size_t index, const Deliver& deliver) {
  Node& node = nodes_[index];
  for (const Message& message : deliver.messages) {
    if (!node.up) return;
    if (const auto* proposal = std::get_if<Proposal>(&message)) {
      handle(index, node.engine->on_proposal(*proposal));
    } else if (const auto* vote = std::get_if<Vote>(&message)) {
      handle(index, node.engine->on_vote(*vote));
    } else if (const auto* commit = std::get_if<CommitMessage>(&message)) {
      handle(index, node.engine->on_commit(commit->commit, commit->block));
    } else if (const auto* status = std::get_if<StatusMessage>(&message)) {
      // Block sync: a peer that is behind gets the commit it lacks.
      auto it = node.chain.find(status->height);
      if (it != node.chain.end() && honest(index)) {
        send(index, deliver.from, {CommitMessage{it->second.commit, it->second.block}});
      }
    }
  }
}

void Simulation::gossip(size_t index) {
  Node& node = nodes_[index];
  if (!honest(index)) return;
  std::vector<Message> bundle;
  bundle.push_back(StatusMessage{node.engine->height()});
  if (!node.engine->decided()) {
    for (const Proposal& proposal : node.engine->proposals()) bundle.push_back(proposal);
    for (const Vote& vote : node.engine->votes()) bundle.push_back(vote);
  }
  for (size_t to = 0; to < nodes_.size(); ++to) send(index, to, bundle);
}

bool Simulation::all_done() const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (honest(i) && result_.decided_heights[i] < config_.target_height) return false;
  }
  return true;
}

uint64_t Simulation::liveness_deadline() const {
  uint64_t start = config_.heal_ms;
  for (const SimCrash& crash : config_.crashes) start = std::max(start, crash.restart_ms);
  return start + config_.liveness_bound_ms;
}

SimResult Simulation::run() {
  if (config_.validators == 0 || config_.byzantine >= config_.validators || config_.max_delay_ms < config_.min_delay_ms) {
    result_.ok = false;
    result_.failure = fmt::format("invalid simulation config: {} validators, {} Byzantine, delay {}..{} ms",
                                  config_.validators, config_.byzantine, config_.min_delay_ms, config_.max_delay_ms);
    return result_;
  }
  std::vector<ValidatorInfo> infos;
  for (size_t i = 0; i < config_.validators; ++i) {
    Node node(sim_key(config_.seed, i));
    node.byzantine = i >= config_.validators - config_.byzantine;
    infos.push_back(ValidatorInfo{node.key.public_key(), 1, 0});
    nodes_.push_back(std::move(node));
  }
  ValidatorSet genesis;
  const Status status = ValidatorSet::create(infos, &genesis);
  if (!status.is_ok()) {
    result_.ok = false;
    result_.failure = status.to_string();
    return result_;
  }
  sets_.push_back(genesis);
  for (size_t g = 0; g < config_.partition.size(); ++g) {
    for (size_t member : config_.partition[g]) group_of_[member] = g;
  }
  result_.decided_heights.assign(config_.validators, 0);

  for (size_t i = 0; i < nodes_.size(); ++i) boot(i);
  for (const SimCrash& crash : config_.crashes) {
    schedule(crash.at_ms, crash.validator, CrashNow{});
    schedule(crash.restart_ms, crash.validator, RestartNow{});
  }

  const uint64_t deadline = liveness_deadline();
  while (result_.ok && !queue_.empty() && !all_done()) {
    Event event = queue_.top();
    queue_.pop();
    now_ = event.time_ms;
    if (now_ > deadline || ++result_.events > kMaxEvents) break;
    Node& node = nodes_[event.node];

    if (std::holds_alternative<CrashNow>(event.action)) {
      node.up = false;
      node.engine.reset();
      node.signer.reset();
    } else if (std::holds_alternative<RestartNow>(event.action)) {
      if (!node.up) boot(event.node);
    } else if (!node.up) {
      continue;
    } else if (const auto* deliver_event = std::get_if<Deliver>(&event.action)) {
      deliver(event.node, *deliver_event);
    } else if (const auto* timeout = std::get_if<TimeoutFired>(&event.action)) {
      if (timeout->incarnation == node.incarnation) {
        handle(event.node, node.engine->on_timeout(timeout->height, timeout->round, timeout->step));
      }
    } else if (const auto* tick = std::get_if<GossipTick>(&event.action)) {
      if (tick->incarnation == node.incarnation) {
        gossip(event.node);
        schedule(now_ + config_.gossip_interval_ms, event.node, GossipTick{node.incarnation});
      }
    }
  }
  result_.end_ms = now_;

  if (result_.ok && !all_done()) {
    std::string lagging;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!honest(i) || result_.decided_heights[i] >= config_.target_height) continue;
      const Engine* engine = nodes_[i].engine.get();
      lagging += fmt::format(" validator {} at height {} round {} step {};", i, engine ? engine->height() : 0,
                             engine ? engine->round() : 0, engine ? to_string(engine->step()) : "down");
    }
    fail(fmt::format("liveness: not every honest validator decided height {} by {} ms ({} events):{}",
                     config_.target_height, deadline, result_.events, lagging));
  }
  return result_;
}

}  // namespace

SimResult run_simulation(const SimConfig& config) { return Simulation(config).run(); }

}  // namespace automata::consensus
