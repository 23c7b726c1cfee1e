#include "automata/consensus/engine.h"

#include "automata/crypto/sha256.h"
#include "automata/types/logging.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace automata::consensus {
namespace {

uint64_t saturating_timeout(uint64_t base, uint64_t delta, int64_t round) {
  const auto r = static_cast<uint64_t>(std::max<int64_t>(round, 0));
  if (delta != 0 && r > (UINT64_MAX - base) / delta) return UINT64_MAX;
  return base + r * delta;
}

}  // namespace

uint64_t TimeoutConfig::duration_ms(Step step, int64_t round) const {
  switch (step) {
    case Step::kPropose: return saturating_timeout(propose_base_ms, propose_delta_ms, round);
    case Step::kPrevote: return saturating_timeout(prevote_base_ms, prevote_delta_ms, round);
    case Step::kPrecommit: return saturating_timeout(precommit_base_ms, precommit_delta_ms, round);
  }
  return propose_base_ms;
}

Status verify_commit(std::string_view chain_id, const ValidatorSet& validators, const Commit& commit) {
  const Bytes sign_bytes = vote_sign_bytes(chain_id, VoteType::kPrecommit, commit.height, commit.round,
                                           BlockId(commit.block_hash));
  std::set<size_t> seen;
  uint64_t power = 0;
  for (size_t i = 0; i < commit.signatures.size(); ++i) {
    const CommitSig& sig = commit.signatures[i];
    const auto index = validators.index_of(sig.validator);
    if (!index) {
      return Status::invalid_argument(fmt::format("commit signature {} is from {}, which is not a validator", i,
                                                  to_hex(sig.validator)));
    }
    if (!seen.insert(*index).second) {
      return Status::invalid_argument(fmt::format("commit repeats validator {}", to_hex(sig.validator)));
    }
    if (!verify_signature(sig.validator, sign_bytes, sig.signature)) {
      return Status::invalid_argument(fmt::format("commit signature {} by {} is invalid for height {} round {}", i,
                                                  to_hex(sig.validator), commit.height, commit.round));
    }
    power += validators.at(*index).power;
  }
  if (!validators.is_two_thirds(power)) {
    return Status::invalid_argument(fmt::format("commit for height {} has power {} of {}: more than 2/3 is required",
                                                commit.height, power, validators.total_power()));
  }
  return Status::ok();
}

Engine::Engine(EngineConfig config, Signer* signer) : config_(std::move(config)), signer_(signer) {
  if (!config_.block_hash) config_.block_hash = [](ByteView block) { return crypto::sha256(block); };
}

void Engine::reset_height(uint64_t height, ValidatorSet validators) {
  height_ = height;
  round_ = 0;
  step_ = Step::kPropose;
  started_ = true;
  decided_ = false;
  validators_ = std::move(validators);
  own_index_ = signer_ != nullptr ? validators_.index_of(signer_->public_key()) : std::nullopt;
  awaiting_block_round_.reset();
  locked_round_ = -1;
  locked_value_.reset();
  valid_round_ = -1;
  valid_value_.reset();
  blocks_.clear();
  validity_.clear();
  rounds_.clear();
  evidence_reported_.clear();
}

Effects Engine::start_height(uint64_t height, ValidatorSet validators) {
  Effects effects;
  if (started_ && height <= height_) {
    logger("consensus")->warn("ignoring start of height {}: already at height {}", height, height_);
    return effects;
  }
  reset_height(height, std::move(validators));
  start_round(0, effects);
  replay_buffered(effects);
  evaluate(effects);
  return effects;
}

Effects Engine::recover(const RecoveryState& state, ValidatorSet validators) {
  Effects effects;
  reset_height(state.height, std::move(validators));
  locked_round_ = state.locked_round;
  locked_value_ = state.locked_hash;
  valid_round_ = state.valid_round;
  valid_value_ = state.valid_hash;
  // Both values passed validation before they were locked or marked valid.
  if (state.locked_hash) {
    blocks_[*state.locked_hash] = state.locked_block;
    validity_[*state.locked_hash] = Validity::kValid;
  }
  if (state.valid_hash) {
    blocks_[*state.valid_hash] = state.valid_block;
    validity_[*state.valid_hash] = Validity::kValid;
  }
  logger("consensus")->info("recovering at height {} round {} (locked round {}, valid round {})", state.height,
                            state.round, locked_round_, valid_round_);
  start_round(std::max<int64_t>(state.round, 0), effects);
  replay_buffered(effects);
  evaluate(effects);
  return effects;
}

