#include "automata/crypto/keys.h"

#include "vector_file.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace automata::crypto {
namespace {

// One row of bip340_test_vectors.csv, the official BIP-340 vector file
// (bip-0340/test-vectors.csv in github.com/bitcoin/bips, stored unchanged).
struct Bip340Row {
  int index = -1;
  std::string secret_key;  // hex, empty on verification-only rows
  std::string public_key;
  std::string aux_rand;
  std::string message;
  std::string signature;
  bool verifies = false;
  std::string comment;
};

std::vector<Bip340Row> read_bip340_rows() {
  std::ifstream in(testing::testdata_path("bip340_test_vectors.csv"));
  std::vector<Bip340Row> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    // The comment is the last column and may itself be empty.
    while (fields.size() < 7 && std::getline(stream, field, ',')) fields.push_back(field);
    std::string comment;
    std::getline(stream, comment);
    if (fields.size() != 7) {
      ADD_FAILURE() << "malformed BIP-340 vector line: " << line;
      continue;
    }
    Bip340Row row;
    row.index = std::stoi(fields[0]);
    row.secret_key = fields[1];
    row.public_key = fields[2];
    row.aux_rand = fields[3];
    row.message = fields[4];
    row.signature = fields[5];
    row.verifies = fields[6] == "TRUE";
    EXPECT_TRUE(fields[6] == "TRUE" || fields[6] == "FALSE") << "row " << row.index << ": " << fields[6];
    row.comment = comment;
    rows.push_back(row);
  }
  return rows;
}

Bytes hex(const std::string& text) {
  std::optional<Bytes> bytes = from_hex(text);
  EXPECT_TRUE(bytes.has_value()) << "invalid hex in test data: " << text;
  return bytes.value_or(Bytes{});
}

TEST(Bip340Vectors, FileIsComplete) {
  std::vector<Bip340Row> rows = read_bip340_rows();
  // The file at bitcoin/bips has rows 0..18, 15..18 being the
  // variable-length message rows added in 2022-12.
  ASSERT_EQ(rows.size(), 19u);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].index, static_cast<int>(i));
  EXPECT_EQ(hex(rows[15].message).size(), 0u);
  EXPECT_EQ(hex(rows[18].message).size(), 100u);
}

TEST(Bip340Vectors, SigningRowsReproduceSignature) {
  int signing_rows = 0;
  for (const Bip340Row& row : read_bip340_rows()) {
    if (row.secret_key.empty()) continue;
    ++signing_rows;
    SCOPED_TRACE("BIP-340 row " + std::to_string(row.index));

    std::optional<PrivateKey> key = PrivateKey::from_bytes(hex(row.secret_key));
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(to_hex(key->public_key()), to_hex(hex(row.public_key)));

    std::optional<std::array<uint8_t, 32>> aux = to_array<32>(hex(row.aux_rand));
    ASSERT_TRUE(aux.has_value());
    Signature signature = key->sign(hex(row.message), &*aux);
    EXPECT_EQ(to_hex(signature), to_hex(hex(row.signature)));
  }
  EXPECT_EQ(signing_rows, 8);
}

TEST(Bip340Vectors, EveryRowVerifiesAsExpected) {
  for (const Bip340Row& row : read_bip340_rows()) {
    SCOPED_TRACE("BIP-340 row " + std::to_string(row.index) + " (" + row.comment + ")");
    Bytes public_key = hex(row.public_key);
    Bytes message = hex(row.message);
    Bytes signature = hex(row.signature);
    EXPECT_EQ(verify(public_key, message, signature), row.verifies);

    std::optional<PublicKey> key_array = to_array<32>(public_key);
    std::optional<Signature> signature_array = to_array<64>(signature);
    ASSERT_TRUE(key_array.has_value());
    ASSERT_TRUE(signature_array.has_value());
    EXPECT_EQ(verify(*key_array, message, *signature_array), row.verifies);
  }
}

