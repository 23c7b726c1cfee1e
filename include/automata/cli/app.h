// The `automata` command line: keys, tx, query, status and proof commands.
#pragma once

#include <iosfwd>

namespace automata::cli {

// Parses argv and runs one command. Results go to out, errors and warnings
// to err. Returns the process exit code: 0 on success, 1 when the command
// failed (including a tx that failed or timed out under --wait), and the
// CLI11 code (non-zero) for a usage error.
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace automata::cli
