// Reads the header of a model file (ONNX, safetensors or GGUF) and returns
// what it declares: tensors, parameter count, graph inputs and outputs.
#pragma once

#include "automata/types/status.h"

#include <string>

namespace automata::v1 {
class ModelMetadata;
}  // namespace automata::v1

namespace automata::modelfmt {

class ByteSource;

// Detects the format of the file at path from its content and fills
// metadata from its header. format is set to "onnx", "safetensors", "gguf"
// or "other"; "other" is not an error and leaves metadata empty. Reads only
// the header bytes in bounded pieces, never the whole file. Returns
// not_found or io_error when the file cannot be read, and invalid_argument,
// with a message naming the field and the rule, when the header is
// inconsistent with itself or with the file size.
Status inspect_file(const std::string& path, std::string* format, v1::ModelMetadata* metadata);

// Does the same as inspect_file over any byte source.
Status inspect_source(ByteSource& source, std::string* format, v1::ModelMetadata* metadata);

// Returns "onnx", "safetensors", "gguf" or "other" from the first bytes of
// source, without validating the rest. An ONNX file is recognised by its
// first field: ir_version (field 1, varint) with a value in [1, 100].
std::string detect_format(ByteSource& source);

}  // namespace automata::modelfmt
