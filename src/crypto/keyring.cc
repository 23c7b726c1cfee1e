#include "automata/crypto/keyring.h"

#include "automata/crypto/aead.h"
#include "automata/crypto/bech32.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace automata::crypto {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kFileVersion = 1;
constexpr size_t kSaltSize = 16;
constexpr size_t kMaxNameLength = 64;
constexpr size_t kSecretSize = 32;

// Upper bounds on the scrypt parameters accepted from a file, so a modified
// file cannot make load() allocate gigabytes or spin for minutes.
constexpr uint64_t kMaxScryptN = uint64_t{1} << 20;
constexpr uint64_t kMaxScryptR = 32;
constexpr uint64_t kMaxScryptP = 16;

// Associated data for AES-GCM: the name and the address, length-prefixed so
// that no two (name, address) pairs produce the same bytes.
Bytes associated_data(const std::string& name, const std::string& address) {
  Bytes out;
  out.push_back(static_cast<uint8_t>(name.size()));
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(static_cast<uint8_t>(address.size()));
  out.insert(out.end(), address.begin(), address.end());
  return out;
}

bool is_power_of_two(uint64_t n) { return n >= 2 && (n & (n - 1)) == 0; }

std::string errno_text(int err) { return std::strerror(err); }

// Writes data to path through a temp file in the same directory with mode
// 0600 and fsyncs it. Replaces an existing file only when overwrite is true.
Status write_file_atomic(const std::string& path, const std::string& data, bool overwrite) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io_error("cannot create " + tmp + ": " + errno_text(errno));
  // The umask may only remove bits, but an existing temp file keeps its mode.
  ::fchmod(fd, 0600);
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::io_error("cannot write " + tmp + ": " + errno_text(err));
    }
    written += static_cast<size_t>(n);
  }

  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::io_error("cannot sync " + tmp + ": " + errno_text(err));
  }
  ::close(fd);

  if (!overwrite) {
    // link() fails with EEXIST instead of replacing, so two writers of the
    // same new name cannot both succeed.
    int rc = ::link(tmp.c_str(), path.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc == 0) return Status::ok();
    if (err == EEXIST) return Status::invalid_argument("key file " + path + " already exists");
    return Status::io_error("cannot create " + path + ": " + errno_text(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::io_error("cannot rename " + tmp + " to " + path + ": " + errno_text(err));
  }
  return Status::ok();
}

Status ensure_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::ok();
  fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) return Status::io_error("cannot create directory " + parent.string() + ": " + ec.message());
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::io_error("cannot create keyring directory " + dir + ": " + errno_text(errno));
  }
  return Status::ok();
}

// The parsed, shape-checked content of a key file.
struct KeyFile {
  KeyInfo info;
  std::string address_text;
  uint64_t n = 0;
  uint64_t r = 0;
  uint64_t p = 0;
  Bytes salt;
  Bytes nonce;
  Bytes ciphertext;
};

Status corrupt(const std::string& path, const std::string& problem) {
  return Status::corruption("key file " + path + " is invalid: " + problem);
}

Status get_string(const json& doc, const char* field, const std::string& path, std::string* out) {
  auto it = doc.find(field);
  if (it == doc.end() || !it->is_string()) return corrupt(path, std::string("missing string field '") + field + "'");
  *out = it->get<std::string>();
  return Status::ok();
}

Status get_hex(const json& doc, const char* field, const std::string& path, Bytes* out) {
  std::string text;
  Status s = get_string(doc, field, path, &text);
  if (!s.is_ok()) return s;
  auto bytes = from_hex(text);
  if (!bytes) return corrupt(path, std::string("field '") + field + "' is not hex");
  *out = std::move(*bytes);
  return Status::ok();
}

Status get_uint(const json& doc, const char* field, const std::string& path, uint64_t* out) {
  auto it = doc.find(field);
  if (it == doc.end() || !it->is_number_unsigned()) {
    return corrupt(path, std::string("field '") + field + "' must be a non-negative integer");
  }
  *out = it->get<uint64_t>();
  return Status::ok();
}

