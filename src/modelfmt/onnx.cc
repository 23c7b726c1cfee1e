// The field numbers below are those of the messages in onnx/onnx.proto:
// ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto, TypeProto, TensorShapeProto and OperatorSetIdProto.
#include "automata/modelfmt/onnx.h"

#include "automata/modelfmt/source.h"
#include "automata/v1/model.pb.h"
#include "checked_math.h"
#include "cursor.h"

#include <set>
#include <string>
#include <vector>

namespace automata::modelfmt {
namespace {

// Maximum length of a name or producer string.
constexpr uint64_t kMaxStringBytes = uint64_t{64} << 10;

constexpr uint32_t kWireVarint = 0;
constexpr uint32_t kWireFixed64 = 1;
constexpr uint32_t kWireLengthDelimited = 2;
constexpr uint32_t kWireFixed32 = 5;

// TensorProto.DataType names, indexed by value, as ONNX prints them.
constexpr const char* kElemTypeNames[] = {
    "undefined", "float",    "uint8",        "int8",           "uint16",     "int16",
    "int32",     "int64",    "string",       "bool",           "float16",    "double",
    "uint32",    "uint64",   "complex64",    "complex128",     "bfloat16",   "float8e4m3fn",
    "float8e4m3fnuz",        "float8e5m2",   "float8e5m2fnuz", "uint4",      "int4",
    "float4e2m1"};

std::string elem_type_name(int64_t value) {
  constexpr int64_t count = sizeof(kElemTypeNames) / sizeof(kElemTypeNames[0]);
  if (value >= 0 && value < count) return kElemTypeNames[value];
  return "unknown(" + std::to_string(value) + ")";
}

std::string quoted(const std::string& name) { return "\"" + name + "\""; }

// One decoded field: its number, wire type, and either the varint/fixed
// value or the [begin, begin + length) range of a length-delimited payload.
struct Field {
  uint32_t number = 0;
  uint32_t wire_type = 0;
  uint64_t value = 0;
  uint64_t begin = 0;
  uint64_t length = 0;
};

class OnnxParser {
 public:
  OnnxParser(ByteSource& source, v1::ModelMetadata* metadata)
      : source_(source), metadata_(metadata) {}

  Status parse_model();

 private:
  Cursor cursor_for(const Field& field) const {
    return Cursor(source_, field.begin, field.begin + field.length, "onnx");
  }

  Status next_field(Cursor& cursor, const std::string& where, Field* field);
  Status expect_wire(Cursor& cursor, const Field& field, uint32_t wire_type,
                     const std::string& name) const;
  Status read_string(const Field& field, const std::string& name, std::string* out);

  Status parse_opset(const Field& field, const std::string& where);
  Status parse_graph(const Field& field, const std::string& where, int depth, bool main_graph);
  Status parse_node(const Field& field, const std::string& where, int depth);
  Status parse_attribute(const Field& field, const std::string& where, int depth);
  Status parse_initializer(const Field& field, const std::string& where, std::string* name);
  Status parse_value_info(const Field& field, const std::string& where, v1::TensorInfo* info);
  Status parse_type(const Field& field, const std::string& where, v1::TensorInfo* info);
  Status parse_tensor_type(const Field& field, const std::string& where, v1::TensorInfo* info);
  Status parse_shape(const Field& field, const std::string& where, v1::TensorInfo* info);
  Status parse_dimension(const Field& field, const std::string& where, std::string* out);

