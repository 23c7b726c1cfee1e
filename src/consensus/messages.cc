#include "automata/consensus/messages.h"

#include "automata/crypto/sha256.h"

#include <fmt/format.h>

namespace automata::consensus {
namespace {

constexpr std::string_view kProposalTag = "automata/proposal/v1";
constexpr std::string_view kVoteTag = "automata/vote/v1";

void put_u64(Bytes& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

void put_header(Bytes& out, std::string_view tag, std::string_view chain_id) {
  out.insert(out.end(), tag.begin(), tag.end());
  out.push_back(0);
  const auto length = static_cast<uint32_t>(chain_id.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(length >> shift));
  out.insert(out.end(), chain_id.begin(), chain_id.end());
}

void put_block_id(Bytes& out, const BlockId& id) {
  if (!id) {
    out.push_back(0);
    return;
  }
  out.push_back(1);
  out.insert(out.end(), id->begin(), id->end());
}

std::string short_hash(const BlockId& id) {
  if (!id) return "nil";
  return to_hex(ByteView(id->data(), 4));
}

}  // namespace

std::string_view to_string(VoteType type) {
  return type == VoteType::kPrevote ? "prevote" : "precommit";
}

std::string_view to_string(Step step) {
  switch (step) {
    case Step::kPropose: return "propose";
    case Step::kPrevote: return "prevote";
    case Step::kPrecommit: return "precommit";
  }
  return "unknown";
}

Step step_of(VoteType type) {
  return type == VoteType::kPrevote ? Step::kPrevote : Step::kPrecommit;
}

Bytes proposal_sign_bytes(std::string_view chain_id, const Proposal& proposal) {
  Bytes out;
  out.reserve(96 + chain_id.size());
  put_header(out, kProposalTag, chain_id);
  put_u64(out, proposal.height);
  put_u64(out, static_cast<uint64_t>(proposal.round));
  put_u64(out, static_cast<uint64_t>(proposal.pol_round));
  put_block_id(out, proposal.block_hash);
  return out;
}

Bytes vote_sign_bytes(std::string_view chain_id, VoteType type, uint64_t height, int64_t round,
                      const BlockId& block_hash) {
  Bytes out;
  out.reserve(96 + chain_id.size());
  put_header(out, kVoteTag, chain_id);
  out.push_back(static_cast<uint8_t>(type));
  put_u64(out, height);
  put_u64(out, static_cast<uint64_t>(round));
  put_block_id(out, block_hash);
  return out;
}

Bytes vote_sign_bytes(std::string_view chain_id, const Vote& vote) {
  return vote_sign_bytes(chain_id, vote.type, vote.height, vote.round, vote.block_hash);
}

Hash32 signing_digest(ByteView sign_bytes) { return crypto::sha256(sign_bytes); }

bool verify_signature(const crypto::PublicKey& key, ByteView sign_bytes,
                      const crypto::Signature& signature) {
  const Hash32 digest = signing_digest(sign_bytes);
  return crypto::verify(key, digest, signature);
}

std::string describe(const Vote& vote) {
  return fmt::format("{} h={} r={} {} by {}", to_string(vote.type), vote.height, vote.round,
                     short_hash(vote.block_hash), to_hex(ByteView(vote.validator.data(), 4)));
}

std::string describe(const Proposal& proposal) {
  return fmt::format("proposal h={} r={} pol={} {} by {}", proposal.height, proposal.round,
                     proposal.pol_round, short_hash(proposal.block_hash),
                     to_hex(ByteView(proposal.proposer.data(), 4)));
}

}  // namespace automata::consensus
