// State shared by the CLI's command groups: global options, the output
// streams, the RPC client and the keyring.
#pragma once

#include "automata/cli/passphrase.h"
#include "automata/cli/rpc_client.h"
#include "automata/crypto/keyring.h"
#include "automata/types/status.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace automata::cli {

inline constexpr const char* kDefaultNode = "http://127.0.0.1:7701";
inline constexpr const char* kNodeEnv = "AUTOMATA_NODE";
// Upper bound of every --timeout, in seconds: a day.
inline constexpr uint64_t kMaxWaitSeconds = 86400;

struct Context {
  std::string node_url;
  std::string output = "text";  // "text" or "json"
  std::string keyring_dir;
  PassphraseOptions passphrase;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;

  // The command chosen on the command line; run after parsing.
  std::function<Status()> action;
  // Exit code for a command that ran but whose outcome is a failure (for
  // example a tx included with a non-zero code). 0 unless set.
  int failure_exit_code = 0;

  bool json_output() const { return output == "json"; }
  crypto::Keyring keyring() const { return crypto::Keyring(keyring_dir); }

  // The RPC client for node_url, created on first use.
  Status client(RpcClient** out_client);
  // call() on the client.
  Status call(const std::string& method, const nlohmann::json& params, nlohmann::json* result,
              RpcError* error = nullptr);

  // Reads a key's public info, with a not-found message that tells the
  // user to run `automata keys list`.
  Status key_info(const std::string& name, crypto::KeyInfo* info) const;
  // Reads the passphrase and decrypts a key.
  Status load_key(const std::string& name, std::optional<crypto::PrivateKey>* key) const;
  // Resolves "atm1..." text or a key name to an address.
  Status resolve_address(const std::string& text, Address* address) const;

 private:
  std::unique_ptr<RpcClient> rpc_;
};

void add_keys_commands(CLI::App& app, Context& ctx);
void add_tx_commands(CLI::App& app, Context& ctx);
void add_query_commands(CLI::App& app, Context& ctx);

// Reads an unsigned integer member that the node may send as a number or a
// decimal string. Returns invalid_argument naming the field otherwise.
Status json_uint(const nlohmann::json& object, const char* field, uint64_t* out);

}  // namespace automata::cli
