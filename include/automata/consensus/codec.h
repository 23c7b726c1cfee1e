// Protobuf wire encoding of consensus messages (proto/automata/v1/
// consensus.proto). Decoding checks field sizes and returns a Status that
// names the bad field; it never throws.
#pragma once

#include "automata/consensus/engine.h"
#include "automata/consensus/messages.h"
#include "automata/consensus/signer.h"
#include "automata/types/status.h"

#include <variant>

namespace automata::consensus {

Bytes encode_proposal(const Proposal& proposal);
Bytes encode_vote(const Vote& vote);
Bytes encode_commit(const Commit& commit);
Bytes encode_evidence(const DuplicateVoteEvidence& evidence);
Bytes encode_recovery_state(const RecoveryState& state);
Bytes encode_last_sign_state(const LastSignState& state);

Status decode_proposal(ByteView bytes, Proposal* out);
Status decode_vote(ByteView bytes, Vote* out);
Status decode_commit(ByteView bytes, Commit* out);
Status decode_evidence(ByteView bytes, DuplicateVoteEvidence* out);
Status decode_recovery_state(ByteView bytes, RecoveryState* out);
Status decode_last_sign_state(ByteView bytes, LastSignState* out);

// A ConsensusMessage envelope for the consensus channel.
using ConsensusMessage = std::variant<Proposal, Vote, Commit>;
Bytes encode_message(const ConsensusMessage& message);
Status decode_message(ByteView bytes, ConsensusMessage* out);

}  // namespace automata::consensus
