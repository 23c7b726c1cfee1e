#include "automata/node/evidence_pool.h"

#include "automata/types/logging.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace automata::node {

Status verify_evidence(std::string_view chain_id, const consensus::ValidatorSet& validators,
                       const consensus::DuplicateVoteEvidence& evidence) {
  const auto& a = evidence.vote_a;
  const auto& b = evidence.vote_b;
  if (a.validator != b.validator) return Status::invalid_argument("evidence: the two votes are by different validators");
  if (a.height != b.height || a.round != b.round || a.type != b.type) {
    return Status::invalid_argument(fmt::format("evidence: the votes differ in height, round or type ({} vs {})",
                                                consensus::describe(a), consensus::describe(b)));
  }
  if (a.block_hash == b.block_hash) {
    return Status::invalid_argument(fmt::format("evidence: both votes name the same block id ({})", consensus::describe(a)));
  }
  if (!validators.index_of(a.validator)) {
    return Status::invalid_argument(fmt::format("evidence: {} is not a validator", to_hex(a.validator)));
  }
  for (const auto* vote : {&a, &b}) {
    if (!consensus::verify_signature(vote->validator, consensus::vote_sign_bytes(chain_id, *vote), vote->signature)) {
      return Status::invalid_argument(fmt::format("evidence: invalid signature on {}", consensus::describe(*vote)));
    }
  }
  return Status::ok();
}

EvidencePool::EvidencePool(ConsensusStore* store, std::string chain_id, consensus::ValidatorSet validators)
    : store_(store), chain_id_(std::move(chain_id)), validators_(std::move(validators)) {}

EvidencePool::Key EvidencePool::key_of(const consensus::DuplicateVoteEvidence& evidence) {
  const auto& vote = evidence.vote_a;
  return {vote.height, vote.round, static_cast<uint8_t>(vote.type), vote.validator};
}

Status EvidencePool::load() {
  std::vector<EvidenceEntry> stored;
  Status status = store_->load_evidence(&stored);
  if (!status.is_ok()) return status;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& entry : stored) entries_[key_of(entry.evidence)] = std::move(entry);
  return Status::ok();
}

Status EvidencePool::add(const consensus::DuplicateVoteEvidence& evidence, bool* added) {
  *added = false;
  Status status = verify_evidence(chain_id_, validators_, evidence);
  if (!status.is_ok()) return status;
  Key key = key_of(evidence);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (entries_.contains(key)) return Status::ok();
  }
  EvidenceEntry entry{evidence, 0};
  status = store_->save_evidence(entry);
  if (!status.is_ok()) return status;
  std::lock_guard<std::mutex> lock(mutex_);
  *added = entries_.emplace(key, std::move(entry)).second;
  if (*added) {
    logger("evidence")->warn("double-sign evidence against validator {}: {} and {}", to_hex(evidence.vote_a.validator),
                             consensus::describe(evidence.vote_a), consensus::describe(evidence.vote_b));
  }
  return Status::ok();
}

std::vector<consensus::DuplicateVoteEvidence> EvidencePool::pending(size_t max) const {
  std::vector<consensus::DuplicateVoteEvidence> out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, entry] : entries_) {
    if (out.size() >= max) break;
    if (entry.included_height == 0) out.push_back(entry.evidence);
  }
  return out;
}

Status EvidencePool::mark_included(const std::vector<consensus::DuplicateVoteEvidence>& evidence, uint64_t height) {
  for (const auto& item : evidence) {
    EvidenceEntry entry{item, height};
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = entries_.find(key_of(item));
      if (it != entries_.end()) {
        if (it->second.included_height != 0) continue;
        entry.evidence = it->second.evidence;
      }
    }
    Status status = store_->save_evidence(entry);
    if (!status.is_ok()) return status;
    std::lock_guard<std::mutex> lock(mutex_);
    entries_[key_of(item)] = std::move(entry);
  }
  return Status::ok();
}

std::optional<uint64_t> EvidencePool::included_height(const consensus::DuplicateVoteEvidence& evidence) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key_of(evidence));
  if (it == entries_.end() || it->second.included_height == 0) return std::nullopt;
  return it->second.included_height;
}

std::vector<EvidenceEntry> EvidencePool::list(std::optional<uint64_t> height) const {
  std::vector<EvidenceEntry> out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, entry] : entries_) {
    if (!height || std::get<0>(key) == *height) out.push_back(entry);
  }
  return out;
}

}  // namespace automata::node