TEST(Keys, VerifyFromManyThreads) {
  const std::vector<Bip340Row> rows = read_bip340_rows();
  ASSERT_FALSE(rows.empty());
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&rows, &mismatches] {
      for (int round = 0; round < 20; ++round) {
        for (const Bip340Row& row : rows) {
          if (verify(hex(row.public_key), hex(row.message), hex(row.signature)) != row.verifies) ++mismatches;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Keys, SignFromManyThreads) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&failures, t] {
      PrivateKey key = PrivateKey::generate();
      const std::string message = "message from thread " + std::to_string(t);
      for (int round = 0; round < 50; ++round) {
        Signature signature = key.sign(as_view(message));
        if (!verify(key.public_key(), as_view(message), signature)) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Keys, GeneratedKeySignsAndVerifies) {
  PrivateKey key = PrivateKey::generate();
  const Bytes message = to_bytes("transfer 10 atm");
  Signature signature = key.sign(message);
  EXPECT_TRUE(verify(key.public_key(), message, signature));

  // Fresh auxiliary randomness makes each signature different.
  Signature second = key.sign(message);
  EXPECT_NE(to_hex(signature), to_hex(second));
  EXPECT_TRUE(verify(key.public_key(), message, second));
}

TEST(Keys, VerifyRejectsTampering) {
  PrivateKey key = PrivateKey::generate();
  PrivateKey other = PrivateKey::generate();
  const Bytes message = to_bytes("transfer 10 atm");
  const Signature signature = key.sign(message);

  Bytes changed_message = message;
  changed_message[0] ^= 1;
  EXPECT_FALSE(verify(key.public_key(), changed_message, signature));

  Bytes longer_message = message;
  longer_message.push_back(0);
  EXPECT_FALSE(verify(key.public_key(), longer_message, signature));

  EXPECT_FALSE(verify(other.public_key(), message, signature));

  for (size_t i = 0; i < signature.size(); i += 7) {
    Signature changed = signature;
    changed[i] ^= 0x40;
    EXPECT_FALSE(verify(key.public_key(), message, changed)) << "byte " << i << " flipped";
  }
}

TEST(Keys, VerifyRejectsWrongSizes) {
  PrivateKey key = PrivateKey::generate();
  const Bytes message = to_bytes("m");
  const Signature signature = key.sign(message);
  const PublicKey public_key = key.public_key();

  EXPECT_TRUE(verify(ByteView(public_key), message, ByteView(signature)));
  EXPECT_FALSE(verify(ByteView(public_key).first(31), message, ByteView(signature)));
  EXPECT_FALSE(verify(ByteView(public_key), message, ByteView(signature).first(63)));
  EXPECT_FALSE(verify(ByteView(), message, ByteView()));
}

TEST(Keys, FromBytesRejectsInvalidScalars) {
  // n, the order of the secp256k1 group (SEC 2, section 2.4.1).
  const Bytes order = hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");
  Bytes order_minus_one = order;
  order_minus_one.back() -= 1;

  EXPECT_FALSE(PrivateKey::from_bytes(Bytes(32, 0)).has_value());
  EXPECT_FALSE(PrivateKey::from_bytes(order).has_value());
  EXPECT_FALSE(PrivateKey::from_bytes(Bytes(32, 0xff)).has_value());
  EXPECT_FALSE(PrivateKey::from_bytes(Bytes(31, 1)).has_value());
  EXPECT_FALSE(PrivateKey::from_bytes(Bytes(33, 1)).has_value());
  EXPECT_TRUE(PrivateKey::from_bytes(order_minus_one).has_value());

  Bytes one(32, 0);
  one.back() = 1;
  ASSERT_TRUE(PrivateKey::from_bytes(one).has_value());
  // 1 * G, the secp256k1 generator's x coordinate (SEC 2, section 2.4.1).
  EXPECT_EQ(to_hex(PrivateKey::from_bytes(one)->public_key()),
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
}

TEST(Keys, FromBytesKeepsSecret) {
  const Bytes secret = hex("B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF");
  std::optional<PrivateKey> key = PrivateKey::from_bytes(secret);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(to_hex(key->bytes()), to_hex(secret));
}

TEST(Keys, AddressIsHashPrefix) {
  // Public key of BIP-340 row 0. The expected value is the first 20 bytes of
  // its SHA-256, computed with Python's hashlib.
  std::optional<PublicKey> public_key =
      to_array<32>(hex("F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9"));
  ASSERT_TRUE(public_key.has_value());
  EXPECT_EQ(to_hex(address_of(*public_key)), "7c79f3071e28344e8153bf6c73c294ebe3754aec");
}

}  // namespace
}  // namespace automata::crypto
