#include "automata/types/status.h"

namespace automata {

std::string Status::to_string() const {
  switch (kind_) {
    case Kind::kOk: return "ok";
    case Kind::kNotFound: return "not found: " + message_;
    case Kind::kCorruption: return "corruption: " + message_;
    case Kind::kInvalidArgument: return "invalid argument: " + message_;
    case Kind::kIoError: return "I/O error: " + message_;
    case Kind::kUnavailable: return "unavailable: " + message_;
  }
  return message_;
}

}  // namespace automata
