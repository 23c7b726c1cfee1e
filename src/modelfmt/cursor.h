// Sequential reader over a range of a ByteSource, with bounds checks whose
// errors name the field being read. Internal to the modelfmt parsers.
#pragma once

#include "automata/modelfmt/source.h"
#include "automata/types/status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace automata::modelfmt {

class Cursor {
 public:
  // Reads the bytes [begin, end) of source. label prefixes every error
  // ("onnx", "gguf") and end must not exceed source.size().
  Cursor(ByteSource& source, uint64_t begin, uint64_t end, std::string label)
      : source_(&source), position_(begin), end_(end), label_(std::move(label)) {}

  uint64_t position() const { return position_; }
  uint64_t end() const { return end_; }
  uint64_t remaining() const { return end_ - position_; }
  bool at_end() const { return position_ >= end_; }

  Status read_u8(std::string_view field, uint8_t* out);
  Status read_u32le(std::string_view field, uint32_t* out);
  Status read_u64le(std::string_view field, uint64_t* out);
  // Reads a protobuf base-128 varint of at most 10 bytes.
  Status read_varint(std::string_view field, uint64_t* out);
  // Reads length bytes into out.
  Status read_string(std::string_view field, uint64_t length, std::string* out);
  Status skip(std::string_view field, uint64_t length);

  // invalid_argument "<label>: <field>: <rule>".
  Status error(std::string_view field, const std::string& rule) const;
  // The error for a field of length bytes at the current position that does
  // not fit in what remains.
  Status past_end(std::string_view field, uint64_t length) const;

 private:
  Status read_raw(std::string_view field, size_t length, uint8_t* out);

  ByteSource* source_;
  uint64_t position_;
  uint64_t end_;
  std::string label_;
};

}  // namespace automata::modelfmt
