#include "automata/cli/app.h"

#include "automata/cli/code_commands.h"
#include "automata/cli/model_commands.h"
#include "automata/crypto/bech32.h"
#include "cli/context.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <ostream>

namespace automata::cli {

using nlohmann::json;

Status Context::client(RpcClient** out_client) {
  if (!rpc_) {
    Status s = RpcClient::create(node_url, RpcClientOptions{}, &rpc_);
    if (!s.is_ok()) return s;
  }
  *out_client = rpc_.get();
  return Status::ok();
}

Status Context::call(const std::string& method, const json& params, json* result, RpcError* error) {
  RpcClient* rpc = nullptr;
  Status s = client(&rpc);
  if (!s.is_ok()) return s;
  return rpc->call(method, params, result, error);
}

Status Context::key_info(const std::string& name, crypto::KeyInfo* info) const {
  Status s = keyring().info(name, info);
  if (s.is_not_found()) {
    return Status::not_found("key '" + name + "' not found in " + keyring_dir + "; run 'automata keys list'");
  }
  return s;
}

Status Context::load_key(const std::string& name, std::optional<crypto::PrivateKey>* key) const {
  crypto::KeyInfo info;
  Status s = key_info(name, &info);
  if (!s.is_ok()) return s;
  // A key stored with the empty passphrase (the dev key of `automatad dev`,
  // or one added with --no-passphrase) opens without asking when no
  // passphrase source was given.
  if (!passphrase_given(passphrase)) {
    s = keyring().load(name, "", key);
    if (s.is_ok() || s.kind() != Status::Kind::kInvalidArgument) return s;
  }
  std::string secret;
  s = read_passphrase(passphrase, "Passphrase for key '" + name + "': ", /*confirm=*/false, &secret);
  if (!s.is_ok()) return s;
  return keyring().load(name, secret, key);
}

Status Context::resolve_address(const std::string& text, Address* address) const {
  if (text.rfind(std::string(crypto::kAddressPrefix) + "1", 0) == 0) {
    std::string error;
    auto decoded = crypto::decode_address(text, &error);
    if (!decoded) return Status::invalid_argument(error);
    *address = *decoded;
    return Status::ok();
  }
  if (!crypto::Keyring::valid_name(text)) {
    return Status::invalid_argument("'" + text + "' is neither an atm1 address nor a valid key name");
  }
  crypto::KeyInfo info;
  Status s = key_info(text, &info);
  if (!s.is_ok()) return s;
  *address = info.address;
  return Status::ok();
}

Status json_uint(const json& object, const char* field, uint64_t* out) {
  auto it = object.find(field);
  if (it != object.end() && it->is_number_unsigned()) {
    *out = it->get<uint64_t>();
    return Status::ok();
  }
  if (it != object.end() && it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    char* end = nullptr;
    errno = 0;
    unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (!text.empty() && text[0] != '-' && end != nullptr && *end == '\0' && errno == 0) {
      *out = value;
      return Status::ok();
    }
  }
  return Status::invalid_argument(std::string("the node's response has no unsigned integer field '") + field + "'");
}

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Context ctx;
  ctx.out = &out;
  ctx.err = &err;
  const char* node_env = std::getenv(kNodeEnv);
  ctx.node_url = (node_env != nullptr && node_env[0] != '\0') ? node_env : kDefaultNode;
  ctx.keyring_dir = crypto::Keyring::default_dir();

  CLI::App app{"automata: keys, transactions and queries for an Automata node over JSON-RPC", "automata"};
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--node", ctx.node_url, "Node JSON-RPC URL, http://HOST:PORT (default $AUTOMATA_NODE or " +
                                              std::string(kDefaultNode) + ")");
  app.add_option("--output,-o", ctx.output, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--keyring-dir", ctx.keyring_dir,
                 "Keyring directory (default $AUTOMATA_KEYRING_DIR or $HOME/.automata/keyring)");
  app.add_option("--passphrase-file", ctx.passphrase.file, "Read the key passphrase from the first line of FILE");
  app.add_flag("--no-passphrase", ctx.passphrase.none, "Use the empty passphrase (for test keys only)");

  add_keys_commands(app, ctx);
  add_tx_commands(app, ctx);
  add_query_commands(app, ctx);
  add_code_commands(app, ctx);
  add_model_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }
  if (!ctx.action) {
    err << "error: no command given; run 'automata --help'\n";
    return 1;
  }
  Status s = ctx.action();
  if (!s.is_ok()) {
    err << "error: " << s.message() << "\n";
    return 1;
  }
  return ctx.failure_exit_code;
}

}  // namespace automata::cli
