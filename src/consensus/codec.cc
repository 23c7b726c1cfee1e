#include "automata/consensus/codec.h"

#include "automata/v1/consensus.pb.h"

#include <fmt/format.h>

namespace automata::consensus {
namespace {

namespace pb = automata::v1;

std::string to_field(ByteView bytes) { return automata::to_string(bytes); }

Bytes serialize(const google::protobuf::MessageLite& message) {
  std::string out;
  message.SerializeToString(&out);
  return to_bytes(out);
}

template <size_t N>
Status read_fixed(const std::string& field, std::string_view name, std::array<uint8_t, N>* out) {
  auto value = to_array<N>(as_view(field));
  if (!value) return Status::invalid_argument(fmt::format("{} has {} bytes: expected {}", name, field.size(), N));
  *out = *value;
  return Status::ok();
}

Status read_block_id(const std::string& field, std::string_view name, BlockId* out) {
  if (field.empty()) {
    out->reset();
    return Status::ok();
  }
  Hash32 hash{};
  Status status = read_fixed(field, name, &hash);
  if (status.is_ok()) *out = hash;
  return status;
}

void fill(const Proposal& in, pb::Proposal* out) {
  out->set_height(in.height);
  out->set_round(in.round);
  out->set_pol_round(in.pol_round);
  out->set_block_hash(to_field(in.block_hash));
  out->set_block(to_field(in.block));
  out->set_proposer(to_field(in.proposer));
  out->set_signature(to_field(in.signature));
}

void fill(const Vote& in, pb::Vote* out) {
  out->set_type(in.type == VoteType::kPrevote ? pb::VOTE_TYPE_PREVOTE : pb::VOTE_TYPE_PRECOMMIT);
  out->set_height(in.height);
  out->set_round(in.round);
  if (in.block_hash) out->set_block_hash(to_field(*in.block_hash));
  out->set_validator(to_field(in.validator));
  out->set_signature(to_field(in.signature));
}

void fill(const Commit& in, pb::Commit* out) {
  out->set_height(in.height);
  out->set_round(in.round);
  out->set_block_hash(to_field(in.block_hash));
  for (const CommitSig& sig : in.signatures) {
    pb::CommitSig* entry = out->add_signatures();
    entry->set_validator(to_field(sig.validator));
    entry->set_signature(to_field(sig.signature));
  }
}

Status read(const pb::Proposal& in, Proposal* out) {
  if (in.pol_round() < -1 || in.pol_round() >= in.round()) {
    return Status::invalid_argument(
        fmt::format("proposal pol_round {} is invalid for round {}: it must be -1 or in [0, round)", in.pol_round(),
                    in.round()));
  }
  Proposal value;
  value.height = in.height();
  value.round = in.round();
  value.pol_round = in.pol_round();
  value.block = to_bytes(in.block());
  Status status = read_fixed(in.block_hash(), "proposal block_hash", &value.block_hash);
  if (status.is_ok()) status = read_fixed(in.proposer(), "proposal proposer", &value.proposer);
  if (status.is_ok()) status = read_fixed(in.signature(), "proposal signature", &value.signature);
  if (status.is_ok()) *out = std::move(value);
  return status;
}

Status read(const pb::Vote& in, Vote* out) {
  Vote value;
  switch (in.type()) {
    case pb::VOTE_TYPE_PREVOTE: value.type = VoteType::kPrevote; break;
    case pb::VOTE_TYPE_PRECOMMIT: value.type = VoteType::kPrecommit; break;
    default:
      return Status::invalid_argument(fmt::format("vote type {} is invalid: expected prevote or precommit",
                                                  static_cast<int>(in.type())));
  }
  if (in.round() < 0) return Status::invalid_argument(fmt::format("vote round {} is negative", in.round()));
  value.height = in.height();
  value.round = in.round();
  Status status = read_block_id(in.block_hash(), "vote block_hash", &value.block_hash);
  if (status.is_ok()) status = read_fixed(in.validator(), "vote validator", &value.validator);
  if (status.is_ok()) status = read_fixed(in.signature(), "vote signature", &value.signature);
  if (status.is_ok()) *out = std::move(value);
  return status;
}

Status read(const pb::Commit& in, Commit* out) {
  Commit value;
  value.height = in.height();
  value.round = in.round();
  Status status = read_fixed(in.block_hash(), "commit block_hash", &value.block_hash);
  for (int i = 0; status.is_ok() && i < in.signatures_size(); ++i) {
    CommitSig sig;
    status = read_fixed(in.signatures(i).validator(), "commit validator", &sig.validator);
    if (status.is_ok()) status = read_fixed(in.signatures(i).signature(), "commit signature", &sig.signature);
    value.signatures.push_back(sig);
  }
  if (status.is_ok()) *out = std::move(value);
  return status;
}

template <typename Message>
Status parse(ByteView bytes, std::string_view name, Message* message) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::invalid_argument(fmt::format("{} bytes do not decode as protobuf", name));
  }
  return Status::ok();
}

}  // namespace

Bytes encode_proposal(const Proposal& proposal) {
  pb::Proposal message;
  fill(proposal, &message);
  return serialize(message);
}

Bytes encode_vote(const Vote& vote) {
  pb::Vote message;
  fill(vote, &message);
  return serialize(message);
}

Bytes encode_commit(const Commit& commit) {
  pb::Commit message;
  fill(commit, &message);
  return serialize(message);
}

