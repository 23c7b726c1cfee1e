#include "automata/modelfmt/safetensors.h"

#include "automata/modelfmt/source.h"
#include "automata/v1/model.pb.h"
#include "checked_math.h"
#include "cursor.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace automata::modelfmt {
namespace {

// Bytes per element of each dtype the safetensors format defines.
const std::map<std::string, uint64_t>& dtype_sizes() {
  static const std::map<std::string, uint64_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8},
  };
  return sizes;
}

struct TensorRange {
  std::string name;
  uint64_t begin = 0;
  uint64_t end = 0;
};

Status header_error(const std::string& where, const std::string& rule) {
  return Status::invalid_argument("safetensors: " + where + ": " + rule);
}

// Reads a JSON value that must be an unsigned integer.
bool as_u64(const nlohmann::json& value, uint64_t* out) {
  if (!value.is_number_unsigned()) return false;
  *out = value.get<uint64_t>();
  return true;
}

Status parse_tensor(const std::string& name, const nlohmann::json& entry, uint64_t data_size,
                    TensorRange* range, std::string* dtype, uint64_t* elements) {
  std::string where = "tensor \"" + name + "\"";
  if (!entry.is_object()) return header_error(where, "entry must be a JSON object");

  auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) {
    return header_error(where + ".dtype", "is missing or not a string");
  }
  *dtype = dtype_it->get<std::string>();
  auto size_it = dtype_sizes().find(*dtype);
  if (size_it == dtype_sizes().end()) {
    return header_error(where + ".dtype", "\"" + *dtype + "\" is not a known safetensors dtype");
  }

  auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) {
    return header_error(where + ".shape", "is missing or not an array");
  }
  *elements = 1;
  for (const nlohmann::json& dim_json : *shape_it) {
    uint64_t dim = 0;
    if (!as_u64(dim_json, &dim)) {
      return header_error(where + ".shape", "entry " + dim_json.dump() + " is not a non-negative integer");
    }
    if (!checked_mul(*elements, dim, elements)) {
      return header_error(where + ".shape", "the product of the shape overflows 64 bits");
    }
  }

  auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    return header_error(where + ".data_offsets", "is missing or not an array of two integers");
  }
  if (!as_u64((*offsets_it)[0], &range->begin) || !as_u64((*offsets_it)[1], &range->end)) {
    return header_error(where + ".data_offsets", offsets_it->dump() + " must hold non-negative integers");
  }
  std::string offsets = "[" + std::to_string(range->begin) + ", " + std::to_string(range->end) + "]";
  if (range->end < range->begin) {
    return header_error(where + ".data_offsets", offsets + ": end is below begin");
  }
  if (range->end > data_size) {
    return header_error(where + ".data_offsets", offsets + " run past the data section (" +
                                                     std::to_string(data_size) + " bytes)");
  }
  uint64_t expected_bytes = 0;
  if (!checked_mul(*elements, size_it->second, &expected_bytes)) {
    return header_error(where + ".shape", "the tensor's byte size overflows 64 bits");
  }
  if (range->end - range->begin != expected_bytes) {
    return header_error(where + ".data_offsets",
                        offsets + " span " + std::to_string(range->end - range->begin) +
                            " bytes, but shape times the " + *dtype + " size is " +
                            std::to_string(expected_bytes) + " bytes");
  }
  range->name = name;
  return Status::ok();
}

}  // namespace

Status parse_safetensors(ByteSource& source, v1::ModelMetadata* metadata) {
  metadata->Clear();
  Cursor cursor(source, 0, source.size(), "safetensors");

  uint64_t header_length = 0;
  Status status = cursor.read_u64le("header length", &header_length);
  if (!status.is_ok()) return status;
  if (header_length > kSafetensorsMaxHeaderBytes) {
    return cursor.error("header length", std::to_string(header_length) + " bytes is over the " +
                                             std::to_string(kSafetensorsMaxHeaderBytes) + "-byte limit");
  }
  if (header_length > cursor.remaining()) {
    return cursor.error("header length", std::to_string(header_length) + " bytes run past the end of the file (" +
                                             std::to_string(cursor.remaining()) + " bytes after the length)");
  }
  std::string header;
  status = cursor.read_string("header", header_length, &header);
  if (!status.is_ok()) return status;
  uint64_t data_size = cursor.remaining();

  // nlohmann keeps the last of two equal keys, which would hide a tensor,
  // so duplicates of top-level keys are found during the parse.
  std::set<std::string> keys;
  std::string duplicate;
  auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1) {
      std::string key = parsed.get<std::string>();
      if (!keys.insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(header, on_event);
  } catch (const nlohmann::json::parse_error& error) {
    return header_error("header", std::string("is not valid JSON: ") + error.what());
  }
  if (!root.is_object()) return header_error("header", "must be a JSON object");
  if (!duplicate.empty()) return header_error("tensor \"" + duplicate + "\"", "appears twice in the header");

  std::vector<TensorRange> ranges;
  std::set<std::string> dtypes;
  uint64_t parameter_count = 0;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) return header_error("__metadata__", "must be a JSON object");
      continue;
    }
    TensorRange range;
    std::string dtype;
    uint64_t elements = 0;
    status = parse_tensor(it.key(), it.value(), data_size, &range, &dtype, &elements);
    if (!status.is_ok()) return status;
    if (!checked_add(parameter_count, elements, &parameter_count)) {
      return header_error("tensor \"" + it.key() + "\"", "the parameter count overflows 64 bits");
    }
    dtypes.insert(dtype);
    ranges.push_back(std::move(range));
  }

  std::sort(ranges.begin(), ranges.end(), [](const TensorRange& a, const TensorRange& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].begin < ranges[i - 1].end) {
      return header_error("tensor \"" + ranges[i].name + "\".data_offsets",
                          "bytes from " + std::to_string(ranges[i].begin) + " overlap tensor \"" +
                              ranges[i - 1].name + "\", which ends at " + std::to_string(ranges[i - 1].end));
    }
  }

  metadata->set_tensor_count(ranges.size());
  metadata->set_parameter_count(parameter_count);
  for (const std::string& dtype : dtypes) metadata->add_dtypes(dtype);
  return Status::ok();
}

}  // namespace automata::modelfmt
