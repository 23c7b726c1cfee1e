#include "automata/modelfmt/inspect.h"

#include "automata/modelfmt/gguf.h"
#include "automata/modelfmt/onnx.h"
#include "automata/modelfmt/safetensors.h"
#include "automata/modelfmt/source.h"
#include "automata/types/logging.h"
#include "automata/v1/model.pb.h"
#include "cursor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace automata::modelfmt {
namespace {

// Maximum ir_version taken as a sign of ONNX. Released versions are small
// integers (the Silero VAD test model has 8), so this leaves room to grow.
constexpr uint64_t kMaxOnnxIrVersion = 100;

// NOTE: an ONNX file whose first field is not ir_version (protobuf allows
// any field order, though exporters write field 1 first) is reported as "other".
bool looks_like_onnx(ByteSource& source) {
  Cursor cursor(source, 0, source.size(), "onnx");
  uint64_t tag = 0;
  uint64_t ir_version = 0;
  if (!cursor.read_varint("tag", &tag).is_ok() || tag != 0x08) return false;
  if (!cursor.read_varint("ir_version", &ir_version).is_ok()) return false;
  return ir_version >= 1 && ir_version <= kMaxOnnxIrVersion;
}

}  // namespace

std::string detect_format(ByteSource& source) {
  uint8_t head[9] = {};
  size_t length = static_cast<size_t>(std::min<uint64_t>(sizeof(head), source.size()));
  if (!source.read(0, length, head).is_ok()) return "other";

  if (length >= 4 && std::memcmp(head, "GGUF", 4) == 0) return "gguf";
  // safetensors: a u64 header length, then JSON that starts with '{'.
  if (length >= 9 && head[8] == '{') return "safetensors";
  if (looks_like_onnx(source)) return "onnx";
  return "other";
}

Status inspect_source(ByteSource& source, std::string* format, v1::ModelMetadata* metadata) {
  metadata->Clear();
  *format = detect_format(source);
  if (*format == "onnx") return parse_onnx(source, metadata);
  if (*format == "safetensors") return parse_safetensors(source, metadata);
  if (*format == "gguf") return parse_gguf(source, metadata);
  return Status::ok();
}

Status inspect_file(const std::string& path, std::string* format, v1::ModelMetadata* metadata) {
  std::unique_ptr<FileSource> source;
  Status status = FileSource::open(path, &source);
  if (!status.is_ok()) return status;

  status = inspect_source(*source, format, metadata);
  if (status.kind() == Status::Kind::kInvalidArgument) {
    return Status::invalid_argument("invalid model file " + path + ": " + status.message());
  }
  if (status.is_ok()) {
    logger("modelfmt")->debug("inspected {} as {}: {} tensors, {} parameters", path, *format,
                              metadata->tensor_count(), metadata->parameter_count());
  }
  return status;
}

}  // namespace automata::modelfmt