RecoveryState Engine::recovery_state() const {
  RecoveryState state;
  state.height = height_;
  state.round = round_;
  state.locked_round = locked_round_;
  state.locked_hash = locked_value_;
  if (locked_value_) {
    auto it = blocks_.find(*locked_value_);
    if (it != blocks_.end()) state.locked_block = it->second;
  }
  state.valid_round = valid_round_;
  state.valid_hash = valid_value_;
  if (valid_value_) {
    auto it = blocks_.find(*valid_value_);
    if (it != blocks_.end()) state.valid_block = it->second;
  }
  return state;
}

Engine::RoundState& Engine::round_state(int64_t round) { return rounds_[round]; }

VoteSet& Engine::vote_set(int64_t round, VoteType type) {
  RoundState& state = round_state(round);
  std::optional<VoteSet>& set = type == VoteType::kPrevote ? state.prevotes : state.precommits;
  if (!set) set.emplace(&validators_, type);
  return *set;
}

std::optional<Engine::Validity> Engine::validity_of(const Hash32& hash) const {
  auto it = validity_.find(hash);
  if (it == validity_.end()) return std::nullopt;
  return it->second;
}

// Line 11, StartRound.
void Engine::start_round(int64_t round, Effects& effects) {
  round_ = round;
  step_ = Step::kPropose;
  awaiting_block_round_.reset();
  persist(effects);

  const bool is_proposer = own_index_ && validators_.proposer_index(round) == *own_index_;
  if (!is_proposer) {
    effects.push_back(ScheduleTimeout{height_, round, Step::kPropose,
                                      config_.timeouts.duration_ms(Step::kPropose, round)});
    return;
  }
  if (valid_value_) {
    propose(*valid_value_, blocks_[*valid_value_], valid_round_, effects);
    return;
  }
  awaiting_block_round_ = round;
  effects.push_back(RequestBlock{height_, round});
}

Effects Engine::on_block_to_propose(uint64_t height, int64_t round, Bytes block) {
  Effects effects;
  if (!started_ || decided_ || height != height_ || round != round_ || step_ != Step::kPropose ||
      awaiting_block_round_ != round) {
    return effects;
  }
  awaiting_block_round_.reset();
  const Hash32 hash = config_.block_hash(block);
  blocks_[hash] = block;
  validity_[hash] = Validity::kValid;  // the application built it
  propose(hash, block, -1, effects);
  evaluate(effects);
  return effects;
}

void Engine::propose(const Hash32& hash, const Bytes& block, int64_t pol_round, Effects& effects) {
  Proposal proposal;
  proposal.height = height_;
  proposal.round = round_;
  proposal.pol_round = pol_round;
  proposal.block_hash = hash;
  proposal.block = block;
  proposal.proposer = signer_->public_key();
  const Bytes sign_bytes = proposal_sign_bytes(config_.chain_id, proposal);
  const Status status = signer_->sign(height_, round_, Step::kPropose, sign_bytes, &proposal.signature);
  if (!status.is_ok()) {
    logger("consensus")->warn("not proposing at height {} round {}: {}", height_, round_, status.to_string());
    // Without a proposal of its own, the round must still end by timeout;
    // otherwise a lone validator that restarts mid-round would stall.
    effects.push_back(ScheduleTimeout{height_, round_, Step::kPropose,
                                      config_.timeouts.duration_ms(Step::kPropose, round_)});
    return;
  }
  effects.push_back(BroadcastProposal{proposal});
  add_proposal(proposal, effects);
}

void Engine::cast_vote(VoteType type, const BlockId& block_id, Effects& effects) {
  step_ = step_of(type);
  if (!own_index_) return;
  Vote vote;
  vote.type = type;
  vote.height = height_;
  vote.round = round_;
  vote.block_hash = block_id;
  vote.validator = signer_->public_key();
  const Bytes sign_bytes = vote_sign_bytes(config_.chain_id, vote);
  const Status status = signer_->sign(height_, round_, step_of(type), sign_bytes, &vote.signature);
  if (!status.is_ok()) {
    logger("consensus")->warn("not voting at height {} round {}: {}", height_, round_, status.to_string());
    return;
  }
  effects.push_back(BroadcastVote{vote});
  vote_set(round_, type).add(vote, *own_index_, nullptr);
  round_state(round_).senders.insert(*own_index_);
}