Status read_key_file(const std::string& path, const std::string& expected_name, KeyFile* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!fs::exists(path)) return Status::not_found("key file " + path + " not found");
    return Status::io_error("cannot open key file " + path + ": " + errno_text(errno));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  json doc = json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return corrupt(path, "not a JSON object");

  uint64_t version = 0;
  Status s = get_uint(doc, "version", path, &version);
  if (!s.is_ok()) return s;
  if (version != kFileVersion) {
    return corrupt(path, "unsupported version " + std::to_string(version) + " (this build reads version 1)");
  }
  s = get_string(doc, "name", path, &out->info.name);
  if (!s.is_ok()) return s;
  if (out->info.name != expected_name) {
    return corrupt(path, "stored name '" + out->info.name + "' does not match the file name");
  }

  Bytes pubkey;
  s = get_hex(doc, "pubkey", path, &pubkey);
  if (!s.is_ok()) return s;
  auto pubkey_array = to_array<32>(pubkey);
  if (!pubkey_array) return corrupt(path, "pubkey must be 32 bytes");
  out->info.pubkey = *pubkey_array;

  s = get_string(doc, "address", path, &out->address_text);
  if (!s.is_ok()) return s;
  std::string error;
  auto address = decode_address(out->address_text, &error);
  if (!address) return corrupt(path, "address: " + error);
  if (*address != address_of(out->info.pubkey)) return corrupt(path, "address does not match pubkey");
  out->info.address = *address;

  std::string kdf;
  s = get_string(doc, "kdf", path, &kdf);
  if (!s.is_ok()) return s;
  if (kdf != "scrypt") return corrupt(path, "unsupported kdf '" + kdf + "' (expected scrypt)");
  auto params = doc.find("kdf_params");
  if (params == doc.end() || !params->is_object()) return corrupt(path, "missing object field 'kdf_params'");
  if (!(s = get_uint(*params, "n", path, &out->n)).is_ok()) return s;
  if (!(s = get_uint(*params, "r", path, &out->r)).is_ok()) return s;
  if (!(s = get_uint(*params, "p", path, &out->p)).is_ok()) return s;
  if (!is_power_of_two(out->n) || out->n > kMaxScryptN) {
    return corrupt(path, "kdf_params.n must be a power of two from 2 to 2^20");
  }
  if (out->r == 0 || out->r > kMaxScryptR) return corrupt(path, "kdf_params.r must be from 1 to 32");
  if (out->p == 0 || out->p > kMaxScryptP) return corrupt(path, "kdf_params.p must be from 1 to 16");
  if (!(s = get_hex(*params, "salt", path, &out->salt)).is_ok()) return s;
  if (out->salt.size() < kSaltSize) return corrupt(path, "kdf_params.salt must be at least 16 bytes");

  std::string cipher;
  s = get_string(doc, "cipher", path, &cipher);
  if (!s.is_ok()) return s;
  if (cipher != "aes-256-gcm") return corrupt(path, "unsupported cipher '" + cipher + "' (expected aes-256-gcm)");
  if (!(s = get_hex(doc, "nonce", path, &out->nonce)).is_ok()) return s;
  if (out->nonce.size() != kGcmNonceSize) return corrupt(path, "nonce must be 12 bytes");
  if (!(s = get_hex(doc, "ciphertext", path, &out->ciphertext)).is_ok()) return s;
  if (out->ciphertext.size() != kSecretSize + kGcmTagSize) {
    return corrupt(path, "ciphertext must be 48 bytes (32-byte key and 16-byte tag)");
  }
  return Status::ok();
}

}  // namespace

Keyring::Keyring(std::string dir) : Keyring(std::move(dir), ScryptParams{}) {}

Keyring::Keyring(std::string dir, ScryptParams params) : dir_(std::move(dir)), params_(params) {}

