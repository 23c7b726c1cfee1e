// Layout of keys in the authenticated state tree. Every key starts with a
// one-byte type tag so that key spaces never collide. Part of consensus:
// changing a layout changes every state root.
#pragma once

#include "automata/types/bytes.h"

#include <initializer_list>
#include <string_view>

namespace automata::keys {

inline constexpr uint8_t kAccountTag = 0x01;  // 0x01 || address(20) -> v1.Account
inline constexpr uint8_t kSupplyTag = 0x02;   // 0x02 || denom       -> decimal amount
inline constexpr uint8_t kParamsTag = 0x03;   // 0x03                -> v1.ChainParams
inline constexpr uint8_t kValidatorsTag = 0x04;  // 0x04             -> v1.ValidatorSet

// Ownable objects and code assets. Index keys map to the one byte 0x01:
// the key itself is the entry.
inline constexpr uint8_t kObjectTag = 0x10;    // 0x10 || id(32)          -> v1.ObjectEnvelope
inline constexpr uint8_t kBlobTag = 0x11;      // 0x11 || sha256(32)      -> blob bytes
inline constexpr uint8_t kVersionTag = 0x12;   // 0x12 || version id(32)  -> v1.StoredVersion
inline constexpr uint8_t kTreeTag = 0x13;      // 0x13 || tree hash(32)   -> v1.CodeTree
inline constexpr uint8_t kProposalTag = 0x14;  // 0x14 || id(32)          -> v1.CodeProposal
inline constexpr uint8_t kOfferTag = 0x15;     // 0x15 || id(32)          -> v1.Offer
inline constexpr uint8_t kOwnerIndexTag = 0x16;   // 0x16 || owner(20) || object id(32)  -> 0x01
inline constexpr uint8_t kAuthorIndexTag = 0x17;  // 0x17 || author(20) || asset id(32)  -> 0x01
inline constexpr uint8_t kProposalIndexTag = 0x18;  // 0x18 || asset id(32) || proposal id(32) -> 0x01
inline constexpr uint8_t kAssetIndexTag = 0x19;     // 0x19 || asset id(32)  -> 0x01 (every code asset)

// Model NFTs. The NFT itself is an object (kObjectTag, type "model.nft");
// its owner index is kOwnerIndexTag.
inline constexpr uint8_t kModelIndexTag = 0x1A;    // 0x1A || model id(32) -> 0x01 (every model)
inline constexpr uint8_t kCreatorIndexTag = 0x1B;  // 0x1B || creator(20) || model id(32) -> 0x01
inline constexpr uint8_t kHoldingTag = 0x1C;       // 0x1C || model id(32) || node(20) -> v1.ModelHolding

inline Bytes account(const Address& address) {
  Bytes key;
  key.reserve(1 + address.size());
  key.push_back(kAccountTag);
  key.insert(key.end(), address.begin(), address.end());
  return key;
}

inline Bytes supply(std::string_view denom) {
  Bytes key;
  key.reserve(1 + denom.size());
  key.push_back(kSupplyTag);
  key.insert(key.end(), denom.begin(), denom.end());
  return key;
}

// tag || each part, in order.
inline Bytes tagged(uint8_t tag, std::initializer_list<ByteView> parts) {
  size_t size = 1;
  for (ByteView part : parts) size += part.size();
  Bytes key;
  key.reserve(size);
  key.push_back(tag);
  for (ByteView part : parts) key.insert(key.end(), part.begin(), part.end());
  return key;
}

inline Bytes object(ByteView id) { return tagged(kObjectTag, {id}); }
inline Bytes blob(ByteView hash) { return tagged(kBlobTag, {hash}); }
inline Bytes version(ByteView id) { return tagged(kVersionTag, {id}); }
inline Bytes tree(ByteView hash) { return tagged(kTreeTag, {hash}); }
inline Bytes proposal(ByteView id) { return tagged(kProposalTag, {id}); }
inline Bytes offer(ByteView id) { return tagged(kOfferTag, {id}); }
inline Bytes owner_index(ByteView owner, ByteView object_id) { return tagged(kOwnerIndexTag, {owner, object_id}); }
inline Bytes author_index(ByteView author, ByteView asset_id) { return tagged(kAuthorIndexTag, {author, asset_id}); }
inline Bytes proposal_index(ByteView asset_id, ByteView proposal_id) {
  return tagged(kProposalIndexTag, {asset_id, proposal_id});
}
inline Bytes asset_index(ByteView asset_id) { return tagged(kAssetIndexTag, {asset_id}); }
inline Bytes model_index(ByteView model_id) { return tagged(kModelIndexTag, {model_id}); }
inline Bytes creator_index(ByteView creator, ByteView model_id) {
  return tagged(kCreatorIndexTag, {creator, model_id});
}
inline Bytes holding(ByteView model_id, ByteView node) { return tagged(kHoldingTag, {model_id, node}); }

inline Bytes params() { return Bytes{kParamsTag}; }
inline Bytes validators() { return Bytes{kValidatorsTag}; }

}  // namespace automata::keys
