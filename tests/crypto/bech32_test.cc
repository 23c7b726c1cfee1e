#include "automata/crypto/bech32.h"

#include "vector_file.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace automata::crypto {
namespace {

using testing::read_vector_lines;
using testing::split_fields;

const char* kVectorFile = "bech32_vectors.txt";

// Turns \xNN escapes of the vector file into bytes.
std::string unescape(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] == 'x') {
      out.push_back(static_cast<char>(std::stoi(field.substr(i + 2, 2), nullptr, 16)));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

std::string lowercase(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

Bech32Encoding parse_encoding(const std::string& name) {
  EXPECT_TRUE(name == "bech32" || name == "bech32m") << "unknown encoding in test data: " << name;
  return name == "bech32m" ? Bech32Encoding::kBech32m : Bech32Encoding::kBech32;
}

std::vector<std::vector<std::string>> vectors_of_kind(const std::string& kind) {
  std::vector<std::vector<std::string>> out;
  for (const std::string& line : read_vector_lines(kVectorFile)) {
    std::vector<std::string> fields = split_fields(line);
    if (!fields.empty() && fields[0] == kind) out.push_back(fields);
  }
  return out;
}

const char* kCountingAddressText = "atm1qqqsyqcyq5rqwzqfpg9scrgwpugpzysncafa6y";

// The address with bytes 0, 1, ..., 19.
Address counting_address() {
  Address address{};
  for (size_t i = 0; i < address.size(); ++i) address[i] = static_cast<uint8_t>(i);
  return address;
}

TEST(Bech32Vectors, FileHasEveryList) {
  // BIP-173 and BIP-350 each list 7 valid and 12 or 14 invalid strings.
  EXPECT_EQ(vectors_of_kind("valid").size(), 14u);
  EXPECT_EQ(vectors_of_kind("invalid").size(), 26u);
  EXPECT_EQ(vectors_of_kind("segwit").size(), 11u);
  EXPECT_EQ(vectors_of_kind("badpadding").size(), 4u);
}

TEST(Bech32Vectors, ValidStringsDecodeAndReencode) {
  for (const std::vector<std::string>& fields : vectors_of_kind("valid")) {
    ASSERT_EQ(fields.size(), 3u);
    const std::string text = unescape(fields[2]);
    SCOPED_TRACE(text);

    std::string error;
    std::optional<Bech32Decoded> decoded = bech32_decode(text, &error);
    ASSERT_TRUE(decoded.has_value()) << error;
    EXPECT_EQ(decoded->encoding, parse_encoding(fields[1]));
    EXPECT_EQ(decoded->hrp, lowercase(text.substr(0, text.rfind('1'))));
    EXPECT_EQ(bech32_encode(decoded->hrp, decoded->data, decoded->encoding), lowercase(text));
  }
}

TEST(Bech32Vectors, ValidStringFailsUnderOtherEncoding) {
  // No string is valid under both checksums, so re-encoding the data with
  // the other constant must give a different string.
  for (const std::vector<std::string>& fields : vectors_of_kind("valid")) {
    const std::string text = unescape(fields[2]);
    std::optional<Bech32Decoded> decoded = bech32_decode(text);
    ASSERT_TRUE(decoded.has_value()) << text;
    Bech32Encoding other =
        decoded->encoding == Bech32Encoding::kBech32 ? Bech32Encoding::kBech32m : Bech32Encoding::kBech32;
    EXPECT_NE(bech32_encode(decoded->hrp, decoded->data, other), lowercase(text)) << text;
  }
}

TEST(Bech32Vectors, InvalidStringsRejected) {
  for (const std::vector<std::string>& fields : vectors_of_kind("invalid")) {
    ASSERT_GE(fields.size(), 2u);
    const std::string text = unescape(fields[1]);
    SCOPED_TRACE(fields[1]);

    std::string error;
    EXPECT_FALSE(bech32_decode(text, &error).has_value());
    EXPECT_FALSE(error.empty());
  }
}

TEST(Bech32Vectors, SegwitAddressesDecodeToScript) {
  // A segwit scriptPubKey is OP_n (0x00, or 0x50 + n for versions 1..16),
  // the program length, then the program: the 5-bit data after the version
  // regrouped into bytes.
  for (const std::vector<std::string>& fields : vectors_of_kind("segwit")) {
    ASSERT_EQ(fields.size(), 4u);
    SCOPED_TRACE(fields[2]);

    std::optional<Bech32Decoded> decoded = bech32_decode(fields[2]);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->encoding, parse_encoding(fields[1]));
    ASSERT_FALSE(decoded->data.empty());

    const uint8_t version = decoded->data[0];
    std::vector<uint8_t> program_groups(decoded->data.begin() + 1, decoded->data.end());
    std::optional<std::vector<uint8_t>> program = convert_bits(program_groups, 5, 8, false);
    ASSERT_TRUE(program.has_value());

    Bytes script;
    script.push_back(version == 0 ? 0 : static_cast<uint8_t>(0x50 + version));
    script.push_back(static_cast<uint8_t>(program->size()));
    script.insert(script.end(), program->begin(), program->end());
    EXPECT_EQ(to_hex(script), fields[3]);

    // Regrouping back with padding and re-encoding returns the address.
    std::optional<std::vector<uint8_t>> regrouped = convert_bits(*program, 8, 5, true);
    ASSERT_TRUE(regrouped.has_value());
    regrouped->insert(regrouped->begin(), version);
    EXPECT_EQ(bech32_encode(decoded->hrp, *regrouped, decoded->encoding), lowercase(fields[2]));
  }
}

TEST(Bech32Vectors, BadPaddingRejectedByConvertBits) {
  for (const std::vector<std::string>& fields : vectors_of_kind("badpadding")) {
    ASSERT_GE(fields.size(), 2u);
    SCOPED_TRACE(fields[1]);

    std::optional<Bech32Decoded> decoded = bech32_decode(fields[1]);
    ASSERT_TRUE(decoded.has_value());
    ASSERT_FALSE(decoded->data.empty());
    std::vector<uint8_t> program_groups(decoded->data.begin() + 1, decoded->data.end());
    EXPECT_FALSE(convert_bits(program_groups, 5, 8, false).has_value());
  }
}

TEST(Bech32, DecodeErrorsNameTheProblem) {
  struct Case {
    std::string text;
    std::string expected_fragment;
  };
  const std::vector<Case> cases = {
      {std::string(91, 'a'), "over the maximum of 90"},
      {"a1 qqqqqq", "outside the printable ASCII range"},
      {"A1lqfn3a", "mixes upper and lower case"},
      {"qpzry9x8gf2tvdw0", "no '1' separator"},
      {"1qpzry9x8gf2tvdw0", "empty human-readable part"},
      {"a1qqqqq", "too short for the checksum"},
      {"a1lqfn3q", "invalid checksum"},
      {"a1lqfn3o", "not in the bech32 character set"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(bech32_decode(c.text, &error).has_value()) << c.text;
    EXPECT_NE(error.find(c.expected_fragment), std::string::npos) << c.text << " gave: " << error;
  }
}

TEST(Bech32, EncodeRejectsValueOver31) {
  EXPECT_THROW(bech32_encode("a", {1, 2, 32}, Bech32Encoding::kBech32m), std::invalid_argument);
}

TEST(ConvertBits, RejectsBadArguments) {
  const std::vector<uint8_t> groups = {31, 31};
  EXPECT_FALSE(convert_bits(std::vector<uint8_t>{32}, 5, 8, true).has_value());
  EXPECT_FALSE(convert_bits(groups, 0, 8, true).has_value());
  EXPECT_FALSE(convert_bits(groups, 5, 9, true).has_value());
}

TEST(ConvertBits, RoundTripsEveryByteValue) {
  Bytes bytes;
  for (int value = 0; value < 256; ++value) bytes.push_back(static_cast<uint8_t>(value));
  std::optional<std::vector<uint8_t>> groups = convert_bits(bytes, 8, 5, true);
  ASSERT_TRUE(groups.has_value());
  EXPECT_EQ(groups->size(), (256u * 8 + 4) / 5);
  std::optional<std::vector<uint8_t>> back = convert_bits(*groups, 5, 8, false);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, bytes);
}

// Expected texts were computed with a separate Python implementation of
// BIP-350 bech32m over the 32 five-bit groups of the 20 bytes.
TEST(Address, EncodesKnownAddresses) {
  Address zero{};
  EXPECT_EQ(encode_address(zero), "atm1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqggccvq");
  EXPECT_EQ(encode_address(counting_address()), kCountingAddressText);
}

TEST(Address, RoundTripsManyAddresses) {
  for (int seed = 0; seed < 256; ++seed) {
    Address address{};
    for (size_t i = 0; i < address.size(); ++i) address[i] = static_cast<uint8_t>(seed * 31 + static_cast<int>(i) * 7);
    const std::string text = encode_address(address);
    EXPECT_EQ(text.size(), 42u);
    EXPECT_EQ(text.substr(0, 4), "atm1");

    std::string error;
    std::optional<Address> decoded = decode_address(text, &error);
    ASSERT_TRUE(decoded.has_value()) << text << ": " << error;
    EXPECT_EQ(*decoded, address);
  }
}

TEST(Address, AcceptsUppercase) {
  std::string upper = kCountingAddressText;
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  std::optional<Address> decoded = decode_address(upper);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, counting_address());
}

