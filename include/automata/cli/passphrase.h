// Passphrase sources for the CLI's encrypted keys.
#pragma once

#include "automata/types/status.h"

#include <string>

namespace automata::cli {

struct PassphraseOptions {
  std::string file;  // --passphrase-file: the first line is the passphrase
  bool none = false; // --no-passphrase: the empty passphrase, for test keys
};

inline constexpr const char* kPassphraseEnv = "AUTOMATA_PASSPHRASE";

// True when --no-passphrase, --passphrase-file or $AUTOMATA_PASSPHRASE gives
// the passphrase, so read_passphrase() will not prompt.
bool passphrase_given(const PassphraseOptions& options);

// Resolves the passphrase from, in order: --no-passphrase, --passphrase-file,
// $AUTOMATA_PASSPHRASE, then a prompt on the terminal with echo off (asked
// twice when confirm is true). Returns invalid_argument when the file cannot
// be read, the two prompts differ, or no source is available because stdin
// is not a terminal.
Status read_passphrase(const PassphraseOptions& options, const std::string& prompt, bool confirm, std::string* out);

}  // namespace automata::cli
