#include "automata/node/dev.h"

#include "automata/crypto/keyring.h"
#include "automata/node/genesis_file.h"
#include "automata/node/fragment_attest.h"
#include "automata/node/home.h"
#include "automata/types/logging.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>

namespace automata::node {

namespace {

// The dev chain's only validator gathers no txs or votes from peers. So a
// block starts as soon as a tx waits and the previous block is committed,
// instead of 100 ms after it. 1 ms is config.toml's minimum.
constexpr uint64_t kDevBlockIntervalMs = 1;

// The key funded in a new dev genesis: the keyring's "dev" key, created
// when missing or when reset asks for a fresh one.
Status dev_key(const DevOptions& options, std::optional<crypto::PrivateKey>* key) {
  crypto::Keyring keyring(options.keyring_dir);
  if (!options.reset) {
    crypto::KeyInfo info;
    Status found = keyring.info(kDevKeyName, &info);
    if (found.is_ok()) {
      Status loaded = keyring.load(kDevKeyName, "", key);
      if (!loaded.is_ok()) {
        return Status::invalid_argument(fmt::format(
            "keyring {} has a \"{}\" key that the empty passphrase does not open ({}); pass --reset to replace it",
            keyring.dir(), kDevKeyName, loaded.message()));
      }
      logger("node")->info("reusing keyring key \"{}\" from {}", kDevKeyName, keyring.dir());
      return Status::ok();
    }
    if (!found.is_not_found()) return found;
  }
  auto fresh = crypto::PrivateKey::generate();
  Status added = keyring.add(kDevKeyName, fresh, "", /*overwrite=*/true);
  if (!added.is_ok()) return added;
  *key = fresh;
  return Status::ok();
}

// Adds the validator's account to the genesis init_home wrote, because the
// validator key exists only once init_home has run. The validator pays the
// fees of the ModelAttest txs its fragment worker submits.
Status fund_validator(const std::string& genesis_path, const crypto::PublicKey& validator) {
  execution::Genesis genesis;
  Status status = load_genesis(genesis_path, &genesis);
  if (!status.is_ok()) return status;
  execution::GenesisAccount account;
  account.address = crypto::address_of(validator);
  account.balances.emplace_back(execution::kNativeDenom, kValidatorFunds);
  genesis.accounts.push_back(account);
  std::ofstream out(genesis_path, std::ios::trunc);
  out << render_genesis(genesis);
  out.close();
  if (!out) return Status::io_error(fmt::format("cannot rewrite {} to fund the validator", genesis_path));
  return Status::ok();
}

}  // namespace

Status prepare_dev_home(const DevOptions& options, DevSetup* setup) {
  if (options.reset) {
    Status removed = remove_home_files(options.home);
    if (!removed.is_ok()) return removed;
  }

  if (home_initialized(options.home)) {
    execution::Genesis genesis;
    Status loaded = load_genesis(HomePaths::of(options.home).genesis, &genesis);
    if (!loaded.is_ok()) return loaded;
    if (genesis.accounts.empty()) {
      return Status::invalid_argument(fmt::format(
          "{} funds no account, so it is not a dev home; pass --reset to recreate it", options.home));
    }
    setup->dev_address = genesis.accounts.front().address;
    setup->created = false;
    return Status::ok();
  }

  std::optional<crypto::PrivateKey> key;
  Status status = dev_key(options, &key);
  if (!status.is_ok()) return status;

  InitOptions init;
  init.home = options.home;
  init.chain_id = kDevChainId;
  init.moniker = "dev";
  init.config.consensus.block_interval_ms = kDevBlockIntervalMs;
  execution::GenesisAccount account;
  account.address = crypto::address_of(key->public_key());
  account.balances.emplace_back(execution::kNativeDenom, kDevFunds);
  init.funded.push_back(account);
  std::optional<crypto::PrivateKey> validator_key;
  status = init_home(init, &validator_key);
  if (!status.is_ok()) return status;
  status = fund_validator(HomePaths::of(options.home).genesis, validator_key->public_key());
  if (!status.is_ok()) return status;

  setup->dev_address = account.address;
  setup->created = true;
  return Status::ok();
}

}  // namespace automata::node