void expect_rejected(std::string_view text, const std::string& expected_fragment) {
  std::string error;
  EXPECT_FALSE(decode_address(text, &error).has_value()) << text;
  EXPECT_NE(error.find(expected_fragment), std::string::npos) << "error for " << text << ": " << error;
  // Every message names the text it rejects (cut after 100 characters).
  EXPECT_NE(error.find(std::string(text.substr(0, 20))), std::string::npos) << error;
}

TEST(Address, RejectsWrongPrefix) {
  std::optional<Bech32Decoded> decoded = bech32_decode(kCountingAddressText);
  ASSERT_TRUE(decoded.has_value());
  const std::string text = bech32_encode("bc", decoded->data, Bech32Encoding::kBech32m);
  expect_rejected(text, "prefix is \"bc\", expected \"atm\"");
}

TEST(Address, RejectsBadChecksum) {
  std::string text = kCountingAddressText;
  text.back() = text.back() == 'q' ? 'p' : 'q';
  expect_rejected(text, "invalid checksum");
}

TEST(Address, RejectsBech32Checksum) {
  // The counting address under the BIP-173 constant, from the same Python
  // implementation.
  expect_rejected("atm1qqqsyqcyq5rqwzqfpg9scrgwpugpzysndpe3lx", "checksum is bech32, but addresses use bech32m");
}

