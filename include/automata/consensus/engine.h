// The Tendermint consensus state machine of Buchman, Kwon and Milosevic,
// "The latest gossip on BFT consensus" (arXiv 1807.04938), Algorithm 1.
//
// The engine does no I/O, reads no clock and starts no thread. The caller
// feeds it events (start a height, a proposal or vote arrived, a timeout
// fired, a block validation result, a commit learned from block sync). It
// carries out the effects each call returns, in order: broadcast a message,
// schedule a timeout, build or validate a block, persist the recovery state,
// report evidence, apply a decided block. The node and the simulator drive
// the same engine.
#pragma once

#include "automata/consensus/messages.h"
#include "automata/consensus/signer.h"
#include "automata/consensus/validator_set.h"
#include "automata/consensus/vote_set.h"
#include "automata/types/status.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace automata::consensus {

// Timeout of a step in round r: base_ms + r * delta_ms.
struct TimeoutConfig {
  uint64_t propose_base_ms = 3000;
  uint64_t propose_delta_ms = 500;
  uint64_t prevote_base_ms = 1000;
  uint64_t prevote_delta_ms = 500;
  uint64_t precommit_base_ms = 1000;
  uint64_t precommit_delta_ms = 500;

  uint64_t duration_ms(Step step, int64_t round) const;
};

struct EngineConfig {
  std::string chain_id;
  TimeoutConfig timeouts;
  // Returns the hash of a block's bytes. A proposal or commit whose block
  // does not hash to its block_hash is ignored. The node passes SHA-256 of
  // the block's header_bytes; the default hashes the whole byte string.
  std::function<Hash32(ByteView)> block_hash;
};

// The state a validator persists so that a restart keeps its lock. The node
// stores the latest PersistState effect before it carries out the effects
// that follow it, and passes the stored value to Engine::recover.
struct RecoveryState {
  uint64_t height = 0;
  int64_t round = 0;
  int64_t locked_round = -1;
  BlockId locked_hash;
  Bytes locked_block;
  int64_t valid_round = -1;
  BlockId valid_hash;
  Bytes valid_block;

  bool operator==(const RecoveryState&) const = default;
};

struct BroadcastProposal {
  Proposal proposal;
};
struct BroadcastVote {
  Vote vote;
};
// Call Engine::on_timeout(height, round, step) after duration_ms.
struct ScheduleTimeout {
  uint64_t height = 0;
  int64_t round = 0;
  Step step = Step::kPropose;
  uint64_t duration_ms = 0;
};
// Build a block for (height, round) and pass it to on_block_to_propose.
struct RequestBlock {
  uint64_t height = 0;
  int64_t round = 0;
};
// Validate a proposed block against the application and pass the result to
// on_block_validity. The engine asks once per block hash and height.
struct ValidateBlock {
  uint64_t height = 0;
  int64_t round = 0;
  Hash32 block_hash{};
  Bytes block;
};
// The block is decided. Store block and commit, apply the block, then call
// start_height(height + 1, next validators).
struct Decide {
  uint64_t height = 0;
  int64_t round = 0;
  Hash32 block_hash{};
  Bytes block;
  Commit commit;
};
struct ReportEvidence {
  DuplicateVoteEvidence evidence;
};
struct PersistState {
  RecoveryState state;
};

using Effect = std::variant<BroadcastProposal, BroadcastVote, ScheduleTimeout, RequestBlock, ValidateBlock,
                            Decide, ReportEvidence, PersistState>;
using Effects = std::vector<Effect>;

// Checks that commit holds valid, distinct precommit signatures for its
// (height, round, block_hash) from more than 2/3 of validators' power.
// Returns invalid_argument naming the first bad signature or the shortfall.
Status verify_commit(std::string_view chain_id, const ValidatorSet& validators, const Commit& commit);

class Engine {
 public:
  // Rounds further than this ahead of the current round are ignored, which
  // bounds the memory a faulty validator can make the engine use.
  static constexpr int64_t kMaxFutureRounds = 256;
  // Messages for the next height, kept until start_height reaches it.
  static constexpr size_t kMaxBufferedMessages = 4096;

