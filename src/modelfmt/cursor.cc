#include "cursor.h"

namespace automata::modelfmt {

Status Cursor::error(std::string_view field, const std::string& rule) const {
  return Status::invalid_argument(label_ + ": " + std::string(field) + ": " + rule);
}

Status Cursor::past_end(std::string_view field, uint64_t length) const {
  return error(field, std::to_string(length) + " bytes at offset " + std::to_string(position_) +
                          " run past the end of the enclosing data (" +
                          std::to_string(remaining()) + " bytes left)");
}

Status Cursor::read_raw(std::string_view field, size_t length, uint8_t* out) {
  if (length > remaining()) return past_end(field, length);
  Status status = source_->read(position_, length, out);
  if (!status.is_ok()) return status;
  position_ += length;
  return Status::ok();
}

Status Cursor::read_u8(std::string_view field, uint8_t* out) { return read_raw(field, 1, out); }

Status Cursor::read_u32le(std::string_view field, uint32_t* out) {
  uint8_t bytes[4];
  Status status = read_raw(field, sizeof(bytes), bytes);
  if (!status.is_ok()) return status;
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | bytes[i];
  *out = value;
  return Status::ok();
}

Status Cursor::read_u64le(std::string_view field, uint64_t* out) {
  uint8_t bytes[8];
  Status status = read_raw(field, sizeof(bytes), bytes);
  if (!status.is_ok()) return status;
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  *out = value;
  return Status::ok();
}

Status Cursor::read_varint(std::string_view field, uint64_t* out) {
  uint64_t start = position_;
  uint64_t value = 0;
  for (int i = 0; i < 10; ++i) {
    uint8_t byte = 0;
    if (at_end()) {
      return error(field, "varint at offset " + std::to_string(start) +
                              " is cut off by the end of the enclosing data");
    }
    Status status = read_raw(field, 1, &byte);
    if (!status.is_ok()) return status;
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *out = value;
      return Status::ok();
    }
  }
  return error(field, "varint at offset " + std::to_string(start) + " is longer than 10 bytes");
}

Status Cursor::read_string(std::string_view field, uint64_t length, std::string* out) {
  if (length > remaining()) return past_end(field, length);
  out->resize(static_cast<size_t>(length));
  return read_raw(field, static_cast<size_t>(length), reinterpret_cast<uint8_t*>(out->data()));
}

Status Cursor::skip(std::string_view field, uint64_t length) {
  if (length > remaining()) return past_end(field, length);
  position_ += length;
  return Status::ok();
}

}  // namespace automata::modelfmt
