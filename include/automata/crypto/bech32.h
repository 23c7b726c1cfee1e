// Bech32 and bech32m strings (BIP-173, BIP-350) and Automata addresses.
#pragma once

#include "automata/types/bytes.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace automata::crypto {

enum class Bech32Encoding { kBech32, kBech32m };

struct Bech32Decoded {
  Bech32Encoding encoding;
  std::string hrp;             // lowercase human-readable part
  std::vector<uint8_t> data;   // 5-bit groups, checksum removed
};

// Encodes 5-bit groups under hrp with the given checksum. The result is
// lowercase (uppercase letters in hrp are lowercased). Throws
// std::invalid_argument when a value in data5 is 32 or more.
std::string bech32_encode(std::string_view hrp, const std::vector<uint8_t>& data5, Bech32Encoding encoding);

// Decodes a bech32 or bech32m string, rejecting mixed case, characters
// outside the charset, a bad checksum and strings over 90 characters. On
// failure returns nullopt and, when error is non-null, sets a message naming
// the problem.
std::optional<Bech32Decoded> bech32_decode(std::string_view text, std::string* error = nullptr);

// Regroups bits (8 to 5 or 5 to 8). With pad false, leftover bits must be
// zero and fewer than from_bits, as BIP-173 requires.
std::optional<std::vector<uint8_t>> convert_bits(ByteView in, int from_bits, int to_bits, bool pad);

inline constexpr std::string_view kAddressPrefix = "atm";

// "atm1..." bech32m text of an address.
std::string encode_address(const Address& address);

// Parses "atm1..." text. On failure returns nullopt and sets error (when
// non-null) to a message that names the text and what is wrong with it.
std::optional<Address> decode_address(std::string_view text, std::string* error = nullptr);

}  // namespace automata::crypto
