// GGUF layout: all integers are little-endian and strings are a u64 length
// then UTF-8 bytes. Tensor offsets are relative to the data section. That
// section starts at the end of the tensor infos, rounded up to
// general.alignment (default 32).
#include "automata/modelfmt/gguf.h"

#include "automata/modelfmt/source.h"
#include "automata/v1/model.pb.h"
#include "checked_math.h"
#include "cursor.h"

#include <algorithm>
#include <string>
#include <vector>

namespace automata::modelfmt {
namespace {

// Maximum length of a key, a tensor name and a kept string value
// (general.architecture, general.name). Other string values are skipped unread.
constexpr uint64_t kMaxKeptStringBytes = uint64_t{64} << 10;
constexpr uint32_t kDefaultAlignment = 32;

enum ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// Size in bytes of a fixed-size value type, 0 for string and array, or -1
// for an unknown type.
int fixed_size(uint32_t type) {
  switch (type) {
    case kUint8:
    case kInt8:
    case kBool:
      return 1;
    case kUint16:
    case kInt16:
      return 2;
    case kUint32:
    case kInt32:
    case kFloat32:
      return 4;
    case kUint64:
    case kInt64:
    case kFloat64:
      return 8;
    case kString:
    case kArray:
      return 0;
    default:
      return -1;
  }
}

// Elements per block and bytes per block of a ggml tensor type, as listed
// in gguf-py's GGML_QUANT_SIZES (llama.cpp).
struct GgmlType {
  uint32_t id;
  const char* name;
  uint64_t block_elements;
  uint64_t block_bytes;
};

constexpr GgmlType kGgmlTypes[] = {
    {0, "F32", 1, 4},          {1, "F16", 1, 2},          {2, "Q4_0", 32, 18},
    {3, "Q4_1", 32, 20},       {6, "Q5_0", 32, 22},       {7, "Q5_1", 32, 24},
    {8, "Q8_0", 32, 34},       {9, "Q8_1", 32, 36},       {10, "Q2_K", 256, 84},
    {11, "Q3_K", 256, 110},    {12, "Q4_K", 256, 144},    {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},    {15, "Q8_K", 256, 292},    {16, "IQ2_XXS", 256, 66},
    {17, "IQ2_XS", 256, 74},   {18, "IQ3_XXS", 256, 98},  {19, "IQ1_S", 256, 50},
    {20, "IQ4_NL", 32, 18},    {21, "IQ3_S", 256, 110},   {22, "IQ2_S", 256, 82},
    {23, "IQ4_XS", 256, 136},  {24, "I8", 1, 1},          {25, "I16", 1, 2},
    {26, "I32", 1, 4},         {27, "I64", 1, 8},         {28, "F64", 1, 8},
    {29, "IQ1_M", 256, 56},    {30, "BF16", 1, 2},        {34, "TQ1_0", 256, 54},
    {35, "TQ2_0", 256, 66},    {39, "MXFP4", 32, 17},
};

const GgmlType* find_ggml_type(uint32_t id) {
  for (const GgmlType& type : kGgmlTypes) {
    if (type.id == id) return &type;
  }
  return nullptr;
}

struct TensorRange {
  std::string name;
  uint64_t begin = 0;
  uint64_t end = 0;
};

class GgufParser {
 public:
  GgufParser(ByteSource& source, v1::ModelMetadata* metadata)
      : cursor_(source, 0, source.size(), "gguf"), metadata_(metadata) {}

  Status parse();

 private:
  Status read_length(const std::string& field, uint64_t* length);
  Status read_key_value(uint64_t index);
  Status read_value(const std::string& field, uint32_t type, int depth, std::string* kept);
  Status read_tensor_info(uint64_t index, TensorRange* range);

