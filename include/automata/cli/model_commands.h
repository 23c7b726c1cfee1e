// The `automata model` command group: register, upload, fetch, inspect and
// trade model NFTs.
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace automata::cli {

struct Context;

// Adds `model` and its subcommands to the CLI: register, upload, fetch,
// show and list, then the ownership commands below.
void add_model_commands(CLI::App& app, Context& ctx);

// Register, upload and fetch (model_commands.cc), and show and list
// (model_read_commands.cc).
void add_model_content_commands(CLI::App* model, Context& ctx);
void add_model_read_commands(CLI::App* model, Context& ctx);

// Adds the ownership subcommands (transfer, lease, offer, accept, cancel,
// deliver, burn, rekey) to the `model` group. Defined in
// model_own_commands.cc.
void add_model_ownership_commands(CLI::App& model, Context& ctx);

}  // namespace automata::cli
