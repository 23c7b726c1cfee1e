#include "automata/cli/passphrase.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

namespace automata::cli {

namespace {

// Reads one line from the terminal with echo off, restoring the terminal
// mode afterwards. The prompt goes to stderr so stdout stays parseable.
Status prompt_no_echo(const std::string& prompt, std::string* out) {
  std::cerr << prompt << std::flush;
  termios old_mode{};
  bool restore = ::tcgetattr(STDIN_FILENO, &old_mode) == 0;
  if (restore) {
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  bool ok = static_cast<bool>(std::getline(std::cin, *out));
  if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  std::cerr << "\n";
  if (!ok) return Status::invalid_argument("no passphrase entered (end of input on the terminal)");
  return Status::ok();
}

}  // namespace

bool passphrase_given(const PassphraseOptions& options) {
  return options.none || !options.file.empty() || std::getenv(kPassphraseEnv) != nullptr;
}

Status read_passphrase(const PassphraseOptions& options, const std::string& prompt, bool confirm, std::string* out) {
  if (options.none) {
    out->clear();
    return Status::ok();
  }
  if (!options.file.empty()) {
    std::ifstream in(options.file);
    if (!in) {
      return Status::invalid_argument("cannot read passphrase file " + options.file + ": " + std::strerror(errno));
    }
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    *out = std::move(line);
    return Status::ok();
  }

  const char* env = std::getenv(kPassphraseEnv);
  if (env != nullptr) {
    *out = env;
    return Status::ok();
  }

  if (::isatty(STDIN_FILENO) == 0) {
    return Status::invalid_argument(
        "no passphrase given and stdin is not a terminal: pass --passphrase-file FILE, set AUTOMATA_PASSPHRASE, "
        "or use --no-passphrase for a test key");
  }
  Status s = prompt_no_echo(prompt, out);
  if (!s.is_ok() || !confirm) return s;

  std::string again;
  s = prompt_no_echo("Repeat the passphrase: ", &again);
  if (!s.is_ok()) return s;
  if (again != *out) return Status::invalid_argument("the two passphrases differ; run the command again");
  return Status::ok();
}

}  // namespace automata::cli