void Engine::add_proposal(const Proposal& proposal, Effects& effects) {
  RoundState& state = round_state(proposal.round);
  state.proposals.push_back(proposal);
  state.senders.insert(validators_.proposer_index(proposal.round));
  blocks_.emplace(proposal.block_hash, proposal.block);
  if (!validity_of(proposal.block_hash)) {
    validity_[proposal.block_hash] = Validity::kPending;
    effects.push_back(ValidateBlock{height_, proposal.round, proposal.block_hash, proposal.block});
  }
}

Effects Engine::on_proposal(const Proposal& proposal) {
  Effects effects;
  if (started_ && proposal.height == height_ + 1) {
    if (buffered_proposals_.size() < kMaxBufferedMessages) buffered_proposals_.push_back(proposal);
    return effects;
  }
  if (!started_ || decided_ || proposal.height != height_) return effects;
  if (proposal.round < 0 || proposal.round > round_ + kMaxFutureRounds || proposal.pol_round < -1 ||
      proposal.pol_round >= proposal.round) {
    return effects;
  }
  const auto index = validators_.index_of(proposal.proposer);
  if (!index || *index != validators_.proposer_index(proposal.round)) return effects;

  RoundState& state = round_state(proposal.round);
  for (const Proposal& known : state.proposals) {
    if (known.block_hash == proposal.block_hash) return effects;
  }
  // NOTE: a proposer that equivocates gets two proposals per round kept, so
  // honest nodes can still lock on either; further ones are dropped.
  if (state.proposals.size() >= 2) return effects;
  if (!verify_signature(proposal.proposer, proposal_sign_bytes(config_.chain_id, proposal), proposal.signature)) {
    logger("consensus")->debug("ignoring {}: invalid signature", describe(proposal));
    return effects;
  }
  if (config_.block_hash(proposal.block) != proposal.block_hash) {
    logger("consensus")->debug("ignoring {}: block does not hash to block_hash", describe(proposal));
    return effects;
  }
  add_proposal(proposal, effects);
  evaluate(effects);
  return effects;
}

Effects Engine::on_vote(const Vote& vote) {
  Effects effects;
  if (started_ && vote.height == height_ + 1) {
    if (buffered_votes_.size() < kMaxBufferedMessages) buffered_votes_.push_back(vote);
    return effects;
  }
  if (!started_ || decided_ || vote.height != height_) return effects;
  if (vote.round < 0 || vote.round > round_ + kMaxFutureRounds) return effects;
  if (vote.type != VoteType::kPrevote && vote.type != VoteType::kPrecommit) return effects;
  const auto index = validators_.index_of(vote.validator);
  if (!index) return effects;

  VoteSet& set = vote_set(vote.round, vote.type);
  if (set.contains(vote, *index)) return effects;  // exact duplicate: skip the signature check
  if (!verify_signature(vote.validator, vote_sign_bytes(config_.chain_id, vote), vote.signature)) {
    logger("consensus")->debug("ignoring {}: invalid signature", describe(vote));
    return effects;
  }
  DuplicateVoteEvidence evidence;
  switch (set.add(vote, *index, &evidence)) {
    case VoteSet::AddResult::kDuplicate:
      return effects;
    case VoteSet::AddResult::kConflict:
      if (evidence_reported_.emplace(*index, vote.round, vote.type).second) {
        logger("consensus")->warn("validator {} signed conflicting votes: {} and {}", to_hex(vote.validator),
                                  describe(evidence.vote_a), describe(evidence.vote_b));
        effects.push_back(ReportEvidence{evidence});
      }
      break;  // the conflicting vote still counts for its own block id
    case VoteSet::AddResult::kAdded:
      break;
  }
  round_state(vote.round).senders.insert(*index);
  evaluate(effects);
  return effects;
}

