// GGUF (versions 2 and 3) header parser: key/value metadata and tensor
// infos, read in bounded pieces. Tensor data is never read.
#pragma once

#include "automata/types/status.h"

#include <cstdint>

namespace automata::v1 {
class ModelMetadata;
}  // namespace automata::v1

namespace automata::modelfmt {

class ByteSource;

// Limits on what a GGUF header may declare.
inline constexpr uint64_t kGgufMaxTensors = 1'000'000;
inline constexpr uint64_t kGgufMaxKeyValues = 1'000'000;
inline constexpr uint32_t kGgufMaxDims = 8;
// Arrays nested inside arrays.
inline constexpr int kGgufMaxArrayDepth = 8;

// Fills metadata with gguf_version, general.architecture, general.name,
// tensor_count and parameter_count (the sum over tensors of the product of
// their dims). Returns invalid_argument, naming the field, when a string or
// array runs past the end of the file, a count is over the limits above, a
// value type or ggml tensor type is unknown, or tensor data runs past the
// end of the file or overlaps another tensor's.
Status parse_gguf(ByteSource& source, v1::ModelMetadata* metadata);

}  // namespace automata::modelfmt
