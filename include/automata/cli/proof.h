// Client-side check of a state_proof response against the block header at
// the same height, so a proof is trusted only as far as the header is.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <nlohmann/json_fwd.hpp>

#include <optional>

namespace automata::cli {

struct VerifiedProof {
  uint64_t height = 0;
  Hash32 block_hash{};
  Hash32 state_root{};  // from the decoded header
  Bytes key;
  std::optional<Bytes> value;  // nullopt: the proof shows the key is absent
};

// Checks a state_proof result against a block_get result, in this order:
//   1. SHA-256(header_bytes) equals the block's "hash".
//   2. header_bytes decodes as a BlockHeader at the proof's height.
//   3. The proof is for expected_key, and "value" and "exists" agree.
//   4. automata::state::verify_state_proof accepts the proof against
//      header.state_root.
// Returns invalid_argument naming the first check that failed, or ok with
// *out filled.
Status verify_proof_response(const nlohmann::json& proof_result, const nlohmann::json& block_result,
                             ByteView expected_key, VerifiedProof* out);

}  // namespace automata::cli