Effects Engine::on_timeout(uint64_t height, int64_t round, Step step) {
  Effects effects;
  if (!started_ || decided_ || height != height_ || round != round_) return effects;
  switch (step) {
    case Step::kPropose:  // line 57
      if (step_ == Step::kPropose) cast_vote(VoteType::kPrevote, std::nullopt, effects);
      break;
    case Step::kPrevote:  // line 61
      if (step_ == Step::kPrevote) cast_vote(VoteType::kPrecommit, std::nullopt, effects);
      break;
    case Step::kPrecommit:  // line 65
      start_round(round + 1, effects);
      break;
  }
  evaluate(effects);
  return effects;
}

Effects Engine::on_block_validity(uint64_t height, const Hash32& block_hash, bool valid) {
  Effects effects;
  if (!started_ || decided_ || height != height_) return effects;
  auto it = validity_.find(block_hash);
  if (it == validity_.end() || it->second != Validity::kPending) return effects;
  it->second = valid ? Validity::kValid : Validity::kInvalid;
  evaluate(effects);
  return effects;
}

Effects Engine::on_commit(const Commit& commit, Bytes block) {
  Effects effects;
  if (!started_ || decided_ || commit.height != height_) return effects;
  if (config_.block_hash(block) != commit.block_hash) {
    logger("consensus")->warn("ignoring commit for height {}: block does not hash to the committed hash",
                              commit.height);
    return effects;
  }
  const Status status = verify_commit(config_.chain_id, validators_, commit);
  if (!status.is_ok()) {
    logger("consensus")->warn("ignoring commit for height {}: {}", commit.height, status.to_string());
    return effects;
  }
  blocks_[commit.block_hash] = std::move(block);
  decide(commit.round, commit.block_hash, commit, effects);
  return effects;
}

void Engine::replay_buffered(Effects& effects) {
  std::vector<Proposal> proposals;
  std::vector<Vote> votes;
  proposals.swap(buffered_proposals_);
  votes.swap(buffered_votes_);
  for (const Proposal& proposal : proposals) {
    Effects more = on_proposal(proposal);
    effects.insert(effects.end(), more.begin(), more.end());
  }
  for (const Vote& vote : votes) {
    Effects more = on_vote(vote);
    effects.insert(effects.end(), more.begin(), more.end());
  }
}

void Engine::decide(int64_t round, const Hash32& hash, Commit commit, Effects& effects) {
  decided_ = true;
  logger("consensus")->debug("decided height {} round {} block {}", height_, round, to_hex(hash));
  effects.push_back(Decide{height_, round, hash, blocks_[hash], std::move(commit)});
}

void Engine::evaluate(Effects& effects) {
  while (started_ && !decided_) {
    if (rule_decide(effects)) return;
    if (rule_round_skip(effects)) continue;
    bool fired = rule_prevote_proposal(effects);
    fired = rule_prevote_any(effects) || fired;
    fired = rule_proof_of_lock(effects) || fired;
    fired = rule_prevote_nil(effects) || fired;
    fired = rule_precommit_any(effects) || fired;
    if (!fired) return;
  }
}

// Line 49: a proposal for v in some round and +2/3 precommits for v there.
bool Engine::rule_decide(Effects& effects) {
  for (auto& [round, state] : rounds_) {
    if (!state.precommits) continue;
    const auto majority = state.precommits->two_thirds_majority();
    if (!majority || !*majority) continue;
    const Hash32& hash = **majority;
    const bool proposed = std::ranges::any_of(state.proposals, [&](const Proposal& p) { return p.block_hash == hash; });
    if (!proposed || validity_of(hash) != Validity::kValid) continue;

    Commit commit{height_, round, hash, {}};
    for (const Vote& vote : state.precommits->votes()) {
      if (vote.block_hash == *majority) commit.signatures.push_back(CommitSig{vote.validator, vote.signature});
    }
    decide(round, hash, std::move(commit), effects);
    return true;
  }
  return false;
}

// Line 55: messages of a higher round from more than 1/3 of the power.
bool Engine::rule_round_skip(Effects& effects) {
  for (auto it = rounds_.rbegin(); it != rounds_.rend() && it->first > round_; ++it) {
    uint64_t power = 0;
    for (size_t index : it->second.senders) power += validators_.at(index).power;
    if (validators_.is_one_third(power)) {
      start_round(it->first, effects);
      return true;
    }
  }
  return false;
}

