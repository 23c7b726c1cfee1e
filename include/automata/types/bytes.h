// Byte containers shared by every layer, and hex conversion.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace automata {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// A 32-byte digest or object id (SHA-256 output).
using Hash32 = std::array<uint8_t, 32>;
// A 20-byte account address: the first 20 bytes of SHA-256(x-only pubkey).
using Address = std::array<uint8_t, 20>;

// Hash functor for maps keyed by SHA-256 output, such as tx hashes: their
// first 8 bytes are already uniformly distributed. Such maps must only be
// looked up, never iterated, wherever the order could reach consensus.
struct Hash32FirstBytes {
  size_t operator()(const Hash32& hash) const noexcept {
    size_t value = 0;
    for (size_t i = 0; i < sizeof(value); ++i) value |= static_cast<size_t>(hash[i]) << (8 * i);
    return value;
  }
};

// Lowercase hex of the bytes, with no prefix.
std::string to_hex(ByteView bytes);

// Decodes hex (either case, an optional "0x" prefix). Returns nullopt on an
// odd length or a non-hex character.
std::optional<Bytes> from_hex(std::string_view hex);

// Copies a byte string into a fixed-size array. Returns nullopt unless the
// size matches exactly.
template <size_t N>
std::optional<std::array<uint8_t, N>> to_array(ByteView bytes) {
  if (bytes.size() != N) return std::nullopt;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = bytes[i];
  return out;
}

inline ByteView as_view(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::string to_string(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

inline Bytes to_bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

}  // namespace automata
