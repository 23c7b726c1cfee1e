#include "automata/crypto/bech32.h"

#include <cstdio>
#include <stdexcept>

namespace automata::crypto {
namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr size_t kMaxLength = 90;  // BIP-173 limit on the whole string
constexpr size_t kChecksumLength = 6;

// The constant XORed into the checksum: 1 for bech32 (BIP-173) and
// 0x2bc830a3 for bech32m (BIP-350).
uint32_t checksum_constant(Bech32Encoding encoding) {
  return encoding == Bech32Encoding::kBech32 ? 1u : 0x2bc830a3u;
}

// The BCH checksum polynomial of BIP-173, over 5-bit values.
uint32_t polymod(const std::vector<uint8_t>& values) {
  static constexpr uint32_t kGenerator[5] = {0x3b6a57b2u, 0x26508e6du, 0x1ea119fau, 0x3d4233ddu, 0x2a1462b3u};
  uint32_t checksum = 1;
  for (uint8_t value : values) {
    uint32_t top = checksum >> 25;
    checksum = ((checksum & 0x1ffffffu) << 5) ^ value;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1u) checksum ^= kGenerator[i];
    }
  }
  return checksum;
}

// Expands the hrp for the checksum (BIP-173): the high 3 bits of each
// character, a zero, then the low 5 bits of each character.
std::vector<uint8_t> expand_hrp(std::string_view hrp) {
  std::vector<uint8_t> out;
  out.reserve(hrp.size() * 2 + 1);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(static_cast<unsigned char>(c) >> 5));
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(static_cast<unsigned char>(c) & 31));
  return out;
}

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int charset_index(char lower) {
  size_t pos = kCharset.find(lower);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Quotes text for an error message, escapes non-printable bytes as \xNN and
// cuts it after 100 characters so huge input keeps the message short.
std::string quote(std::string_view text) {
  constexpr size_t kMaxShown = 100;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMaxShown) out += "...";
  out += "\"";
  return out;
}

void set_error(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

}  // namespace

std::string bech32_encode(std::string_view hrp, const std::vector<uint8_t>& data5, Bech32Encoding encoding) {
  std::string lower_hrp;
  lower_hrp.reserve(hrp.size());
  for (char c : hrp) lower_hrp.push_back(to_lower(c));

  std::vector<uint8_t> values = expand_hrp(lower_hrp);
  for (size_t i = 0; i < data5.size(); ++i) {
    if (data5[i] > 31) {
      throw std::invalid_argument("bech32_encode: data value " + std::to_string(data5[i]) + " at index " +
                                  std::to_string(i) + " does not fit in 5 bits");
    }
    values.push_back(data5[i]);
  }
  values.insert(values.end(), kChecksumLength, 0);
  uint32_t checksum = polymod(values) ^ checksum_constant(encoding);

  std::string out = lower_hrp;
  out.reserve(lower_hrp.size() + 1 + data5.size() + kChecksumLength);
  out.push_back('1');
  for (uint8_t value : data5) out.push_back(kCharset[value]);
  for (size_t i = 0; i < kChecksumLength; ++i) {
    out.push_back(kCharset[(checksum >> (5 * (kChecksumLength - 1 - i))) & 31]);
  }
  return out;
}

