#include "automata/crypto/keyring.h"

#include "automata/crypto/bech32.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace automata::crypto {
namespace {

using cli::testing::TempDir;
using nlohmann::json;

// scrypt at n = 2^10 keeps each test fast; the default is 2^15.
constexpr ScryptParams kCheapParams{1024, 8, 1};

class KeyringTest : public ::testing::Test {
 protected:
  std::string keyring_dir() const { return temp_.path() + "/keyring"; }
  std::string key_path(const std::string& name) const { return keyring_dir() + "/" + name + ".json"; }

  json read_json(const std::string& name) const {
    std::ifstream in(key_path(name));
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
  }
  void write_json(const std::string& name, const json& doc) const {
    std::ofstream out(key_path(name), std::ios::trunc);
    out << doc.dump();
  }

  TempDir temp_;
  Keyring keyring_{keyring_dir(), kCheapParams};
};

TEST_F(KeyringTest, RoundTripRestoresSecret) {
  PrivateKey key = PrivateKey::generate();
  ASSERT_TRUE(keyring_.add("alice", key, "correct horse", false).is_ok());

  std::optional<PrivateKey> loaded;
  Status s = keyring_.load("alice", "correct horse", &loaded);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->bytes(), key.bytes());

  KeyInfo info;
  ASSERT_TRUE(keyring_.info("alice", &info).is_ok());
  EXPECT_EQ(info.name, "alice");
  EXPECT_EQ(info.pubkey, key.public_key());
  EXPECT_EQ(info.address, address_of(key.public_key()));
}

TEST_F(KeyringTest, EmptyPassphraseStillEncrypts) {
  PrivateKey key = PrivateKey::generate();
  ASSERT_TRUE(keyring_.add("dev", key, "", false).is_ok());
  json doc = read_json("dev");
  std::string ciphertext = doc["ciphertext"];
  EXPECT_EQ(ciphertext.find(to_hex(key.bytes()).substr(0, 16)), std::string::npos);

  std::optional<PrivateKey> loaded;
  ASSERT_TRUE(keyring_.load("dev", "", &loaded).is_ok());
  EXPECT_EQ(loaded->bytes(), key.bytes());
  EXPECT_FALSE(keyring_.load("dev", "x", &loaded).is_ok());
}

TEST_F(KeyringTest, DefaultParamsRoundTrip) {
  Keyring keyring(keyring_dir());
  PrivateKey key = PrivateKey::generate();
  Status added = keyring.add("slow", key, "pw", false);
  ASSERT_TRUE(added.is_ok()) << added.to_string();
  EXPECT_EQ(read_json("slow")["kdf_params"]["n"], 32768);
  EXPECT_EQ(read_json("slow")["kdf_params"]["r"], 8);
  EXPECT_EQ(read_json("slow")["kdf_params"]["p"], 1);
  std::optional<PrivateKey> loaded;
  ASSERT_TRUE(keyring.load("slow", "pw", &loaded).is_ok());
  EXPECT_EQ(loaded->bytes(), key.bytes());
}

TEST_F(KeyringTest, EmptyPassphraseUsesCheapParams) {
  Keyring keyring(keyring_dir());
  PrivateKey key = PrivateKey::generate();
  ASSERT_TRUE(keyring.add("open", key, "", false).is_ok());
  ASSERT_TRUE(keyring.add("locked", PrivateKey::generate(), "pw", false).is_ok());
  EXPECT_EQ(read_json("open")["kdf_params"]["n"], 16);
  EXPECT_EQ(read_json("open")["kdf_params"]["r"], 8);
  EXPECT_EQ(read_json("open")["kdf_params"]["p"], 1);
  EXPECT_EQ(read_json("locked")["kdf_params"]["n"], 32768) << "a real passphrase keeps the full cost";

  std::optional<PrivateKey> loaded;
  ASSERT_TRUE(keyring.load("open", "", &loaded).is_ok());
  EXPECT_EQ(loaded->bytes(), key.bytes());
  EXPECT_FALSE(keyring.load("open", "x", &loaded).is_ok()) << "the key is still encrypted";
  std::string ciphertext = read_json("open")["ciphertext"];
  EXPECT_EQ(ciphertext.find(to_hex(key.bytes()).substr(0, 16)), std::string::npos);
}

