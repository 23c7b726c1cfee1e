// safetensors header parser. The format is an 8-byte little-endian header
// length N, N bytes of JSON describing each tensor, then the tensor data.
#pragma once

#include "automata/types/status.h"

#include <cstdint>

namespace automata::v1 {
class ModelMetadata;
}  // namespace automata::v1

namespace automata::modelfmt {

class ByteSource;

// Largest accepted JSON header, the same bound the reference Rust
// implementation of safetensors applies.
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// Fills metadata with tensor_count, the sorted distinct dtypes and
// parameter_count. Returns invalid_argument, naming the tensor and field,
// when the header length runs past the file or over
// kSafetensorsMaxHeaderBytes, the JSON is invalid, a dtype is unknown, a
// tensor's data_offsets are reversed, run past the data section, disagree
// with shape times dtype size, or overlap another tensor's.
Status parse_safetensors(ByteSource& source, v1::ModelMetadata* metadata);

}  // namespace automata::modelfmt