Bytes encode_evidence(const DuplicateVoteEvidence& evidence) {
  pb::DuplicateVoteEvidence message;
  fill(evidence.vote_a, message.mutable_vote_a());
  fill(evidence.vote_b, message.mutable_vote_b());
  return serialize(message);
}

Bytes encode_recovery_state(const RecoveryState& state) {
  pb::ConsensusRecoveryState message;
  message.set_height(state.height);
  message.set_round(state.round);
  message.set_locked_round(state.locked_round);
  if (state.locked_hash) message.set_locked_block_hash(to_field(*state.locked_hash));
  message.set_locked_block(to_field(state.locked_block));
  message.set_valid_round(state.valid_round);
  if (state.valid_hash) message.set_valid_block_hash(to_field(*state.valid_hash));
  // The valid value is most often the locked one. Its block is then left
  // out and decoding copies the locked block, which halves the bytes
  // synced when a validator locks on a large block.
  bool same_block = state.valid_hash && state.valid_hash == state.locked_hash && state.valid_block == state.locked_block;
  if (!same_block) message.set_valid_block(to_field(state.valid_block));
  return serialize(message);
}

Bytes encode_last_sign_state(const LastSignState& state) {
  pb::LastSignState message;
  message.set_height(state.height);
  message.set_round(state.round);
  message.set_step(static_cast<uint32_t>(state.step));
  message.set_sign_bytes(to_field(state.sign_bytes));
  message.set_signature(to_field(state.signature));
  return serialize(message);
}

Status decode_proposal(ByteView bytes, Proposal* out) {
  pb::Proposal message;
  Status status = parse(bytes, "proposal", &message);
  return status.is_ok() ? read(message, out) : status;
}

Status decode_vote(ByteView bytes, Vote* out) {
  pb::Vote message;
  Status status = parse(bytes, "vote", &message);
  return status.is_ok() ? read(message, out) : status;
}

Status decode_commit(ByteView bytes, Commit* out) {
  pb::Commit message;
  Status status = parse(bytes, "commit", &message);
  return status.is_ok() ? read(message, out) : status;
}

Status decode_evidence(ByteView bytes, DuplicateVoteEvidence* out) {
  pb::DuplicateVoteEvidence message;
  Status status = parse(bytes, "evidence", &message);
  DuplicateVoteEvidence value;
  if (status.is_ok()) status = read(message.vote_a(), &value.vote_a);
  if (status.is_ok()) status = read(message.vote_b(), &value.vote_b);
  if (status.is_ok()) *out = std::move(value);
  return status;
}

Status decode_recovery_state(ByteView bytes, RecoveryState* out) {
  pb::ConsensusRecoveryState message;
  Status status = parse(bytes, "recovery state", &message);
  if (!status.is_ok()) return status;
  RecoveryState value;
  value.height = message.height();
  value.round = message.round();
  value.locked_round = message.locked_round();
  value.locked_block = to_bytes(message.locked_block());
  value.valid_round = message.valid_round();
  value.valid_block = to_bytes(message.valid_block());
  status = read_block_id(message.locked_block_hash(), "recovery state locked_block_hash", &value.locked_hash);
  if (status.is_ok()) status = read_block_id(message.valid_block_hash(), "recovery state valid_block_hash", &value.valid_hash);
  if (status.is_ok() && value.valid_block.empty() && value.valid_hash && value.valid_hash == value.locked_hash) {
    value.valid_block = value.locked_block;
  }
  if (status.is_ok()) *out = std::move(value);
  return status;
}

Status decode_last_sign_state(ByteView bytes, LastSignState* out) {
  pb::LastSignState message;
  Status status = parse(bytes, "last sign state", &message);
  if (!status.is_ok()) return status;
  if (message.step() < 1 || message.step() > 3) {
    return Status::invalid_argument(fmt::format("last sign state step {} is invalid: expected 1, 2 or 3", message.step()));
  }
  LastSignState value;
  value.height = message.height();
  value.round = message.round();
  value.step = static_cast<Step>(message.step());
  value.sign_bytes = to_bytes(message.sign_bytes());
  status = read_fixed(message.signature(), "last sign state signature", &value.signature);
  if (status.is_ok()) *out = std::move(value);
  return status;
}

Bytes encode_message(const ConsensusMessage& message) {
  pb::ConsensusMessage envelope;
  if (const auto* proposal = std::get_if<Proposal>(&message)) fill(*proposal, envelope.mutable_proposal());
  if (const auto* vote = std::get_if<Vote>(&message)) fill(*vote, envelope.mutable_vote());
  if (const auto* commit = std::get_if<Commit>(&message)) fill(*commit, envelope.mutable_commit());
  return serialize(envelope);
}

Status decode_message(ByteView bytes, ConsensusMessage* out) {
  pb::ConsensusMessage envelope;
  Status status = parse(bytes, "consensus message", &envelope);
  if (!status.is_ok()) return status;
  switch (envelope.msg_case()) {
    case pb::ConsensusMessage::kProposal: {
      Proposal value;
      status = read(envelope.proposal(), &value);
      if (status.is_ok()) *out = std::move(value);
      return status;
    }
    case pb::ConsensusMessage::kVote: {
      Vote value;
      status = read(envelope.vote(), &value);
      if (status.is_ok()) *out = std::move(value);
      return status;
    }
    case pb::ConsensusMessage::kCommit: {
      Commit value;
      status = read(envelope.commit(), &value);
      if (status.is_ok()) *out = std::move(value);
      return status;
    }
    default:
      return Status::invalid_argument("consensus message has no proposal, vote or commit set");
  }
}

}  // namespace automata::consensus