TEST_F(KeyringTest, EmptyPassphraseKeepsCheaperParams) {
  Keyring keyring(keyring_dir(), ScryptParams{16, 1, 1});
  ASSERT_TRUE(keyring.add("tiny", PrivateKey::generate(), "", false).is_ok());
  EXPECT_EQ(read_json("tiny")["kdf_params"]["n"], 16);
  EXPECT_EQ(read_json("tiny")["kdf_params"]["r"], 1);
}

TEST_F(KeyringTest, WrongPassphraseNamesKey) {
  ASSERT_TRUE(keyring_.add("bob", PrivateKey::generate(), "right", false).is_ok());
  std::optional<PrivateKey> loaded;
  Status s = keyring_.load("bob", "wrong", &loaded);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("wrong passphrase for key bob"), std::string::npos) << s.message();
  EXPECT_FALSE(loaded.has_value());
}

TEST_F(KeyringTest, FileFormatMatchesContract) {
  PrivateKey key = PrivateKey::generate();
  ASSERT_TRUE(keyring_.add("carol", key, "pw", false).is_ok());
  json doc = read_json("carol");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["name"], "carol");
  EXPECT_EQ(doc["pubkey"], to_hex(key.public_key()));
  EXPECT_EQ(doc["address"], encode_address(address_of(key.public_key())));
  EXPECT_EQ(doc["kdf"], "scrypt");
  EXPECT_EQ(doc["kdf_params"]["n"], 1024);
  EXPECT_EQ(doc["kdf_params"]["r"], 8);
  EXPECT_EQ(doc["kdf_params"]["p"], 1);
  EXPECT_EQ(doc["kdf_params"]["salt"].get<std::string>().size(), 32u);
  EXPECT_EQ(doc["cipher"], "aes-256-gcm");
  EXPECT_EQ(doc["nonce"].get<std::string>().size(), 24u);
  EXPECT_EQ(doc["ciphertext"].get<std::string>().size(), 96u);
}

TEST_F(KeyringTest, FileAndDirModes) {
  ASSERT_TRUE(keyring_.add("dave", PrivateKey::generate(), "pw", false).is_ok());
  struct stat file_stat {};
  ASSERT_EQ(::stat(key_path("dave").c_str(), &file_stat), 0);
  EXPECT_EQ(file_stat.st_mode & 0777, 0600u);
  struct stat dir_stat {};
  ASSERT_EQ(::stat(keyring_dir().c_str(), &dir_stat), 0);
  EXPECT_EQ(dir_stat.st_mode & 0777, 0700u);

  // Overwriting keeps the mode.
  ASSERT_TRUE(keyring_.add("dave", PrivateKey::generate(), "pw", true).is_ok());
  ASSERT_EQ(::stat(key_path("dave").c_str(), &file_stat), 0);
  EXPECT_EQ(file_stat.st_mode & 0777, 0600u);
}

TEST_F(KeyringTest, ExistingNameNeedsOverwrite) {
  PrivateKey first = PrivateKey::generate();
  PrivateKey second = PrivateKey::generate();
  ASSERT_TRUE(keyring_.add("erin", first, "pw", false).is_ok());
  Status s = keyring_.add("erin", second, "pw", false);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("already exists"), std::string::npos) << s.message();

  std::optional<PrivateKey> loaded;
  ASSERT_TRUE(keyring_.load("erin", "pw", &loaded).is_ok());
  EXPECT_EQ(loaded->bytes(), first.bytes());

  ASSERT_TRUE(keyring_.add("erin", second, "pw", true).is_ok());
  ASSERT_TRUE(keyring_.load("erin", "pw", &loaded).is_ok());
  EXPECT_EQ(loaded->bytes(), second.bytes());
}

