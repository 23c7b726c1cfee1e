// The CLI keyring: secret keys encrypted at rest, one JSON file per key.
//
// File <dir>/<name>.json (mode 0600, directory mode 0700 when the keyring
// creates it):
//   {"version":1,"name":"...","pubkey":"hex","address":"atm1...",
//    "kdf":"scrypt","kdf_params":{"n":32768,"r":8,"p":1,"salt":"hex"},
//    (n is 1024 for a key with the empty passphrase)
//    "cipher":"aes-256-gcm","nonce":"hex","ciphertext":"hex"}
// The AES-256-GCM key is scrypt(passphrase, salt); the plaintext is the
// 32-byte secret key, and the associated data binds the name and the address,
// so renaming a file or swapping its address makes decryption fail. The
// public key is stored in clear so that info() and list() need no
// passphrase. An empty passphrase is allowed and still encrypts.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace automata::crypto {

struct KeyInfo {
  std::string name;
  PublicKey pubkey{};
  Address address{};
};

// scrypt cost parameters (RFC 7914) used when a key is written. Reading uses
// the parameters stored in the file.
struct ScryptParams {
  uint64_t n = uint64_t{1} << 15;
  uint64_t r = 8;
  uint64_t p = 1;
};

// Parameters for a key with the empty passphrase (the dev key of `automatad
// dev`, keys added with --no-passphrase). The scrypt cost only slows down
// guessing the passphrase, and the empty passphrase is the first guess. So
// a high cost protects nothing and only delays every command that signs.
// n = 2^15 took 0.1 to 0.2 s per command on a loaded 2-core machine, and
// n = 2^10 (1 MiB) still took about 4 ms of a 50 ms code commit
// (bench/code_bench.sh). n = 2^4 takes 16 KiB.
inline constexpr ScryptParams kEmptyPassphraseScrypt{uint64_t{1} << 4, 8, 1};

// Not thread-safe for concurrent writers to the same name; separate
// processes writing different names do not interfere.
class Keyring {
 public:
  explicit Keyring(std::string dir);
  // Writes new keys with the given scrypt parameters (tests pass cheap ones).
  Keyring(std::string dir, ScryptParams params);

  // $AUTOMATA_KEYRING_DIR if set and non-empty, else $HOME/.automata/keyring
  // (or ./.automata/keyring when HOME is unset).
  static std::string default_dir();

  // True when name matches [A-Za-z0-9_.-]{1,64}.
  static bool valid_name(const std::string& name);

  const std::string& dir() const { return dir_; }

  // Encrypts key under passphrase and writes <dir>/<name>.json atomically
  // (temp file, fsync, rename). An empty passphrase uses
  // kEmptyPassphraseScrypt when that is cheaper than the keyring's
  // parameters. Returns invalid_argument when the name is
  // invalid, or when the key exists and overwrite is false; io_error when the
  // directory or file cannot be written.
  Status add(const std::string& name, const PrivateKey& key, const std::string& passphrase, bool overwrite);

  // Decrypts the key. Returns not_found naming the file when it is missing,
  // invalid_argument "wrong passphrase for key NAME ..." when the GCM tag does
  // not verify, and corruption when the file is malformed or its stored
  // public key does not match the decrypted secret.
  Status load(const std::string& name, const std::string& passphrase, std::optional<PrivateKey>* key) const;

  // Reads the public part of a key without the passphrase. Returns not_found
  // naming the file, or corruption when the file is malformed or its address
  // does not match its public key.
  Status info(const std::string& name, KeyInfo* info) const;

  // Every key in the directory, sorted by name. An absent directory is an
  // empty keyring. Returns corruption naming the first unreadable key file.
  Status list(std::vector<KeyInfo>* keys) const;

  // Deletes <dir>/<name>.json. Returns not_found naming the file when absent.
  Status remove(const std::string& name);

 private:
  std::string path_of(const std::string& name) const;

  std::string dir_;
  ScryptParams params_;
};

}  // namespace automata::crypto
