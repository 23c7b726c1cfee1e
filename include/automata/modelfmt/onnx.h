// ONNX ModelProto header parser: a hand-written protobuf wire reader that
// walks the model and its graphs but skips tensor data without reading it.
#pragma once

#include "automata/types/status.h"

namespace automata::v1 {
class ModelMetadata;
}  // namespace automata::v1

namespace automata::modelfmt {

class ByteSource;

// Fills metadata from the ONNX ModelProto that makes up source: ir_version,
// opset imports, producer name and version, the main graph's inputs (those
// not also initializers) and outputs, and tensor_count and parameter_count
// over the initializers of the main graph and of every subgraph held in a
// node attribute (If, Loop, Scan bodies). Returns invalid_argument naming
// the field for truncated or malformed wire data, counts over the limits
// below, negative dims and parameter counts that overflow 64 bits.
Status parse_onnx(ByteSource& source, v1::ModelMetadata* metadata);

// Limits on what an ONNX header may declare.
inline constexpr uint64_t kOnnxMaxInitializers = 1'000'000;
inline constexpr uint64_t kOnnxMaxDims = 1'000'000;
// Graphs nested in node attributes, counting the main graph as depth 1.
inline constexpr int kOnnxMaxGraphDepth = 64;

}  // namespace automata::modelfmt