  ByteSource& source_;
  v1::ModelMetadata* metadata_;
  uint64_t initializer_count_ = 0;
  uint64_t parameter_count_ = 0;
};

Status OnnxParser::next_field(Cursor& cursor, const std::string& where, Field* field) {
  uint64_t tag = 0;
  Status status = cursor.read_varint(where + " tag", &tag);
  if (!status.is_ok()) return status;

  uint64_t number = tag >> 3;
  field->wire_type = static_cast<uint32_t>(tag & 7);
  if (number == 0 || number > 0x1fffffff) {
    return cursor.error(where, "field number " + std::to_string(number) + " is out of range");
  }
  field->number = static_cast<uint32_t>(number);
  std::string name = where + " field " + std::to_string(number);

  switch (field->wire_type) {
    case kWireVarint:
      return cursor.read_varint(name, &field->value);
    case kWireFixed64:
      return cursor.read_u64le(name, &field->value);
    case kWireFixed32: {
      uint32_t value = 0;
      status = cursor.read_u32le(name, &value);
      field->value = value;
      return status;
    }
    case kWireLengthDelimited: {
      status = cursor.read_varint(name + " length", &field->length);
      if (!status.is_ok()) return status;
      if (field->length > cursor.remaining()) return cursor.past_end(name, field->length);
      field->begin = cursor.position();
      return cursor.skip(name, field->length);
    }
    default:
      return cursor.error(name, "wire type " + std::to_string(field->wire_type) +
                                    " is not supported (groups and unknown types are rejected)");
  }
}

Status OnnxParser::expect_wire(Cursor& cursor, const Field& field, uint32_t wire_type,
                               const std::string& name) const {
  if (field.wire_type == wire_type) return Status::ok();
  return cursor.error(name, "has wire type " + std::to_string(field.wire_type) + ", expected " +
                                std::to_string(wire_type));
}

Status OnnxParser::read_string(const Field& field, const std::string& name, std::string* out) {
  Cursor cursor = cursor_for(field);
  if (field.length > kMaxStringBytes) {
    return cursor.error(name, "is " + std::to_string(field.length) + " bytes, over the " +
                                  std::to_string(kMaxStringBytes) + "-byte limit");
  }
  return cursor.read_string(name, field.length, out);
}

Status OnnxParser::parse_model() {
  Cursor cursor(source_, 0, source_.size(), "onnx");
  bool has_graph = false;
  while (!cursor.at_end()) {
    Field field;
    Status status = next_field(cursor, "ModelProto", &field);
    if (!status.is_ok()) return status;

    switch (field.number) {
      case 1:  // ir_version
        status = expect_wire(cursor, field, kWireVarint, "ModelProto.ir_version");
        if (status.is_ok()) metadata_->set_ir_version(static_cast<int64_t>(field.value));
        break;
      case 2:  // producer_name
      case 3: {  // producer_version
        std::string name = field.number == 2 ? "ModelProto.producer_name" : "ModelProto.producer_version";
        status = expect_wire(cursor, field, kWireLengthDelimited, name);
        std::string text;
        if (status.is_ok()) status = read_string(field, name, &text);
        if (status.is_ok() && field.number == 2) metadata_->set_producer_name(text);
        if (status.is_ok() && field.number == 3) metadata_->set_producer_version(text);
        break;
      }
      case 7:  // graph
        status = expect_wire(cursor, field, kWireLengthDelimited, "ModelProto.graph");
        if (status.is_ok() && has_graph) status = cursor.error("ModelProto.graph", "appears twice");
        if (status.is_ok()) status = parse_graph(field, "graph", 1, true);
        has_graph = true;
        break;
      case 8: {  // opset_import
        std::string where = "opset_import[" + std::to_string(metadata_->opsets_size()) + "]";
        status = expect_wire(cursor, field, kWireLengthDelimited, where);
        if (status.is_ok()) status = parse_opset(field, where);
        break;
      }
      default:
        break;
    }
    if (!status.is_ok()) return status;
  }
  if (!has_graph) return cursor.error("ModelProto.graph", "is missing");

  metadata_->set_tensor_count(initializer_count_);
  metadata_->set_parameter_count(parameter_count_);
  return Status::ok();
}

Status OnnxParser::parse_opset(const Field& message, const std::string& where) {
  Cursor cursor = cursor_for(message);
  v1::OpsetImport* opset = metadata_->add_opsets();
  while (!cursor.at_end()) {
    Field field;
    Status status = next_field(cursor, where, &field);
    if (status.is_ok() && field.number == 1) {
      status = expect_wire(cursor, field, kWireLengthDelimited, where + ".domain");
      std::string domain;
      if (status.is_ok()) status = read_string(field, where + ".domain", &domain);
      opset->set_domain(domain);
    } else if (status.is_ok() && field.number == 2) {
      status = expect_wire(cursor, field, kWireVarint, where + ".version");
      opset->set_version(static_cast<int64_t>(field.value));
    }
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

Status OnnxParser::parse_graph(const Field& message, const std::string& where, int depth,
                               bool main_graph) {
  Cursor cursor = cursor_for(message);
  if (depth > kOnnxMaxGraphDepth) {
    return cursor.error(where, "subgraphs nest deeper than " + std::to_string(kOnnxMaxGraphDepth));
  }

  std::vector<v1::TensorInfo> inputs;
  std::vector<v1::TensorInfo> outputs;
  std::set<std::string> initializer_names;
  uint64_t node_index = 0;
  uint64_t initializer_index = 0;
  while (!cursor.at_end()) {
    Field field;
    Status status = next_field(cursor, where, &field);
    if (!status.is_ok()) return status;

    switch (field.number) {
      case 1: {  // node
        std::string child = where + ".node[" + std::to_string(node_index++) + "]";
        status = expect_wire(cursor, field, kWireLengthDelimited, child);
        if (status.is_ok()) status = parse_node(field, child, depth);
        break;
      }
      case 5: {  // initializer
        std::string child = where + ".initializer[" + std::to_string(initializer_index++) + "]";
        status = expect_wire(cursor, field, kWireLengthDelimited, child);
        std::string name;
        if (status.is_ok()) status = parse_initializer(field, child, &name);
        if (status.is_ok() && main_graph) initializer_names.insert(name);
        break;
      }
      case 11:    // input
      case 12: {  // output
        bool is_input = field.number == 11;
        std::vector<v1::TensorInfo>& list = is_input ? inputs : outputs;
        std::string child = where + (is_input ? ".input[" : ".output[") + std::to_string(list.size()) + "]";
        status = expect_wire(cursor, field, kWireLengthDelimited, child);
        if (status.is_ok() && main_graph) {
          if (list.size() >= kOnnxMaxInitializers) {
            status = cursor.error(child, "more than " + std::to_string(kOnnxMaxInitializers) + " entries");
          } else {
            list.emplace_back();
            status = parse_value_info(field, child, &list.back());
          }
        }
        break;
      }
      // NOTE: sparse_initializer (15) is skipped, so sparse weights are in
      // neither tensor_count nor parameter_count.
      default:
        break;
    }
    if (!status.is_ok()) return status;
  }

  if (!main_graph) return Status::ok();
  // A graph input that is also an initializer is a weight with a default
  // value, not an input the caller must supply.
  for (v1::TensorInfo& input : inputs) {
    if (initializer_names.count(input.name()) == 0) *metadata_->add_inputs() = std::move(input);
  }
  for (v1::TensorInfo& output : outputs) *metadata_->add_outputs() = std::move(output);
  return Status::ok();
}

Status OnnxParser::parse_node(const Field& message, const std::string& where, int depth) {
  Cursor cursor = cursor_for(message);
  uint64_t attribute_index = 0;
  while (!cursor.at_end()) {
    Field field;
    Status status = next_field(cursor, where, &field);
    if (status.is_ok() && field.number == 5) {  // attribute
      std::string child = where + ".attribute[" + std::to_string(attribute_index++) + "]";
      status = expect_wire(cursor, field, kWireLengthDelimited, child);
      if (status.is_ok()) status = parse_attribute(field, child, depth);
    }
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

Status OnnxParser::parse_attribute(const Field& message, const std::string& where, int depth) {
  Cursor cursor = cursor_for(message);
  uint64_t graph_index = 0;
  while (!cursor.at_end()) {
    Field field;
    Status status = next_field(cursor, where, &field);
    // Field g (6) is the graph of a GRAPH attribute and graphs (11) the
    // list of a GRAPHS attribute. If branches and Loop and Scan bodies use them.
    if (status.is_ok() && (field.number == 6 || field.number == 11)) {
      std::string child = where + (field.number == 6 ? ".g" : ".graphs[" + std::to_string(graph_index++) + "]");
      status = expect_wire(cursor, field, kWireLengthDelimited, child);
      if (status.is_ok()) status = parse_graph(field, child, depth + 1, false);
    }
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

Status OnnxParser::parse_initializer(const Field& message, const std::string& where,
                                     std::string* name) {
  Cursor cursor = cursor_for(message);
  if (++initializer_count_ > kOnnxMaxInitializers) {
    return cursor.error(where, "the model has more than " + std::to_string(kOnnxMaxInitializers) +
                                   " initializers");
  }

  std::vector<int64_t> dims;
  auto add_dim = [&](uint64_t raw) -> Status {
    if (dims.size() >= kOnnxMaxDims) {
      return cursor.error(where + ".dims", "more than " + std::to_string(kOnnxMaxDims) + " dims");
    }
    dims.push_back(static_cast<int64_t>(raw));
    return Status::ok();
  };

  while (!cursor.at_end()) {
    Field field;
    Status status = next_field(cursor, where, &field);
    if (status.is_ok() && field.number == 1 && field.wire_type == kWireVarint) {
      status = add_dim(field.value);
    } else if (status.is_ok() && field.number == 1) {
      // Packed encoding: the payload is a run of varints.
      status = expect_wire(cursor, field, kWireLengthDelimited, where + ".dims");
      Cursor packed = cursor_for(field);
      while (status.is_ok() && !packed.at_end()) {
        uint64_t raw = 0;
        status = packed.read_varint(where + ".dims", &raw);
        if (status.is_ok()) status = add_dim(raw);
      }
    } else if (status.is_ok() && field.number == 8) {
      status = expect_wire(cursor, field, kWireLengthDelimited, where + ".name");
      if (status.is_ok()) status = read_string(field, where + ".name", name);
    }
    if (!status.is_ok()) return status;
  }

  std::string label = where + " " + quoted(*name);
  uint64_t elements = 1;
  for (int64_t dim : dims) {
    if (dim < 0) {
      return cursor.error(label, "dim " + std::to_string(dim) + " is negative");
    }
    if (!checked_mul(elements, static_cast<uint64_t>(dim), &elements)) {
      return cursor.error(label, "the product of its dims overflows 64 bits");
    }
  }
  if (!checked_add(parameter_count_, elements, &parameter_count_)) {
    return cursor.error(label, "the model's parameter count overflows 64 bits");
  }
  return Status::ok();
}

Status OnnxParser::parse_value_info(const Field& message, const std::string& where,
                                    v1::TensorInfo* info) {
  Cursor cursor = cursor_for(message);
  while (!cursor.at_end()) {
    Field field;
    Status status = next_field(cursor, where, &field);
    if (status.is_ok() && field.number == 1) {
      status = expect_wire(cursor, field, kWireLengthDelimited, where + ".name");
      std::string name;
      if (status.is_ok()) status = read_string(field, where + ".name", &name);
      info->set_name(name);
    } else if (status.is_ok() && field.number == 2) {
      status = expect_wire(cursor, field, kWireLengthDelimited, where + ".type");
      if (status.is_ok()) status = parse_type(field, where + ".type", info);
    }
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

Status OnnxParser::parse_type(const Field& message, const std::string& where, v1::TensorInfo* info) {
  Cursor cursor = cursor_for(message);
  while (!cursor.at_end()) {
    Field field;
    Status status = next_field(cursor, where, &field);
    if (!status.is_ok()) return status;

    // tensor_type (1) and sparse_tensor_type (8) share one layout. The other
    // kinds have no single element type, so their kind is recorded instead.
    switch (field.number) {
      case 1:
      case 8:
        status = expect_wire(cursor, field, kWireLengthDelimited, where + ".tensor_type");
        if (status.is_ok()) status = parse_tensor_type(field, where + ".tensor_type", info);
        break;
      case 4:
        info->set_elem_type("sequence");
        break;
      case 5:
        info->set_elem_type("map");
        break;
      case 9:
        info->set_elem_type("optional");
        break;
      default:
        break;
    }
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

Status OnnxParser::parse_tensor_type(const Field& message, const std::string& where,
                                     v1::TensorInfo* info) {
  Cursor cursor = cursor_for(message);
  while (!cursor.at_end()) {
    Field field;
    Status status = next_field(cursor, where, &field);
    if (status.is_ok() && field.number == 1) {
      status = expect_wire(cursor, field, kWireVarint, where + ".elem_type");
      info->set_elem_type(elem_type_name(static_cast<int64_t>(field.value)));
    } else if (status.is_ok() && field.number == 2) {
      status = expect_wire(cursor, field, kWireLengthDelimited, where + ".shape");
      if (status.is_ok()) status = parse_shape(field, where + ".shape", info);
    }
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

Status OnnxParser::parse_shape(const Field& message, const std::string& where, v1::TensorInfo* info) {
  Cursor cursor = cursor_for(message);
  while (!cursor.at_end()) {
    Field field;
    Status status = next_field(cursor, where, &field);
    if (status.is_ok() && field.number == 1) {
      std::string child = where + ".dim[" + std::to_string(info->dims_size()) + "]";
      if (static_cast<uint64_t>(info->dims_size()) >= kOnnxMaxDims) {
        return cursor.error(child, "more than " + std::to_string(kOnnxMaxDims) + " dims");
      }
      status = expect_wire(cursor, field, kWireLengthDelimited, child);
      std::string dim;
      if (status.is_ok()) status = parse_dimension(field, child, &dim);
      info->add_dims(dim);
    }
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

Status OnnxParser::parse_dimension(const Field& message, const std::string& where, std::string* out) {
  Cursor cursor = cursor_for(message);
  // A dimension with neither a value nor a name is unknown.
  *out = "?";
  while (!cursor.at_end()) {
    Field field;
    Status status = next_field(cursor, where, &field);
    if (status.is_ok() && field.number == 1) {
      status = expect_wire(cursor, field, kWireVarint, where + ".dim_value");
      *out = std::to_string(static_cast<int64_t>(field.value));
    } else if (status.is_ok() && field.number == 2) {
      status = expect_wire(cursor, field, kWireLengthDelimited, where + ".dim_param");
      if (status.is_ok()) status = read_string(field, where + ".dim_param", out);
    }
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

}  // namespace

Status parse_onnx(ByteSource& source, v1::ModelMetadata* metadata) {
  metadata->Clear();
  OnnxParser parser(source, metadata);
  Status status = parser.parse_model();
  if (!status.is_ok()) metadata->Clear();
  return status;
}

}  // namespace automata::modelfmt