std::optional<Bech32Decoded> bech32_decode(std::string_view text, std::string* error) {
  if (text.size() > kMaxLength) {
    set_error(error, "bech32 string " + quote(text) + " is " + std::to_string(text.size()) +
                         " characters long, over the maximum of " + std::to_string(kMaxLength));
    return std::nullopt;
  }

  bool has_lower = false;
  bool has_upper = false;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 33 || c > 126) {
      char code[8];
      std::snprintf(code, sizeof(code), "0x%02x", c);
      set_error(error, "bech32 string " + quote(text) + " contains character " + code + " at position " +
                           std::to_string(i) + ", outside the printable ASCII range 0x21..0x7e");
      return std::nullopt;
    }
    if (c >= 'a' && c <= 'z') has_lower = true;
    if (c >= 'A' && c <= 'Z') has_upper = true;
  }
  if (has_lower && has_upper) {
    set_error(error, "bech32 string " + quote(text) + " mixes upper and lower case");
    return std::nullopt;
  }

  size_t separator = text.rfind('1');
  if (separator == std::string_view::npos) {
    set_error(error, "bech32 string " + quote(text) + " has no '1' separator");
    return std::nullopt;
  }
  if (separator == 0) {
    set_error(error, "bech32 string " + quote(text) + " has an empty human-readable part");
    return std::nullopt;
  }
  if (text.size() - separator - 1 < kChecksumLength) {
    set_error(error, "bech32 string " + quote(text) + " has fewer than 6 characters after the separator, too short for the checksum");
    return std::nullopt;
  }

  Bech32Decoded decoded;
  decoded.hrp.reserve(separator);
  for (size_t i = 0; i < separator; ++i) decoded.hrp.push_back(to_lower(text[i]));

  std::vector<uint8_t> values = expand_hrp(decoded.hrp);
  for (size_t i = separator + 1; i < text.size(); ++i) {
    int value = charset_index(to_lower(text[i]));
    if (value < 0) {
      set_error(error, "bech32 string " + quote(text) + " contains '" + std::string(1, text[i]) + "' at position " +
                           std::to_string(i) + ", which is not in the bech32 character set");
      return std::nullopt;
    }
    values.push_back(static_cast<uint8_t>(value));
  }

  uint32_t residue = polymod(values);
  if (residue == checksum_constant(Bech32Encoding::kBech32)) {
    decoded.encoding = Bech32Encoding::kBech32;
  } else if (residue == checksum_constant(Bech32Encoding::kBech32m)) {
    decoded.encoding = Bech32Encoding::kBech32m;
  } else {
    set_error(error, "bech32 string " + quote(text) + " has an invalid checksum (neither bech32 nor bech32m)");
    return std::nullopt;
  }

  size_t data_begin = decoded.hrp.size() * 2 + 1;
  decoded.data.assign(values.begin() + static_cast<std::ptrdiff_t>(data_begin),
                      values.end() - static_cast<std::ptrdiff_t>(kChecksumLength));
  return decoded;
}

std::optional<std::vector<uint8_t>> convert_bits(ByteView in, int from_bits, int to_bits, bool pad) {
  if (from_bits < 1 || from_bits > 8 || to_bits < 1 || to_bits > 8) return std::nullopt;
  const uint32_t max_out = (1u << to_bits) - 1;
  const uint32_t max_in = (1u << from_bits) - 1;

  std::vector<uint8_t> out;
  out.reserve((in.size() * static_cast<size_t>(from_bits) + static_cast<size_t>(to_bits) - 1) / static_cast<size_t>(to_bits));
  uint32_t accumulator = 0;
  int bits = 0;
  for (uint8_t value : in) {
    if (value > max_in) return std::nullopt;
    accumulator = ((accumulator << from_bits) | value) & ((1u << (from_bits + to_bits - 1)) - 1);
    bits += from_bits;
    while (bits >= to_bits) {
      bits -= to_bits;
      out.push_back(static_cast<uint8_t>((accumulator >> bits) & max_out));
    }
  }

  if (pad) {
    if (bits > 0) out.push_back(static_cast<uint8_t>((accumulator << (to_bits - bits)) & max_out));
  } else if (bits >= from_bits || ((accumulator << (to_bits - bits)) & max_out) != 0) {
    return std::nullopt;
  }
  return out;
}

std::string encode_address(const Address& address) {
  // Padding 160 bits to 5-bit groups cannot fail.
  std::vector<uint8_t> data5 = *convert_bits(address, 8, 5, true);
  return bech32_encode(kAddressPrefix, data5, Bech32Encoding::kBech32m);
}

std::optional<Address> decode_address(std::string_view text, std::string* error) {
  const std::string prefix = "invalid address " + quote(text) + ": ";

  std::string detail;
  std::optional<Bech32Decoded> decoded = bech32_decode(text, &detail);
  if (!decoded) {
    set_error(error, prefix + detail);
    return std::nullopt;
  }
  if (decoded->hrp != kAddressPrefix) {
    set_error(error, prefix + "prefix is \"" + decoded->hrp + "\", expected \"" + std::string(kAddressPrefix) + "\"");
    return std::nullopt;
  }
  if (decoded->encoding != Bech32Encoding::kBech32m) {
    set_error(error, prefix + "checksum is bech32, but addresses use bech32m");
    return std::nullopt;
  }

  std::optional<std::vector<uint8_t>> bytes = convert_bits(decoded->data, 5, 8, false);
  if (!bytes) {
    set_error(error, prefix + "data has invalid padding (more than 4 padding bits or non-zero padding bits)");
    return std::nullopt;
  }
  std::optional<Address> address = to_array<20>(*bytes);
  if (!address) {
    set_error(error, prefix + "data is " + std::to_string(bytes->size()) + " bytes, expected 20");
    return std::nullopt;
  }
  return address;
}

}  // namespace automata::crypto
