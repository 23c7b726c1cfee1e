// A seeded, deterministic network of validators running the consensus
// engine in virtual time, with message delay, loss, duplication,
// reordering, partitions, crashes with restart, and Byzantine validators.
// The same seed always replays the same run.
#pragma once

#include "automata/consensus/engine.h"

#include <cstdint>
#include <string>
#include <vector>

namespace automata::consensus {

enum class ByzantineMode {
  // Sends one proposal or vote to half of its peers and a conflicting one,
  // signed with the same key, to the other half.
  kEquivocate,
  // Runs consensus but sends nothing.
  kWithhold,
};

struct SimCrash {
  size_t validator = 0;
  uint64_t at_ms = 0;
  uint64_t restart_ms = 0;  // restarts from its persisted state
};

struct SimConfig {
  uint64_t seed = 1;
  size_t validators = 4;
  // The last `byzantine` validators misbehave in the way byzantine_mode sets.
  size_t byzantine = 0;
  ByzantineMode byzantine_mode = ByzantineMode::kEquivocate;
  // Every honest validator must decide heights 1..target_height.
  uint64_t target_height = 3;

  uint64_t min_delay_ms = 5;
  uint64_t max_delay_ms = 50;
  uint32_t duplicate_percent = 0;
  // Loss and partitions end at heal_ms, the global stabilization time.
  uint32_t loss_percent = 0;
  uint64_t heal_ms = 0;
  // Groups of validator indices that cannot reach each other before
  // heal_ms. Empty: no partition.
  std::vector<std::vector<size_t>> partition;
  // Crashes of honest validators.
  std::vector<SimCrash> crashes;

  // Every honest validator must reach target_height within this much
  // virtual time after heal_ms and the last restart.
  uint64_t liveness_bound_ms = 120'000;
  // How often each validator resends the messages it has for its height
  // and requests commits it lacks from peers, in place of P2P gossip and
  // block sync.
  uint64_t gossip_interval_ms = 400;
  TimeoutConfig timeouts{300, 100, 150, 50, 150, 50};
};

struct SimResult {
  bool ok = true;
  // The first invariant that failed, with the seed.
  std::string failure;
  uint64_t end_ms = 0;
  uint64_t events = 0;
  size_t evidence_reports = 0;
  // Highest decided height of each validator.
  std::vector<uint64_t> decided_heights;
};

// Runs one simulation to the target height or the liveness bound. It checks
// agreement: no two honest validators decide different blocks at a height.
// It checks validity: a decided block was proposed and its commit verifies.
// It also checks that no honest validator signs two different votes or
// proposals for one (height, round, step), that evidence names only
// Byzantine validators, and liveness.
SimResult run_simulation(const SimConfig& config);

}  // namespace automata::consensus
