// Seeded network simulations of the consensus engine. The seed range comes
// from the environment so scripts/simulate.sh can run thousands of seeds:
//   AUTOMATA_SIM_FIRST_SEED (default 1) and AUTOMATA_SIM_SEEDS (default per
//   scenario). A failure prints the command that replays its seed.
#include "automata/consensus/simulator.h"

#include "automata/types/logging.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace automata::consensus {
namespace {

// Evidence reports from Byzantine validators log at warn level; keep test
// output to errors unless AUTOMATA_LOG_LEVEL sets another level.
const bool kQuietLogs = [] {
  const char* level = std::getenv("AUTOMATA_LOG_LEVEL");
  return set_log_level(level != nullptr ? level : "error");
}();

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long parsed = std::strtoull(value, &end, 10);
  if (end == nullptr || *end != '\0') {
    ADD_FAILURE() << name << "=" << value << " is not a decimal number";
    return fallback;
  }
  return parsed;
}

std::string replay_command(uint64_t seed) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return "AUTOMATA_SIM_FIRST_SEED=" + std::to_string(seed) + " AUTOMATA_SIM_SEEDS=1 consensus_test --gtest_filter=" +
         info->test_suite_name() + "." + info->name();
}

// Runs make_config(seed) for every seed in the range, reports each failing
// seed with its replay command, and returns the evidence reports of all runs.
template <typename MakeConfig>
size_t run_seeds(uint64_t default_seeds, MakeConfig make_config) {
  const uint64_t first = env_or("AUTOMATA_SIM_FIRST_SEED", 1);
  const uint64_t count = env_or("AUTOMATA_SIM_SEEDS", default_seeds);
  size_t evidence = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    SimConfig config = make_config(seed);
    config.seed = seed;
    const SimResult result = run_simulation(config);
    EXPECT_TRUE(result.ok) << result.failure << "\n  replay: " << replay_command(seed);
    evidence += result.evidence_reports;
  }
  return evidence;
}

TEST(Simulation, OneValidatorDecidesEveryHeight) {
  run_seeds(5, [](uint64_t) {
    SimConfig config;
    config.validators = 1;
    config.target_height = 20;
    config.liveness_bound_ms = 1;  // no timeout may be needed
    return config;
  });
}

TEST(Simulation, FourHonestWithDelays) {
  run_seeds(20, [](uint64_t) {
    SimConfig config;
    config.validators = 4;
    config.target_height = 4;
    config.min_delay_ms = 1;
    config.max_delay_ms = 200;
    config.duplicate_percent = 10;
    return config;
  });
}

TEST(Simulation, FourWithEquivocatorLossPartitionCrash) {
  const size_t evidence = run_seeds(50, [](uint64_t seed) {
    SimConfig config;
    config.validators = 4;
    config.byzantine = 1;
    config.byzantine_mode = ByzantineMode::kEquivocate;
    config.target_height = 4;
    config.loss_percent = 15;
    config.duplicate_percent = 5;
    config.max_delay_ms = 80;
    config.heal_ms = 1500;
    config.partition = {{0, 1}, {2, 3}};
    config.crashes = {{seed % 3, 400 + seed % 500, 1800}};
    return config;
  });
  EXPECT_GT(evidence, 0u) << "the equivocating validator was never caught";
}

TEST(Simulation, FourWithWithholderAndLoss) {
  run_seeds(50, [](uint64_t seed) {
    SimConfig config;
    config.validators = 4;
    config.byzantine = 1;
    config.byzantine_mode = ByzantineMode::kWithhold;
    config.target_height = 4;
    config.loss_percent = 25;
    config.heal_ms = 1000 + seed % 1000;
    return config;
  });
}

TEST(Simulation, SevenWithTwoEquivocatorsPartitionCrash) {
  const size_t evidence = run_seeds(50, [](uint64_t seed) {
    SimConfig config;
    config.validators = 7;
    config.byzantine = 2;
    config.byzantine_mode = ByzantineMode::kEquivocate;
    config.target_height = 3;
    config.loss_percent = 10;
    config.duplicate_percent = 5;
    config.max_delay_ms = 60;
    config.heal_ms = 2000;
    config.partition = {{0, 1, 2}, {3, 4, 5, 6}};
    config.crashes = {{seed % 5, 300 + seed % 700, 2500}};
    return config;
  });
  EXPECT_GT(evidence, 0u) << "the equivocating validators were never caught";
}

TEST(Simulation, SevenWithTwoWithholdersAndLoss) {
  run_seeds(50, [](uint64_t seed) {
    SimConfig config;
    config.validators = 7;
    config.byzantine = 2;
    config.byzantine_mode = ByzantineMode::kWithhold;
    config.target_height = 3;
    config.loss_percent = 20;
    config.heal_ms = 1500;
    config.crashes = {{seed % 5, 200, 900}};
    return config;
  });
}

TEST(Simulation, SameSeedSameRun) {
  SimConfig config;
  config.seed = 42;
  config.validators = 4;
  config.byzantine = 1;
  config.loss_percent = 20;
  config.heal_ms = 1000;
  const SimResult first = run_simulation(config);
  const SimResult second = run_simulation(config);
  ASSERT_TRUE(first.ok) << first.failure;
  EXPECT_EQ(first.events, second.events);
  EXPECT_EQ(first.end_ms, second.end_ms);
  EXPECT_EQ(first.evidence_reports, second.evidence_reports);
}

TEST(Simulation, ReportsLivenessFailure) {
  // Two of four validators withhold: no +2/3 of honest power, so the run
  // must end with a liveness failure that names the seed.
  SimConfig config;
  config.seed = 7;
  config.validators = 4;
  config.byzantine = 2;
  config.byzantine_mode = ByzantineMode::kWithhold;
  config.liveness_bound_ms = 5000;
  const SimResult result = run_simulation(config);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.failure.find("seed 7"), std::string::npos) << result.failure;
  EXPECT_NE(result.failure.find("liveness"), std::string::npos) << result.failure;
}

}  // namespace
}  // namespace automata::consensus