TEST_F(KeyringTest, BadNamesRejected) {
  const std::vector<std::string> bad = {"", "a/b", "../x", "sp ace", "émile", "semi;colon", std::string(65, 'k'),
                                        "tab\t", "star*"};
  for (const auto& name : bad) {
    Status s = keyring_.add(name, PrivateKey::generate(), "pw", false);
    EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument) << "name '" << name << "'";
    EXPECT_NE(s.message().find("invalid key name"), std::string::npos) << s.message();
    KeyInfo info;
    EXPECT_EQ(keyring_.info(name, &info).kind(), Status::Kind::kInvalidArgument) << "name '" << name << "'";
  }
  const std::vector<std::string> good = {"a", "A-b_c.d", std::string(64, 'k'), "0"};
  for (const auto& name : good) {
    EXPECT_TRUE(keyring_.add(name, PrivateKey::generate(), "", false).is_ok()) << "name '" << name << "'";
  }
}

TEST_F(KeyringTest, ListSortedByName) {
  for (const std::string name : {"zed", "Alice", "bob", "0day", "bob.2"}) {
    ASSERT_TRUE(keyring_.add(name, PrivateKey::generate(), "", false).is_ok());
  }
  // Files that are not key files are skipped.
  std::ofstream(keyring_dir() + "/notes.txt") << "not a key";

  std::vector<KeyInfo> keys;
  ASSERT_TRUE(keyring_.list(&keys).is_ok());
  std::vector<std::string> names;
  for (const auto& key : keys) names.push_back(key.name);
  EXPECT_EQ(names, (std::vector<std::string>{"0day", "Alice", "bob", "bob.2", "zed"}));
}

TEST_F(KeyringTest, ListOfMissingDirIsEmpty) {
  Keyring keyring(temp_.path() + "/never-created", kCheapParams);
  std::vector<KeyInfo> keys;
  ASSERT_TRUE(keyring.list(&keys).is_ok());
  EXPECT_TRUE(keys.empty());
}

TEST_F(KeyringTest, MissingKeyNamesFile) {
  std::optional<PrivateKey> loaded;
  Status s = keyring_.load("ghost", "pw", &loaded);
  EXPECT_TRUE(s.is_not_found());
  EXPECT_NE(s.message().find(key_path("ghost")), std::string::npos) << s.message();
  KeyInfo info;
  EXPECT_TRUE(keyring_.info("ghost", &info).is_not_found());
  EXPECT_TRUE(keyring_.remove("ghost").is_not_found());
}

TEST_F(KeyringTest, RemoveDeletesFile) {
  ASSERT_TRUE(keyring_.add("gone", PrivateKey::generate(), "", false).is_ok());
  ASSERT_TRUE(keyring_.remove("gone").is_ok());
  EXPECT_FALSE(std::filesystem::exists(key_path("gone")));
}

TEST_F(KeyringTest, DefaultDirFollowsEnvironment) {
  ::setenv("AUTOMATA_KEYRING_DIR", "/tmp/some-keyring", 1);
  EXPECT_EQ(Keyring::default_dir(), "/tmp/some-keyring");
  ::unsetenv("AUTOMATA_KEYRING_DIR");
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') {
    EXPECT_EQ(Keyring::default_dir(), std::string(home) + "/.automata/keyring");
  }
}

