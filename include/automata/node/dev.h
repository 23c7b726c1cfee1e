// `automatad dev`: a one-validator chain with zero configuration.
#pragma once

#include "automata/types/amount.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <string>

namespace automata::node {

inline constexpr const char* kDevChainId = "automata-dev";
inline constexpr const char* kDevKeyName = "dev";
// Genesis balance of the dev account, in atm.
inline constexpr Amount kDevFunds = 1'000'000'000'000'000;

struct DevOptions {
  std::string home;         // created on first run
  std::string keyring_dir;  // where the "dev" key is stored
  // Deletes the home's chain and files first and overwrites the keyring's
  // "dev" key with a new one.
  bool reset = false;
};

struct DevSetup {
  Address dev_address{};
  bool created = false;  // false when an existing home was reused
};

// Creates the dev home on first run (or after reset): chain id
// "automata-dev", this node as the only validator, and the keyring's "dev"
// key funded with kDevFunds atm. An existing "dev" key with an empty
// passphrase is reused; a new one is generated and stored with an empty
// passphrase when there is none. On later runs the home is reused as is.
// Returns invalid_argument when the keyring contains a "dev" key that the
// empty passphrase does not open (pass reset to replace it).
Status prepare_dev_home(const DevOptions& options, DevSetup* setup);

}  // namespace automata::node