  // signer is not owned and may be null for an engine that only follows
  // (it never proposes or votes). An engine whose signer key is not in the
  // validator set follows too.
  Engine(EngineConfig config, Signer* signer);
  // Vote sets point into the engine, so it neither copies nor moves.
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts height at round 0 with nothing locked. height must be greater
  // than the current height.
  Effects start_height(uint64_t height, ValidatorSet validators);
  // Restarts from a persisted state: its height, round, lock and valid value.
  Effects recover(const RecoveryState& state, ValidatorSet validators);

  // Messages from the network. Invalid signatures, unknown validators, a
  // proposal from the wrong proposer and messages for other heights are
  // ignored; messages for the next height are kept until it starts.
  Effects on_proposal(const Proposal& proposal);
  Effects on_vote(const Vote& vote);
  // A timeout scheduled earlier fired. Stale timeouts are ignored.
  Effects on_timeout(uint64_t height, int64_t round, Step step);
  // The result of ValidateBlock.
  Effects on_block_validity(uint64_t height, const Hash32& block_hash, bool valid);
  // The block built for RequestBlock. Ignored when the engine has left that round
  // or the propose step.
  Effects on_block_to_propose(uint64_t height, int64_t round, Bytes block);
  // A commit for the current height learned outside consensus (block sync).
  // Decides the block when block hashes to commit.block_hash and
  // verify_commit accepts the commit.
  Effects on_commit(const Commit& commit, Bytes block);

  uint64_t height() const { return height_; }
  int64_t round() const { return round_; }
  Step step() const { return step_; }
  bool decided() const { return decided_; }
  RecoveryState recovery_state() const;
  const ValidatorSet& validators() const { return validators_; }
  // Every proposal and vote the engine holds for the current height, in a
  // fixed order, for a gossip layer to send to peers that lack them.
  std::vector<Proposal> proposals() const;
  std::vector<Vote> votes() const;

 private:
  enum class Validity { kPending, kValid, kInvalid };
  struct RoundState {
    std::vector<Proposal> proposals;  // from the round's proposer; at most 2
    std::optional<VoteSet> prevotes;
    std::optional<VoteSet> precommits;
    std::set<size_t> senders;  // validators with any message in this round
    bool prevote_timeout_scheduled = false;    // line 34
    bool precommit_timeout_scheduled = false;  // line 47
    bool proof_of_lock_handled = false;        // line 36
  };

  void reset_height(uint64_t height, ValidatorSet validators);
  RoundState& round_state(int64_t round);
  VoteSet& vote_set(int64_t round, VoteType type);
  std::optional<Validity> validity_of(const Hash32& hash) const;

  void start_round(int64_t round, Effects& effects);
  void propose(const Hash32& hash, const Bytes& block, int64_t pol_round, Effects& effects);
  void cast_vote(VoteType type, const BlockId& block_id, Effects& effects);
  void persist(Effects& effects) const { effects.push_back(PersistState{recovery_state()}); }
  void add_proposal(const Proposal& proposal, Effects& effects);
  void replay_buffered(Effects& effects);
  void decide(int64_t round, const Hash32& hash, Commit commit, Effects& effects);

  // Applies the "upon" rules of Algorithm 1 until none fires.
  void evaluate(Effects& effects);
  bool rule_decide(Effects& effects);           // line 49
  bool rule_round_skip(Effects& effects);       // line 55
  bool rule_prevote_proposal(Effects& effects); // lines 22 and 28
  bool rule_prevote_any(Effects& effects);      // line 34
  bool rule_proof_of_lock(Effects& effects);    // line 36
  bool rule_prevote_nil(Effects& effects);      // line 44
  bool rule_precommit_any(Effects& effects);    // line 47

  EngineConfig config_;
  Signer* signer_;

  uint64_t height_ = 0;
  int64_t round_ = 0;
  Step step_ = Step::kPropose;
  bool started_ = false;
  bool decided_ = false;
  ValidatorSet validators_;
  std::optional<size_t> own_index_;
  std::optional<int64_t> awaiting_block_round_;

  int64_t locked_round_ = -1;
  BlockId locked_value_;
  int64_t valid_round_ = -1;
  BlockId valid_value_;

  std::map<Hash32, Bytes> blocks_;
  std::map<Hash32, Validity> validity_;
  std::map<int64_t, RoundState> rounds_;
  std::set<std::tuple<size_t, int64_t, VoteType>> evidence_reported_;
  std::vector<Proposal> buffered_proposals_;
  std::vector<Vote> buffered_votes_;
};

}  // namespace automata::consensus