// Lines 22 and 28: the first proposal of this round decides the prevote.
bool Engine::rule_prevote_proposal(Effects& effects) {
  if (step_ != Step::kPropose) return false;
  auto it = rounds_.find(round_);
  if (it == rounds_.end()) return false;
  for (const Proposal& proposal : it->second.proposals) {
    const auto validity = validity_of(proposal.block_hash);
    if (!validity || *validity == Validity::kPending) continue;
    const bool valid = *validity == Validity::kValid;
    const BlockId value = proposal.block_hash;

    if (proposal.pol_round == -1) {
      const bool vote_value = valid && (locked_round_ == -1 || locked_value_ == value);
      cast_vote(VoteType::kPrevote, vote_value ? value : std::nullopt, effects);
      return true;
    }
    auto pol = rounds_.find(proposal.pol_round);
    if (pol == rounds_.end() || !pol->second.prevotes || !pol->second.prevotes->has_two_thirds_for(value)) continue;
    const bool vote_value = valid && (locked_round_ <= proposal.pol_round || locked_value_ == value);
    cast_vote(VoteType::kPrevote, vote_value ? value : std::nullopt, effects);
    return true;
  }
  return false;
}

// Line 34: +2/3 prevotes of any kind in this round, the first time.
bool Engine::rule_prevote_any(Effects& effects) {
  if (step_ != Step::kPrevote) return false;
  RoundState& state = round_state(round_);
  if (state.prevote_timeout_scheduled || !state.prevotes || !state.prevotes->has_two_thirds_any()) return false;
  state.prevote_timeout_scheduled = true;
  effects.push_back(ScheduleTimeout{height_, round_, Step::kPrevote,
                                    config_.timeouts.duration_ms(Step::kPrevote, round_)});
  return true;
}

// Line 36: a valid proposal and +2/3 prevotes for it in this round.
bool Engine::rule_proof_of_lock(Effects& effects) {
  if (step_ == Step::kPropose) return false;
  RoundState& state = round_state(round_);
  if (state.proof_of_lock_handled || !state.prevotes) return false;
  for (const Proposal& proposal : state.proposals) {
    const BlockId value = proposal.block_hash;
    if (!state.prevotes->has_two_thirds_for(value) || validity_of(proposal.block_hash) != Validity::kValid) continue;
    state.proof_of_lock_handled = true;
    const bool precommit = step_ == Step::kPrevote;
    if (precommit) {
      locked_value_ = value;
      locked_round_ = round_;
    }
    valid_value_ = value;
    valid_round_ = round_;
    persist(effects);  // the lock must be durable before the precommit leaves
    if (precommit) cast_vote(VoteType::kPrecommit, value, effects);
    return true;
  }
  return false;
}

// Line 44: +2/3 prevotes for nil in this round.
bool Engine::rule_prevote_nil(Effects& effects) {
  if (step_ != Step::kPrevote) return false;
  auto it = rounds_.find(round_);
  if (it == rounds_.end() || !it->second.prevotes || !it->second.prevotes->has_two_thirds_for(std::nullopt)) {
    return false;
  }
  cast_vote(VoteType::kPrecommit, std::nullopt, effects);
  return true;
}

// Line 47: +2/3 precommits of any kind in this round, the first time.
bool Engine::rule_precommit_any(Effects& effects) {
  RoundState& state = round_state(round_);
  if (state.precommit_timeout_scheduled || !state.precommits || !state.precommits->has_two_thirds_any()) {
    return false;
  }
  state.precommit_timeout_scheduled = true;
  effects.push_back(ScheduleTimeout{height_, round_, Step::kPrecommit,
                                    config_.timeouts.duration_ms(Step::kPrecommit, round_)});
  return true;
}

std::vector<Proposal> Engine::proposals() const {
  std::vector<Proposal> out;
  for (const auto& [round, state] : rounds_) out.insert(out.end(), state.proposals.begin(), state.proposals.end());
  return out;
}

std::vector<Vote> Engine::votes() const {
  std::vector<Vote> out;
  for (const auto& [round, state] : rounds_) {
    if (state.prevotes) {
      auto prevotes = state.prevotes->votes();
      out.insert(out.end(), prevotes.begin(), prevotes.end());
    }
    if (state.precommits) {
      auto precommits = state.precommits->votes();
      out.insert(out.end(), precommits.begin(), precommits.end());
    }
  }
  return out;
}

}  // namespace automata::consensus
