// Writers for the model file formats, used by the modelfmt tests to build
// valid files and then damage single fields. They follow the published
// layouts (protobuf wire format, safetensors, GGUF) and share no code with
// the parsers under test.
#pragma once

#include "automata/types/bytes.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace automata::modelfmt::testing {

// Protobuf wire format: fields appended in call order.
class ProtoWriter {
 public:
  ProtoWriter& varint_field(uint32_t number, uint64_t value) {
    tag(number, 0);
    varint(value);
    return *this;
  }
  ProtoWriter& bytes_field(uint32_t number, const std::string& value) {
    tag(number, 2);
    varint(value.size());
    bytes_.insert(bytes_.end(), value.begin(), value.end());
    return *this;
  }
  ProtoWriter& message_field(uint32_t number, const ProtoWriter& message) {
    return bytes_field(number, message.str());
  }
  // Appends raw bytes, for damaged encodings.
  ProtoWriter& raw(const Bytes& bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  void tag(uint32_t number, uint32_t wire_type) { varint((uint64_t{number} << 3) | wire_type); }
  void varint(uint64_t value) {
    while (value >= 0x80) {
      bytes_.push_back(static_cast<uint8_t>(value | 0x80));
      value >>= 7;
    }
    bytes_.push_back(static_cast<uint8_t>(value));
  }

  const Bytes& bytes() const { return bytes_; }
  std::string str() const { return to_string(bytes_); }

 private:
  Bytes bytes_;
};

// ONNX TensorProto with dims (field 1, unpacked), data_type (2) and name (8).
inline ProtoWriter onnx_tensor(const std::string& name, const std::vector<int64_t>& dims,
                               int data_type = 1) {
  ProtoWriter tensor;
  for (int64_t dim : dims) tensor.varint_field(1, static_cast<uint64_t>(dim));
  tensor.varint_field(2, static_cast<uint64_t>(data_type));
  tensor.bytes_field(8, name);
  return tensor;
}

// ONNX ValueInfoProto of a tensor: name (1), type (2) -> tensor_type (1) ->
// elem_type (1), shape (2) -> dim (1) -> dim_value (1) or dim_param (2).
// A dim that starts with a digit is written as dim_value.
inline ProtoWriter onnx_value_info(const std::string& name, int elem_type,
                                   const std::vector<std::string>& dims) {
  ProtoWriter shape;
  for (const std::string& dim : dims) {
    ProtoWriter dimension;
    if (!dim.empty() && dim[0] >= '0' && dim[0] <= '9') {
      dimension.varint_field(1, std::stoull(dim));
    } else {
      dimension.bytes_field(2, dim);
    }
    shape.message_field(1, dimension);
  }
  ProtoWriter tensor_type;
  tensor_type.varint_field(1, static_cast<uint64_t>(elem_type)).message_field(2, shape);
  ProtoWriter type;
  type.message_field(1, tensor_type);
  ProtoWriter info;
  info.bytes_field(1, name).message_field(2, type);
  return info;
}

inline void put_u32le(Bytes* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<uint8_t>(value >> (8 * i)));
}

inline void put_u64le(Bytes* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<uint8_t>(value >> (8 * i)));
}

// safetensors: u64 header length, the JSON header, then data_bytes zero
// bytes of tensor data.
inline Bytes safetensors_file(const std::string& header_json, uint64_t data_bytes) {
  Bytes out;
  put_u64le(&out, header_json.size());
  out.insert(out.end(), header_json.begin(), header_json.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

// GGUF file builder. Key/value pairs and tensor infos are appended in call
// order. finish() writes the header counts, pads to the alignment and adds
// data_bytes zero bytes of tensor data.
class GgufWriter {
 public:
  static constexpr uint32_t kUint32 = 4;
  static constexpr uint32_t kString = 8;
  static constexpr uint32_t kArray = 9;
  static constexpr uint32_t kUint64 = 10;

  explicit GgufWriter(uint32_t version = 3) : version_(version) {}

  void string(Bytes* out, const std::string& value) const {
    put_u64le(out, value.size());
    out->insert(out->end(), value.begin(), value.end());
  }

  GgufWriter& kv_string(const std::string& key, const std::string& value) {
    string(&kvs_, key);
    put_u32le(&kvs_, kString);
    string(&kvs_, value);
    ++kv_count_;
    return *this;
  }
  GgufWriter& kv_u32(const std::string& key, uint32_t value) {
    string(&kvs_, key);
    put_u32le(&kvs_, kUint32);
    put_u32le(&kvs_, value);
    ++kv_count_;
    return *this;
  }
  GgufWriter& kv_string_array(const std::string& key, const std::vector<std::string>& values) {
    string(&kvs_, key);
    put_u32le(&kvs_, kArray);
    put_u32le(&kvs_, kString);
    put_u64le(&kvs_, values.size());
    for (const std::string& value : values) string(&kvs_, value);
    ++kv_count_;
    return *this;
  }
  GgufWriter& kv_u64_array(const std::string& key, const std::vector<uint64_t>& values) {
    string(&kvs_, key);
    put_u32le(&kvs_, kArray);
    put_u32le(&kvs_, kUint64);
    put_u64le(&kvs_, values.size());
    for (uint64_t value : values) put_u64le(&kvs_, value);
    ++kv_count_;
    return *this;
  }
  // Appends raw bytes to the key/value section and counts one more pair.
  GgufWriter& kv_raw(const Bytes& bytes) {
    kvs_.insert(kvs_.end(), bytes.begin(), bytes.end());
    ++kv_count_;
    return *this;
  }
  GgufWriter& tensor(const std::string& name, const std::vector<uint64_t>& dims, uint32_t ggml_type,
                     uint64_t offset) {
    string(&tensors_, name);
    put_u32le(&tensors_, static_cast<uint32_t>(dims.size()));
    for (uint64_t dim : dims) put_u64le(&tensors_, dim);
    put_u32le(&tensors_, ggml_type);
    put_u64le(&tensors_, offset);
    ++tensor_count_;
    return *this;
  }

  // Overrides the counts written in the header.
  GgufWriter& counts(uint64_t tensor_count, uint64_t kv_count) {
    forced_counts_ = {tensor_count, kv_count};
    has_forced_counts_ = true;
    return *this;
  }

  Bytes finish(uint64_t data_bytes, uint32_t alignment = 32) const {
    Bytes out = {'G', 'G', 'U', 'F'};
    put_u32le(&out, version_);
    put_u64le(&out, has_forced_counts_ ? forced_counts_.first : tensor_count_);
    put_u64le(&out, has_forced_counts_ ? forced_counts_.second : kv_count_);
    out.insert(out.end(), kvs_.begin(), kvs_.end());
    out.insert(out.end(), tensors_.begin(), tensors_.end());
    while (out.size() % alignment != 0) out.push_back(0);
    out.resize(out.size() + data_bytes, 0);
    return out;
  }

 private:
  uint32_t version_;
  Bytes kvs_;
  Bytes tensors_;
  uint64_t kv_count_ = 0;
  uint64_t tensor_count_ = 0;
  std::pair<uint64_t, uint64_t> forced_counts_;
  bool has_forced_counts_ = false;
};

}  // namespace automata::modelfmt::testing