  Cursor cursor_;
  v1::ModelMetadata* metadata_;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t parameter_count_ = 0;
};

// Reads the u64 length that precedes a string or an array. Callers check
// it against the bytes left before they loop or allocate.
Status GgufParser::read_length(const std::string& field, uint64_t* length) {
  return cursor_.read_u64le(field + " length", length);
}

Status GgufParser::parse() {
  uint32_t magic = 0;
  Status status = cursor_.read_u32le("magic", &magic);
  if (!status.is_ok()) return status;
  if (magic != 0x46554747) return cursor_.error("magic", "is not \"GGUF\"");

  uint32_t version = 0;
  status = cursor_.read_u32le("version", &version);
  if (!status.is_ok()) return status;
  if (version != 2 && version != 3) {
    return cursor_.error("version", std::to_string(version) + " is not supported (2 and 3 are)");
  }

  uint64_t tensor_count = 0;
  uint64_t kv_count = 0;
  status = cursor_.read_u64le("tensor_count", &tensor_count);
  if (status.is_ok()) status = cursor_.read_u64le("kv_count", &kv_count);
  if (!status.is_ok()) return status;
  if (tensor_count > kGgufMaxTensors) {
    return cursor_.error("tensor_count", std::to_string(tensor_count) + " is over the limit of " +
                                             std::to_string(kGgufMaxTensors));
  }
  if (kv_count > kGgufMaxKeyValues) {
    return cursor_.error("kv_count", std::to_string(kv_count) + " is over the limit of " +
                                         std::to_string(kGgufMaxKeyValues));
  }

  for (uint64_t i = 0; i < kv_count; ++i) {
    status = read_key_value(i);
    if (!status.is_ok()) return status;
  }

  std::vector<TensorRange> ranges;
  ranges.reserve(static_cast<size_t>(std::min<uint64_t>(tensor_count, 4096)));
  for (uint64_t i = 0; i < tensor_count; ++i) {
    TensorRange range;
    status = read_tensor_info(i, &range);
    if (!status.is_ok()) return status;
    ranges.push_back(std::move(range));
  }

  // The data section starts at the next multiple of the alignment.
  uint64_t data_start = cursor_.position();
  uint64_t padding = (alignment_ - data_start % alignment_) % alignment_;
  uint64_t file_size = cursor_.end();
  uint64_t data_size = 0;
  if (data_start + padding <= file_size) data_size = file_size - data_start - padding;
  data_start += padding;

  for (const TensorRange& range : ranges) {
    if (range.end > data_size) {
      return cursor_.error("tensor \"" + range.name + "\".offset",
                           "data [" + std::to_string(range.begin) + ", " + std::to_string(range.end) +
                               ") runs past the end of the file (data section of " +
                               std::to_string(data_size) + " bytes at offset " +
                               std::to_string(data_start) + ")");
    }
  }
  std::sort(ranges.begin(), ranges.end(), [](const TensorRange& a, const TensorRange& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].begin < ranges[i - 1].end) {
      return cursor_.error("tensor \"" + ranges[i].name + "\".offset",
                           std::to_string(ranges[i].begin) + " overlaps tensor \"" + ranges[i - 1].name +
                               "\", which ends at " + std::to_string(ranges[i - 1].end));
    }
  }

  metadata_->set_gguf_version(version);
  metadata_->set_tensor_count(tensor_count);
  metadata_->set_parameter_count(parameter_count_);
  return Status::ok();
}

Status GgufParser::read_key_value(uint64_t index) {
  std::string where = "key/value[" + std::to_string(index) + "]";
  uint64_t key_length = 0;
  Status status = read_length(where + ".key", &key_length);
  if (!status.is_ok()) return status;
  if (key_length > kMaxKeptStringBytes) {
    return cursor_.error(where + ".key", "length " + std::to_string(key_length) + " is over the " +
                                             std::to_string(kMaxKeptStringBytes) + "-byte limit");
  }
  std::string key;
  status = cursor_.read_string(where + ".key", key_length, &key);
  if (!status.is_ok()) return status;

  std::string field = "key \"" + key + "\"";
  uint32_t type = 0;
  status = cursor_.read_u32le(field + " type", &type);
  if (!status.is_ok()) return status;

  bool keep = key == "general.architecture" || key == "general.name";
  std::string kept;
  if (key == "general.alignment") {
    if (type != kUint32) return cursor_.error(field, "must have type uint32 (4), not " + std::to_string(type));
    status = cursor_.read_u32le(field, &alignment_);
    if (!status.is_ok()) return status;
    if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0) {
      return cursor_.error(field, std::to_string(alignment_) + " is not a power of two");
    }
    return Status::ok();
  }
  if (keep && type != kString) {
    return cursor_.error(field, "must have type string (8), not " + std::to_string(type));
  }
  status = read_value(field, type, 0, keep ? &kept : nullptr);
  if (!status.is_ok()) return status;
  if (key == "general.architecture") metadata_->set_architecture(kept);
  if (key == "general.name") metadata_->set_model_name(kept);
  return Status::ok();
}

