// Status: the error value returned by storage, state and node code.
#pragma once

#include <string>
#include <utility>

namespace automata {

// The outcome of an operation: ok, or a kind plus a message that names the
// value and the rule involved. Cheap to return when ok (no allocation).
class Status {
 public:
  enum class Kind { kOk, kNotFound, kCorruption, kInvalidArgument, kIoError, kUnavailable };

  Status() = default;
  static Status ok() { return Status(); }
  static Status not_found(std::string msg) { return {Kind::kNotFound, std::move(msg)}; }
  static Status corruption(std::string msg) { return {Kind::kCorruption, std::move(msg)}; }
  static Status invalid_argument(std::string msg) { return {Kind::kInvalidArgument, std::move(msg)}; }
  static Status io_error(std::string msg) { return {Kind::kIoError, std::move(msg)}; }
  static Status unavailable(std::string msg) { return {Kind::kUnavailable, std::move(msg)}; }

  bool is_ok() const { return kind_ == Kind::kOk; }
  bool is_not_found() const { return kind_ == Kind::kNotFound; }
  Kind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // "<kind>: <message>", or "ok".
  std::string to_string() const;

 private:
  Status(Kind kind, std::string msg) : kind_(kind), message_(std::move(msg)) {}
  Kind kind_ = Kind::kOk;
  std::string message_;
};

}  // namespace automata
