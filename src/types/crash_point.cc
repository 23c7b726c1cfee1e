#include "automata/types/crash_point.h"

#include "automata/types/logging.h"

#include <spdlog/spdlog.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace automata {

namespace {

struct CrashConfig {
  std::string point;  // empty: no crash point configured
  uint64_t after = 1;
  std::atomic<uint64_t> hits{0};
};

CrashConfig& config() {
  static CrashConfig* const instance = [] {
    auto* c = new CrashConfig;
    const char* point = std::getenv("AUTOMATA_CRASH_AT");
    if (point == nullptr || *point == '\0') return c;
    c->point = point;
    const char* after = std::getenv("AUTOMATA_CRASH_AFTER");
    if (after != nullptr && *after != '\0') {
      char* end = nullptr;
      unsigned long long n = std::strtoull(after, &end, 10);
      if (end != nullptr && *end == '\0' && n > 0) {
        c->after = n;
      } else {
        logger("crash")->warn("AUTOMATA_CRASH_AFTER '{}' is not a positive integer; crashing on the first hit",
                              after);
      }
    }
    logger("crash")->warn("crash point armed: the process will kill itself at hit {} of '{}'", c->after,
                          c->point);
    return c;
  }();
  return *instance;
}

}  // namespace

void crash_point(const char* name) {
  CrashConfig& c = config();
  if (c.point.empty() || c.point != name) return;
  uint64_t hit = c.hits.fetch_add(1, std::memory_order_relaxed) + 1;
  if (hit != c.after) return;
  logger("crash")->critical("crash point '{}' reached at hit {}: sending SIGKILL to myself", name, hit);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);  // not reached
}

}  // namespace automata