// Each field of a key file, changed after writing, makes load() fail rather
// than return a different key.
TEST_F(KeyringTest, TamperedFieldsRejected) {
  PrivateKey key = PrivateKey::generate();
  PrivateKey other = PrivateKey::generate();
  std::string other_address = encode_address(address_of(other.public_key()));

  auto flip_hex = [](const std::string& hex) {
    std::string out = hex;
    out[0] = out[0] == '0' ? '1' : '0';
    return out;
  };

  struct Case {
    std::string field;
    std::function<void(json&)> tamper;
  };
  const std::vector<Case> cases = {
      {"version", [](json& d) { d["version"] = 2; }},
      {"name", [](json& d) { d["name"] = "mallory"; }},
      {"pubkey", [&](json& d) { d["pubkey"] = to_hex(other.public_key()); }},
      {"pubkey and address",
       [&](json& d) {
         d["pubkey"] = to_hex(other.public_key());
         d["address"] = other_address;
       }},
      {"address", [&](json& d) { d["address"] = other_address; }},
      {"kdf", [](json& d) { d["kdf"] = "pbkdf2"; }},
      {"kdf_params.n", [](json& d) { d["kdf_params"]["n"] = 2048; }},
      {"kdf_params.n huge", [](json& d) { d["kdf_params"]["n"] = uint64_t{1} << 40; }},
      {"kdf_params.r", [](json& d) { d["kdf_params"]["r"] = 4; }},
      {"kdf_params.p", [](json& d) { d["kdf_params"]["p"] = 2; }},
      {"kdf_params.salt", [&](json& d) { d["kdf_params"]["salt"] = flip_hex(d["kdf_params"]["salt"]); }},
      {"cipher", [](json& d) { d["cipher"] = "aes-128-gcm"; }},
      {"nonce", [&](json& d) { d["nonce"] = flip_hex(d["nonce"]); }},
      {"ciphertext", [&](json& d) { d["ciphertext"] = flip_hex(d["ciphertext"]); }},
      {"ciphertext tag", [&](json& d) {
         std::string c = d["ciphertext"];
         c.back() = c.back() == '0' ? '1' : '0';
         d["ciphertext"] = c;
       }},
      {"ciphertext length", [](json& d) { d["ciphertext"] = d["ciphertext"].get<std::string>().substr(2); }},
      {"missing nonce", [](json& d) { d.erase("nonce"); }},
      {"not hex", [](json& d) { d["nonce"] = "zz"; }},
  };

  ASSERT_TRUE(keyring_.add("target", key, "pw", false).is_ok());
  const json original = read_json("target");
  for (const auto& c : cases) {
    json doc = original;
    c.tamper(doc);
    write_json("target", doc);
    std::optional<PrivateKey> loaded;
    Status s = keyring_.load("target", "pw", &loaded);
    EXPECT_FALSE(s.is_ok()) << "tampered " << c.field;
    EXPECT_FALSE(loaded.has_value()) << "tampered " << c.field;
  }

  // The untouched file still loads, so the failures above come from the
  // changes alone.
  write_json("target", original);
  std::optional<PrivateKey> loaded;
  ASSERT_TRUE(keyring_.load("target", "pw", &loaded).is_ok());
  EXPECT_EQ(loaded->bytes(), key.bytes());
}

TEST_F(KeyringTest, RenamedFileRejected) {
  ASSERT_TRUE(keyring_.add("src", PrivateKey::generate(), "pw", false).is_ok());
  std::filesystem::rename(key_path("src"), key_path("dst"));
  std::optional<PrivateKey> loaded;
  Status s = keyring_.load("dst", "pw", &loaded);
  EXPECT_EQ(s.kind(), Status::Kind::kCorruption) << s.to_string();
}

TEST_F(KeyringTest, GarbageFileIsCorruption) {
  std::filesystem::create_directories(keyring_dir());
  std::ofstream(key_path("junk")) << "{not json";
  KeyInfo info;
  Status s = keyring_.info("junk", &info);
  EXPECT_EQ(s.kind(), Status::Kind::kCorruption);
  EXPECT_NE(s.message().find(key_path("junk")), std::string::npos) << s.message();
  std::vector<KeyInfo> keys;
  EXPECT_EQ(keyring_.list(&keys).kind(), Status::Kind::kCorruption);
}

}  // namespace
}  // namespace automata::crypto
