// Layout of keys in the authenticated state tree. Every key starts with a
// one-byte type tag so that key spaces never collide. Part of consensus:
// changing a layout changes every state root.
#pragma once

#include "automata/types/bytes.h"

#include <string_view>

namespace automata::keys {

inline constexpr uint8_t kAccountTag = 0x01;  // 0x01 || address(20) -> v1.Account
inline constexpr uint8_t kSupplyTag = 0x02;   // 0x02 || denom       -> decimal amount
inline constexpr uint8_t kParamsTag = 0x03;   // 0x03                -> v1.ChainParams
inline constexpr uint8_t kValidatorsTag = 0x04;  // 0x04             -> v1.ValidatorSet

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

inline Bytes params() { return Bytes{kParamsTag}; }
inline Bytes validators() { return Bytes{kValidatorsTag}; }

}  // namespace automata::keys
