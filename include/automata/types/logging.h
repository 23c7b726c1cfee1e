// One spdlog logger per component ("chain", "rpc", "mempool", ...), all
// writing to stderr with the component name in each line.
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
}  // namespace spdlog

namespace automata {

// Returns the logger for component, creating it on first use. Thread-safe.
std::shared_ptr<spdlog::logger> logger(const std::string& component);

// Sets the level of every existing and future logger: trace, debug, info,
// warn, error, critical or off. Returns false for an unknown level name.
bool set_log_level(const std::string& level);

}  // namespace automata
