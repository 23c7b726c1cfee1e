#include "automata/node/home.h"

#include "automata/crypto/bech32.h"
#include "automata/node/genesis_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace automata::node {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Writes text to path with the given mode, syncing before close.
Status write_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::io_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  // open() keeps the mode of an existing file, so set it explicitly.
  bool ok = ::fchmod(fd, mode) == 0;
  size_t written = 0;
  while (ok && written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) return Status::io_error(fmt::format("cannot write {}: {}", path, std::strerror(saved)));
  return Status::ok();
}

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

HomePaths HomePaths::of(const std::string& dir) {
  fs::path root(dir);
  return HomePaths{dir,
                   (root / "config.toml").string(),
                   (root / "genesis.json").string(),
                   (root / "validator_key.json").string(),
                   (root / "node_key.json").string(),
                   (root / "data").string(),
                   (root / "consensus").string()};
}

bool home_initialized(const std::string& dir) {
  std::error_code ec;
  return fs::exists(HomePaths::of(dir).config, ec);
}

Status remove_home_files(const std::string& dir) {
  auto paths = HomePaths::of(dir);
  std::error_code ec;
  for (const auto& file : {paths.config, paths.genesis, paths.validator_key, paths.node_key}) {
    fs::remove(file, ec);
    if (ec) return Status::io_error(fmt::format("cannot delete {}: {}", file, ec.message()));
  }
  for (const auto& subdir : {paths.data, paths.consensus}) {
    fs::remove_all(subdir, ec);
    if (ec) return Status::io_error(fmt::format("cannot delete {}: {}", subdir, ec.message()));
  }
  return Status::ok();
}

Status write_key_file(const std::string& path, const crypto::PrivateKey& key) {
  auto pubkey = key.public_key();
  json file = {{"type", "bip340-secp256k1"},
               {"secret_key", to_hex(key.bytes())},
               {"pubkey", to_hex(pubkey)},
               {"address", crypto::encode_address(crypto::address_of(pubkey))}};
  return write_file(path, file.dump(2) + "\n", 0600);
}

Status read_key_file(const std::string& path, std::optional<crypto::PrivateKey>* key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found(fmt::format("key file {} not found or unreadable", path));
  std::stringstream text;
  text << in.rdbuf();
  json file = json::parse(text.str(), nullptr, false);
  if (file.is_discarded() || !file.is_object()) {
    return Status::corruption(fmt::format("key file {} is not a JSON object", path));
  }
  auto secret = file.find("secret_key");
  if (secret == file.end() || !secret->is_string()) {
    return Status::corruption(fmt::format("key file {}: secret_key: missing or not a string", path));
  }
  auto bytes = from_hex(secret->get<std::string>());
  auto parsed = bytes ? crypto::PrivateKey::from_bytes(*bytes) : std::nullopt;
  if (!parsed) {
    return Status::corruption(fmt::format("key file {}: secret_key: expected 64 hex digits of a valid secp256k1 key", path));
  }
  auto pubkey = file.find("pubkey");
  if (pubkey != file.end() && (!pubkey->is_string() || pubkey->get<std::string>() != to_hex(parsed->public_key()))) {
    return Status::corruption(fmt::format("key file {}: pubkey does not match secret_key", path));
  }
  *key = std::move(parsed);
  return Status::ok();
}

Status add_fund_flag(std::string_view text, std::vector<execution::GenesisAccount>* accounts) {
  auto equals = text.find('=');
  if (equals == std::string_view::npos) {
    return Status::invalid_argument(fmt::format("--fund \"{}\": expected ADDRESS=AMOUNT, e.g. atm1...=1000atm", text));
  }
  std::string error;
  auto address = crypto::decode_address(text.substr(0, equals), &error);
  if (!address) return Status::invalid_argument(fmt::format("--fund \"{}\": invalid address: {}", text, error));

  std::string_view amount_text = text.substr(equals + 1);
  if (amount_text.ends_with(execution::kNativeDenom)) {
    amount_text.remove_suffix(std::string_view(execution::kNativeDenom).size());
  }
  auto amount = parse_amount(amount_text);
  if (!amount || *amount == 0) {
    return Status::invalid_argument(fmt::format(
        "--fund \"{}\": amount must be a positive decimal number of atm without leading zeros", text));
  }

  for (auto& account : *accounts) {
    if (account.address != *address) continue;
    for (auto& [denom, balance] : account.balances) {
      if (denom != execution::kNativeDenom) continue;
      if (!checked_add(balance, *amount, balance)) {
        return Status::invalid_argument(fmt::format("--fund \"{}\": total for the address exceeds 2^128-1", text));
      }
      return Status::ok();
    }
    account.balances.emplace_back(execution::kNativeDenom, *amount);
    return Status::ok();
  }
  execution::GenesisAccount account;
  account.address = *address;
  account.balances.emplace_back(execution::kNativeDenom, *amount);
  accounts->push_back(std::move(account));
  return Status::ok();
}

Status init_home(const InitOptions& options, std::optional<crypto::PrivateKey>* validator_key) {
  auto paths = HomePaths::of(options.home);
  if (home_initialized(options.home)) {
    if (!options.force) {
      return Status::invalid_argument(fmt::format(
          "home {} is already initialized ({} exists); pass --force to overwrite it and delete its chain data",
          options.home, paths.config));
    }
    Status removed = remove_home_files(options.home);
    if (!removed.is_ok()) return removed;
  }

  auto key = crypto::PrivateKey::generate();
  execution::Genesis genesis;
  genesis.chain_id = options.chain_id;
  genesis.genesis_time_ms = options.genesis_time_ms != 0 ? options.genesis_time_ms : now_ms();
  execution::GenesisValidator validator;
  validator.pubkey = key.public_key();
  validator.power = 1;
  validator.name = options.moniker;
  genesis.validators.push_back(validator);
  genesis.accounts = options.funded;
  std::string invalid = execution::validate_genesis(genesis);
  if (!invalid.empty()) return Status::invalid_argument("genesis: " + invalid);

  std::error_code ec;
  fs::create_directories(paths.data, ec);
  if (ec) return Status::io_error(fmt::format("cannot create {}: {}", paths.data, ec.message()));

  Status status = write_key_file(paths.validator_key, key);
  if (status.is_ok()) status = write_key_file(paths.node_key, crypto::PrivateKey::generate());
  if (status.is_ok()) status = write_file(paths.genesis, render_genesis(genesis), 0644);
  // config.toml goes last: its presence marks the home as initialized.
  if (status.is_ok()) status = write_file(paths.config, render_config(options.config), 0644);
  if (!status.is_ok()) return status;
  if (validator_key != nullptr) *validator_key = key;
  return Status::ok();
}

}  // namespace automata::node
