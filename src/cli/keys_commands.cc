// automata keys add | import | export | list | show | delete
#include "automata/crypto/bech32.h"
#include "cli/context.h"

#include <CLI/CLI.hpp>

namespace automata::cli {

namespace {

using nlohmann::json;

json key_json(const crypto::KeyInfo& info) {
  return {{"name", info.name}, {"address", crypto::encode_address(info.address)}, {"pubkey", to_hex(info.pubkey)}};
}

void print_key(Context& ctx, const crypto::KeyInfo& info) {
  if (ctx.json_output()) {
    *ctx.out << key_json(info).dump(2) << "\n";
    return;
  }
  *ctx.out << "name:    " << info.name << "\n"
           << "address: " << crypto::encode_address(info.address) << "\n"
           << "pubkey:  " << to_hex(info.pubkey) << "\n";
}

Status store_key(Context& ctx, const std::string& name, const crypto::PrivateKey& key, bool overwrite) {
  if (!crypto::Keyring::valid_name(name)) {
    return Status::invalid_argument("invalid key name '" + name +
                                    "': use 1 to 64 characters from A-Z, a-z, 0-9, '_', '.' and '-'");
  }
  crypto::Keyring keyring = ctx.keyring();
  crypto::KeyInfo existing;
  if (!overwrite && keyring.info(name, &existing).is_ok()) {
    return Status::invalid_argument("key '" + name + "' already exists in " + ctx.keyring_dir +
                                    "; pass --overwrite to replace it");
  }
  std::string passphrase;
  Status s = read_passphrase(ctx.passphrase, "New passphrase for key '" + name + "': ", /*confirm=*/true, &passphrase);
  if (!s.is_ok()) return s;
  s = keyring.add(name, key, passphrase, overwrite);
  if (!s.is_ok()) return s;
  crypto::KeyInfo info;
  s = keyring.info(name, &info);
  if (!s.is_ok()) return s;
  print_key(ctx, info);
  return Status::ok();
}

}  // namespace

void add_keys_commands(CLI::App& app, Context& ctx) {
  CLI::App* keys = app.add_subcommand("keys", "Manage the encrypted keyring");
  keys->require_subcommand(1);

  {
    auto name = std::make_shared<std::string>();
    auto overwrite = std::make_shared<bool>(false);
    CLI::App* add = keys->add_subcommand("add", "Create a new random key");
    add->add_option("NAME", *name, "Key name: 1 to 64 characters from A-Z, a-z, 0-9, '_', '.' and '-'")->required();
    add->add_flag("--overwrite", *overwrite, "Replace an existing key of the same name");
    add->callback([&ctx, name, overwrite] {
      ctx.action = [&ctx, name, overwrite] {
        return store_key(ctx, *name, crypto::PrivateKey::generate(), *overwrite);
      };
    });
  }
  {
    auto name = std::make_shared<std::string>();
    auto secret_hex = std::make_shared<std::string>();
    auto overwrite = std::make_shared<bool>(false);
    CLI::App* import = keys->add_subcommand("import", "Import a secret key given as 64 hex digits");
    import->add_option("NAME", *name, "Key name")->required();
    import->add_option("HEX", *secret_hex, "The 32-byte secret key in hex")->required();
    import->add_flag("--overwrite", *overwrite, "Replace an existing key of the same name");
    import->callback([&ctx, name, secret_hex, overwrite] {
      ctx.action = [&ctx, name, secret_hex, overwrite]() -> Status {
        auto bytes = from_hex(*secret_hex);
        std::optional<crypto::PrivateKey> key;
        if (bytes) key = crypto::PrivateKey::from_bytes(*bytes);
        if (bytes) std::fill(bytes->begin(), bytes->end(), uint8_t{0});
        if (!key) {
          return Status::invalid_argument(
              "invalid secret key: expected 64 hex digits encoding a secp256k1 scalar between 1 and n - 1");
        }
        return store_key(ctx, *name, *key, *overwrite);
      };
    });
  }
  {
    auto name = std::make_shared<std::string>();
    CLI::App* export_key = keys->add_subcommand("export", "Print a key's secret in hex (after its passphrase)");
    export_key->add_option("NAME", *name, "Key name")->required();
    export_key->callback([&ctx, name] {
      ctx.action = [&ctx, name]() -> Status {
        std::optional<crypto::PrivateKey> key;
        Status s = ctx.load_key(*name, &key);
        if (!s.is_ok()) return s;
        *ctx.err << "warning: anyone who sees this secret key controls the account; do not share or log it\n";
        if (ctx.json_output()) {
          *ctx.out << json{{"name", *name}, {"secret", to_hex(key->bytes())}}.dump(2) << "\n";
        } else {
          *ctx.out << to_hex(key->bytes()) << "\n";
        }
        return Status::ok();
      };
    });
  }
  {
    CLI::App* list = keys->add_subcommand("list", "List keys by name with their addresses");
    list->callback([&ctx] {
      ctx.action = [&ctx]() -> Status {
        std::vector<crypto::KeyInfo> infos;
        Status s = ctx.keyring().list(&infos);
        if (!s.is_ok()) return s;
        if (ctx.json_output()) {
          json array = json::array();
          for (const auto& info : infos) array.push_back(key_json(info));
          *ctx.out << array.dump(2) << "\n";
          return Status::ok();
        }
        if (infos.empty()) {
          *ctx.out << "no keys in " << ctx.keyring_dir << "; create one with 'automata keys add NAME'\n";
        }
        for (const auto& info : infos) {
          *ctx.out << info.name << "\t" << crypto::encode_address(info.address) << "\n";
        }
        return Status::ok();
      };
    });
  }
  {
    auto name = std::make_shared<std::string>();
    CLI::App* show = keys->add_subcommand("show", "Show a key's address and public key");
    show->add_option("NAME", *name, "Key name")->required();
    show->callback([&ctx, name] {
      ctx.action = [&ctx, name]() -> Status {
        crypto::KeyInfo info;
        Status s = ctx.key_info(*name, &info);
        if (!s.is_ok()) return s;
        print_key(ctx, info);
        return Status::ok();
      };
    });
  }
  {
    auto name = std::make_shared<std::string>();
    CLI::App* remove = keys->add_subcommand("delete", "Delete a key file from the keyring");
    remove->add_option("NAME", *name, "Key name")->required();
    remove->callback([&ctx, name] {
      ctx.action = [&ctx, name]() -> Status {
        crypto::KeyInfo info;
        Status s = ctx.key_info(*name, &info);
        if (!s.is_ok()) return s;
        s = ctx.keyring().remove(*name);
        if (!s.is_ok()) return s;
        *ctx.out << "deleted key '" << *name << "' (" << crypto::encode_address(info.address) << ")\n";
        return Status::ok();
      };
    });
  }
}

}  // namespace automata::cli