std::string Keyring::default_dir() {
  const char* env = std::getenv("AUTOMATA_KEYRING_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  const char* home = std::getenv("HOME");
  std::string base = (home != nullptr && home[0] != '\0') ? home : ".";
  return base + "/.automata/keyring";
}

bool Keyring::valid_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

std::string Keyring::path_of(const std::string& name) const { return dir_ + "/" + name + ".json"; }

static Status invalid_name(const std::string& name) {
  return Status::invalid_argument("invalid key name '" + name +
                                  "': use 1 to 64 characters from A-Z, a-z, 0-9, '_', '.' and '-'");
}

Status Keyring::add(const std::string& name, const PrivateKey& key, const std::string& passphrase,
                    bool overwrite) {
  if (!valid_name(name)) return invalid_name(name);
  std::string path = path_of(name);
  if (!overwrite && fs::exists(path)) {
    return Status::invalid_argument("key '" + name + "' already exists in " + dir_);
  }
  Status s = ensure_dir(dir_);
  if (!s.is_ok()) return s;

  PublicKey pubkey = key.public_key();
  std::string address = encode_address(address_of(pubkey));
  ScryptParams params = params_;
  if (passphrase.empty() && kEmptyPassphraseScrypt.n * kEmptyPassphraseScrypt.r * kEmptyPassphraseScrypt.p <
                                params.n * params.r * params.p) {
    params = kEmptyPassphraseScrypt;
  }
  Bytes salt = random_bytes(kSaltSize);
  auto aes_key = scrypt(as_view(passphrase), salt, params.n, params.r, params.p, kAesKeySize);
  if (!aes_key) {
    return Status::invalid_argument("scrypt rejected n=" + std::to_string(params.n) + " r=" +
                                    std::to_string(params.r) + " p=" + std::to_string(params.p));
  }
  Bytes nonce = random_bytes(kGcmNonceSize);
  Bytes sealed = aes256gcm_seal(*aes_key, nonce, key.bytes(), associated_data(name, address));
  std::fill(aes_key->begin(), aes_key->end(), uint8_t{0});

  json doc = {
      {"version", kFileVersion},
      {"name", name},
      {"pubkey", to_hex(pubkey)},
      {"address", address},
      {"kdf", "scrypt"},
      {"kdf_params", {{"n", params.n}, {"r", params.r}, {"p", params.p}, {"salt", to_hex(salt)}}},
      {"cipher", "aes-256-gcm"},
      {"nonce", to_hex(nonce)},
      {"ciphertext", to_hex(sealed)},
  };
  return write_file_atomic(path, doc.dump(2) + "\n", overwrite);
}

Status Keyring::load(const std::string& name, const std::string& passphrase,
                     std::optional<PrivateKey>* key) const {
  if (!valid_name(name)) return invalid_name(name);
  std::string path = path_of(name);
  KeyFile file;
  Status s = read_key_file(path, name, &file);
  if (!s.is_ok()) return s;

  auto aes_key = scrypt(as_view(passphrase), file.salt, file.n, file.r, file.p, kAesKeySize);
  if (!aes_key) return corrupt(path, "scrypt rejected the stored kdf_params");
  auto secret = aes256gcm_open(*aes_key, file.nonce, file.ciphertext, associated_data(name, file.address_text));
  std::fill(aes_key->begin(), aes_key->end(), uint8_t{0});
  if (!secret) {
    return Status::invalid_argument("wrong passphrase for key " + name + " (or " + path +
                                    " was modified after it was written)");
  }
  auto private_key = PrivateKey::from_bytes(*secret);
  std::fill(secret->begin(), secret->end(), uint8_t{0});
  if (!private_key) return corrupt(path, "the decrypted secret is not a valid secp256k1 key");
  if (private_key->public_key() != file.info.pubkey) {
    return corrupt(path, "pubkey does not match the encrypted secret key");
  }
  key->emplace(*private_key);
  return Status::ok();
}

Status Keyring::info(const std::string& name, KeyInfo* info) const {
  if (!valid_name(name)) return invalid_name(name);
  KeyFile file;
  Status s = read_key_file(path_of(name), name, &file);
  if (!s.is_ok()) return s;
  *info = file.info;
  return Status::ok();
}

Status Keyring::list(std::vector<KeyInfo>* keys) const {
  keys->clear();
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return Status::ok();
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (!entry.is_regular_file()) continue;
    std::string file_name = entry.path().filename().string();
    constexpr std::string_view kSuffix = ".json";
    if (file_name.size() <= kSuffix.size() || !file_name.ends_with(kSuffix)) continue;
    std::string name = file_name.substr(0, file_name.size() - kSuffix.size());
    if (valid_name(name)) names.push_back(std::move(name));
  }
  if (ec) return Status::io_error("cannot list keyring directory " + dir_ + ": " + ec.message());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    KeyInfo key_info;
    Status s = info(name, &key_info);
    if (!s.is_ok()) return s;
    keys->push_back(std::move(key_info));
  }
  return Status::ok();
}

Status Keyring::remove(const std::string& name) {
  if (!valid_name(name)) return invalid_name(name);
  std::string path = path_of(name);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return Status::not_found("key file " + path + " not found");
    return Status::io_error("cannot delete " + path + ": " + errno_text(errno));
  }
  return Status::ok();
}

}  // namespace automata::crypto
