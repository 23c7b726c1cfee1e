// The `automata code` command group: publish, version, review, compose and
// trade code assets.
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace automata::cli {

struct Context;

// Adds `code` and its subcommands to the CLI.
void add_code_commands(CLI::App& app, Context& ctx);

// The two halves of the group, in code_commands.cc (commands that sign a
// tx) and code_read_commands.cc (commands that only read).
void add_code_tx_commands(CLI::App* code, Context& ctx);
void add_code_read_commands(CLI::App* code, Context& ctx);

}  // namespace automata::cli