TEST(Address, RejectsWrongLength) {
  for (size_t size : {0u, 19u, 21u, 32u}) {
    Bytes bytes(size, 0xab);
    std::optional<std::vector<uint8_t>> groups = convert_bits(bytes, 8, 5, true);
    ASSERT_TRUE(groups.has_value());
    const std::string text = bech32_encode("atm", *groups, Bech32Encoding::kBech32m);
    expect_rejected(text, "data is " + std::to_string(size) + " bytes, expected 20");
  }
}

TEST(Address, RejectsBadPadding) {
  // 33 groups are 165 bits: 20 bytes and 5 leftover bits, more than the 4
  // padding bits BIP-173 allows.
  std::vector<uint8_t> groups(33, 0);
  expect_rejected(bech32_encode("atm", groups, Bech32Encoding::kBech32m), "invalid padding");
}

TEST(Address, RejectsMixedCase) {
  std::string text = kCountingAddressText;
  text[5] = static_cast<char>(text[5] - 'a' + 'A');
  expect_rejected(text, "mixes upper and lower case");
}

TEST(Address, RejectsGarbage) {
  expect_rejected("", "no '1' separator");
  expect_rejected("atm", "no '1' separator");
  expect_rejected(std::string(500, 'x'), "over the maximum of 90");

  // Control characters appear escaped in the message.
  std::string error;
  EXPECT_FALSE(decode_address("atm1\n", &error).has_value());
  EXPECT_NE(error.find("\"atm1\\x0a\""), std::string::npos) << error;
  EXPECT_NE(error.find("outside the printable ASCII range"), std::string::npos) << error;
}

}  // namespace
}  // namespace automata::crypto
