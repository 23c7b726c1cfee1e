// Consensus messages as plain values: proposals, votes, commits and
// duplicate-vote evidence, plus the canonical sign bytes of each.
//
// A signature is BIP-340 over SHA-256 of the sign bytes. The sign bytes begin
// with a tag naming the message kind and the chain id, so a signature for one
// kind or chain never verifies as another. Wire encoding lives in codec.h.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace automata::consensus {

// A block hash, or nullopt for nil.
using BlockId = std::optional<Hash32>;

enum class VoteType : uint8_t { kPrevote = 1, kPrecommit = 2 };

// The step of a round. The numeric order is the signing order within a
// round, which the signer relies on.
enum class Step : uint8_t { kPropose = 1, kPrevote = 2, kPrecommit = 3 };

std::string_view to_string(VoteType type);
std::string_view to_string(Step step);
Step step_of(VoteType type);

struct Proposal {
  uint64_t height = 0;
  int64_t round = 0;
  int64_t pol_round = -1;  // round of the proof of lock, or -1
  Hash32 block_hash{};
  Bytes block;  // not signed; the application checks it hashes to block_hash
  crypto::PublicKey proposer{};
  crypto::Signature signature{};

  bool operator==(const Proposal&) const = default;
};

struct Vote {
  VoteType type = VoteType::kPrevote;
  uint64_t height = 0;
  int64_t round = 0;
  BlockId block_hash;
  crypto::PublicKey validator{};
  crypto::Signature signature{};

  bool operator==(const Vote&) const = default;
};

struct CommitSig {
  crypto::PublicKey validator{};
  crypto::Signature signature{};

  bool operator==(const CommitSig&) const = default;
};

// Precommits for block_hash at (height, round) from more than 2/3 of the
// voting power. Each signature is over the precommit sign bytes.
struct Commit {
  uint64_t height = 0;
  int64_t round = 0;
  Hash32 block_hash{};
  std::vector<CommitSig> signatures;

  bool operator==(const Commit&) const = default;
};

// Two votes by one validator with the same (height, round, type) and
// different block ids, both with valid signatures.
struct DuplicateVoteEvidence {
  Vote vote_a;
  Vote vote_b;

  bool operator==(const DuplicateVoteEvidence&) const = default;
};

// Canonical sign bytes:
//   tag ("automata/proposal/v1" or "automata/vote/v1"), 0x00,
//   u32 big-endian chain id length, chain id,
//   vote only: u8 vote type,
//   u64 big-endian height, i64 big-endian round,
//   proposal only: i64 big-endian pol_round,
//   u8 1 then 32 hash bytes, or u8 0 for nil.
Bytes proposal_sign_bytes(std::string_view chain_id, const Proposal& proposal);
Bytes vote_sign_bytes(std::string_view chain_id, const Vote& vote);
Bytes vote_sign_bytes(std::string_view chain_id, VoteType type, uint64_t height, int64_t round,
                      const BlockId& block_hash);

// SHA-256 of the sign bytes: the message that is signed.
Hash32 signing_digest(ByteView sign_bytes);

// Checks a BIP-340 signature over SHA-256 of sign_bytes. Returns false for
// an invalid key or signature.
bool verify_signature(const crypto::PublicKey& key, ByteView sign_bytes,
                      const crypto::Signature& signature);

// Short text for logs, e.g. "prevote h=5 r=1 4f2a..." (hash prefix or "nil").
std::string describe(const Vote& vote);
std::string describe(const Proposal& proposal);

}  // namespace automata::consensus
