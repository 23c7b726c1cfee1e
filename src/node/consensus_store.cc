#include "automata/node/consensus_store.h"

#include "automata/consensus/codec.h"
#include "automata/storage/database.h"
#include "automata/types/crash_point.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/consensus.pb.h"

#include <fmt/format.h>

namespace automata::node {

namespace {

using storage::Column;

constexpr std::string_view kLastDecidedKey = "consensus/last_decided";
constexpr std::string_view kRecoveryKey = "consensus/recovery_state";

ByteView view_of(std::string_view text) {
  return ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

Bytes evidence_key(const consensus::DuplicateVoteEvidence& evidence) {
  const auto& vote = evidence.vote_a;
  Bytes key = storage::encode_height(vote.height);
  Bytes round = storage::encode_height(static_cast<uint64_t>(vote.round));
  key.insert(key.end(), round.begin(), round.end());
  key.push_back(static_cast<uint8_t>(vote.type));
  key.insert(key.end(), vote.validator.begin(), vote.validator.end());
  return key;
}

}  // namespace

ConsensusStore::ConsensusStore(std::unique_ptr<storage::Database> db) : db_(std::move(db)) {}

ConsensusStore::~ConsensusStore() = default;

Status ConsensusStore::open(const std::string& path, std::unique_ptr<ConsensusStore>* out) {
  storage::DatabaseOptions options;
  options.block_cache_bytes = size_t{16} << 20;
  options.max_open_files = 64;
  options.background_jobs = 1;
  std::unique_ptr<storage::Database> db;
  Status status = storage::Database::open(path, options, &db);
  if (!status.is_ok()) return status;
  out->reset(new ConsensusStore(std::move(db)));
  return Status::ok();
}

Status ConsensusStore::save_decided(uint64_t height, ByteView block, const consensus::Commit& commit) {
  v1::DecidedBlock record;
  record.set_block(block.data(), block.size());
  Bytes commit_bytes = consensus::encode_commit(commit);
  if (!record.mutable_commit()->ParseFromArray(commit_bytes.data(), static_cast<int>(commit_bytes.size()))) {
    return Status::corruption(fmt::format("cannot re-read the encoded commit of height {}", height));
  }
  std::string value = record.SerializeAsString();

  storage::WriteBatch batch;
  batch.put(Column::kBlocks, storage::encode_height(height), view_of(value));
  if (height > last_decided_height()) {
    batch.put(Column::kMeta, view_of(kLastDecidedKey), storage::encode_height(height));
  }
  Status status = db_->write(batch, true);
  if (status.is_ok()) crash_point(kCrashAfterDecidedSaved);
  return status;
}

Status ConsensusStore::load_decided(uint64_t height, Bytes* block, consensus::Commit* commit) const {
  Bytes value;
  Status status = db_->get(Column::kBlocks, storage::encode_height(height), &value);
  if (!status.is_ok()) return status;
  v1::DecidedBlock record;
  if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Status::corruption(fmt::format("stored decided block at height {} does not parse", height));
  }
  block->assign(record.block().begin(), record.block().end());
  std::string commit_bytes = record.commit().SerializeAsString();
  return consensus::decode_commit(view_of(commit_bytes), commit);
}

uint64_t ConsensusStore::last_decided_height() const {
  Bytes value;
  if (!db_->get(Column::kMeta, view_of(kLastDecidedKey), &value).is_ok()) return 0;
  return storage::decode_height(value);
}

Status ConsensusStore::save_recovery_state(const consensus::RecoveryState& state) {
  storage::WriteBatch batch;
  batch.put(Column::kMeta, view_of(kRecoveryKey), consensus::encode_recovery_state(state));
  return db_->write(batch, true);
}

Status ConsensusStore::load_recovery_state(std::optional<consensus::RecoveryState>* state) const {
  Bytes value;
  Status status = db_->get(Column::kMeta, view_of(kRecoveryKey), &value);
  if (status.is_not_found()) {
    state->reset();
    return Status::ok();
  }
  if (!status.is_ok()) return status;
  consensus::RecoveryState decoded;
  status = consensus::decode_recovery_state(value, &decoded);
  if (!status.is_ok()) return status;
  *state = std::move(decoded);
  return Status::ok();
}

Status ConsensusStore::save_evidence(const EvidenceEntry& entry) {
  v1::EvidenceRecord record;
  Bytes evidence_bytes = consensus::encode_evidence(entry.evidence);
  if (!record.mutable_evidence()->ParseFromArray(evidence_bytes.data(), static_cast<int>(evidence_bytes.size()))) {
    return Status::corruption("cannot re-read encoded evidence");
  }
  record.set_included_height(entry.included_height);
  std::string value = record.SerializeAsString();
  storage::WriteBatch batch;
  batch.put(Column::kDefault, evidence_key(entry.evidence), view_of(value));
  return db_->write(batch, true);
}

Status ConsensusStore::load_evidence(std::vector<EvidenceEntry>* entries) const {
  entries->clear();
  auto it = db_->new_iterator(Column::kDefault);
  for (it->seek_to_first(); it->valid(); it->next()) {
    v1::EvidenceRecord record;
    ByteView value = it->value();
    if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return Status::corruption("stored evidence record does not parse");
    }
    EvidenceEntry entry;
    std::string evidence_bytes = record.evidence().SerializeAsString();
    Status status = consensus::decode_evidence(view_of(evidence_bytes), &entry.evidence);
    if (!status.is_ok()) return status;
    entry.included_height = record.included_height();
    entries->push_back(std::move(entry));
  }
  return it->status();
}

}  // namespace automata::node