// Reads one value of type, storing it in kept when kept is set (strings
// only) and skipping it otherwise.
Status GgufParser::read_value(const std::string& field, uint32_t type, int depth, std::string* kept) {
  int size = fixed_size(type);
  if (size < 0) return cursor_.error(field, "value type " + std::to_string(type) + " is unknown");
  if (size > 0) return cursor_.skip(field, static_cast<uint64_t>(size));

  if (type == kString) {
    uint64_t length = 0;
    Status status = read_length(field, &length);
    if (!status.is_ok()) return status;
    if (kept == nullptr) return cursor_.skip(field, length);
    if (length > kMaxKeptStringBytes) {
      return cursor_.error(field, "length " + std::to_string(length) + " is over the " +
                                      std::to_string(kMaxKeptStringBytes) + "-byte limit");
    }
    return cursor_.read_string(field, length, kept);
  }

  // Array: element type, count, then the elements.
  if (depth >= kGgufMaxArrayDepth) {
    return cursor_.error(field, "arrays nest deeper than " + std::to_string(kGgufMaxArrayDepth));
  }
  uint32_t element_type = 0;
  uint64_t count = 0;
  Status status = cursor_.read_u32le(field + " array type", &element_type);
  if (status.is_ok()) status = read_length(field + " array", &count);
  if (!status.is_ok()) return status;

  int element_size = fixed_size(element_type);
  if (element_size < 0) {
    return cursor_.error(field, "array element type " + std::to_string(element_type) + " is unknown");
  }
  // Strings take at least their 8-byte length and arrays their 12-byte
  // header, so a count that cannot fit is rejected before the loop.
  uint64_t min_element_bytes = element_size > 0 ? static_cast<uint64_t>(element_size)
                                                : (element_type == kString ? 8 : 12);
  uint64_t min_bytes = 0;
  if (!checked_mul(count, min_element_bytes, &min_bytes) || min_bytes > cursor_.remaining()) {
    return cursor_.error(field, "array of " + std::to_string(count) + " elements runs past the end of the file");
  }
  if (element_size > 0) return cursor_.skip(field, min_bytes);
  for (uint64_t i = 0; i < count; ++i) {
    status = read_value(field + "[" + std::to_string(i) + "]", element_type, depth + 1, nullptr);
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

Status GgufParser::read_tensor_info(uint64_t index, TensorRange* range) {
  std::string where = "tensor[" + std::to_string(index) + "]";
  uint64_t name_length = 0;
  Status status = read_length(where + ".name", &name_length);
  if (!status.is_ok()) return status;
  if (name_length > kMaxKeptStringBytes) {
    return cursor_.error(where + ".name", "length " + std::to_string(name_length) + " is over the " +
                                              std::to_string(kMaxKeptStringBytes) + "-byte limit");
  }
  status = cursor_.read_string(where + ".name", name_length, &range->name);
  if (!status.is_ok()) return status;
  where = "tensor \"" + range->name + "\"";

  uint32_t n_dims = 0;
  status = cursor_.read_u32le(where + ".n_dims", &n_dims);
  if (!status.is_ok()) return status;
  if (n_dims > kGgufMaxDims) {
    return cursor_.error(where + ".n_dims", std::to_string(n_dims) + " is over the limit of " +
                                                std::to_string(kGgufMaxDims));
  }
  std::vector<uint64_t> dims(n_dims);
  uint64_t elements = 1;
  for (uint32_t i = 0; i < n_dims; ++i) {
    status = cursor_.read_u64le(where + ".dims[" + std::to_string(i) + "]", &dims[i]);
    if (!status.is_ok()) return status;
    if (!checked_mul(elements, dims[i], &elements)) {
      return cursor_.error(where + ".dims", "the product of the dims overflows 64 bits");
    }
  }

  uint32_t type_id = 0;
  status = cursor_.read_u32le(where + ".type", &type_id);
  if (status.is_ok()) status = cursor_.read_u64le(where + ".offset", &range->begin);
  if (!status.is_ok()) return status;

  const GgmlType* type = find_ggml_type(type_id);
  if (type == nullptr) return cursor_.error(where + ".type", "ggml type " + std::to_string(type_id) + " is unknown");
  uint64_t first_dim = n_dims > 0 ? dims[0] : 1;
  if (first_dim % type->block_elements != 0) {
    return cursor_.error(where + ".dims[0]", std::to_string(first_dim) + " is not a multiple of the " +
                                                 type->name + " block size " +
                                                 std::to_string(type->block_elements));
  }
  if (range->begin % alignment_ != 0) {
    return cursor_.error(where + ".offset", std::to_string(range->begin) + " is not a multiple of the alignment " +
                                                std::to_string(alignment_));
  }
  uint64_t bytes = 0;
  if (!checked_mul(elements / type->block_elements, type->block_bytes, &bytes) ||
      !checked_add(range->begin, bytes, &range->end)) {
    return cursor_.error(where + ".offset", "offset plus tensor size overflows 64 bits");
  }
  if (!checked_add(parameter_count_, elements, &parameter_count_)) {
    return cursor_.error(where, "the model's parameter count overflows 64 bits");
  }
  return Status::ok();
}

}  // namespace

Status parse_gguf(ByteSource& source, v1::ModelMetadata* metadata) {
  metadata->Clear();
  GgufParser parser(source, metadata);
  Status status = parser.parse();
  if (!status.is_ok()) metadata->Clear();
  return status;
}

}  // namespace automata::modelfmt
