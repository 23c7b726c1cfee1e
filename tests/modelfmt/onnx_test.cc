#include "automata/modelfmt/inspect.h"
#include "automata/modelfmt/onnx.h"
#include "automata/modelfmt/source.h"
#include "automata/v1/model.pb.h"
#include "writers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace automata::modelfmt {
namespace {

using ::testing::HasSubstr;
using testing::onnx_tensor;
using testing::onnx_value_info;
using testing::ProtoWriter;

const char kSileroPath[] = AUTOMATA_TESTDATA_DIR "/models/silero_vad_legacy.onnx";

std::vector<std::string> dims_of(const v1::TensorInfo& info) {
  return {info.dims().begin(), info.dims().end()};
}

Status parse(const ProtoWriter& model, v1::ModelMetadata* metadata) {
  MemorySource source(model.bytes());
  return parse_onnx(source, metadata);
}

// A model with ir_version 9, one opset and the given graph.
ProtoWriter model_with_graph(const ProtoWriter& graph) {
  ProtoWriter opset;
  opset.varint_field(2, 17);
  ProtoWriter model;
  model.varint_field(1, 9).bytes_field(2, "writer").bytes_field(3, "0.1");
  model.message_field(7, graph).message_field(8, opset);
  return model;
}

// The expected values come from `protoc --decode_raw < silero_vad_legacy.onnx`
// (protoc 3.21), read field by field with the ONNX field numbers:
// - ModelProto fields 1, 2, 3: `1: 8`, `2: "pytorch"`, `3: "1.12.0"`.
// - The nine field-8 (opset_import) messages in file order; the first has
//   no domain (field 1) and `2: 16`, the others are listed below.
// - Graph (field 7) inputs (field 11) and outputs (field 12): name (1),
//   type.tensor_type.elem_type (2.1.1) with 1 = float and 7 = int64, and
//   each shape dim (2.1.2.1) as dim_value (1) or dim_param (2). "sr" has an
//   empty shape. protoc prints the output name "hn" as a nested message
//   because its two bytes parse as a field; its dims are printed normally.
// - No graph input name matches an initializer name.
// - tensor_count 259 and parameter_count 445117: a Python script walked the
//   decode_raw text and counted every field-5 (initializer) message of the
//   graph and of each graph in field 6 (g) of a node attribute. These are
//   If branches, nested up to three levels. It summed the product of each
//   initializer's field-1 dims, where no dims means a scalar of one
//   element. The main graph has 69 initializers.
TEST(OnnxTest, SileroVadMetadata) {
  ASSERT_TRUE(std::filesystem::exists(kSileroPath))
      << kSileroPath << " is missing: run scripts/fetch-test-models.sh to fetch it";

  std::string format;
  v1::ModelMetadata metadata;
  Status status = inspect_file(kSileroPath, &format, &metadata);
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  EXPECT_EQ(format, "onnx");
  EXPECT_EQ(metadata.ir_version(), 8);
  EXPECT_EQ(metadata.producer_name(), "pytorch");
  EXPECT_EQ(metadata.producer_version(), "1.12.0");
  EXPECT_EQ(metadata.tensor_count(), 259u);
  EXPECT_EQ(metadata.parameter_count(), 445117u);

  const std::vector<std::pair<std::string, int64_t>> expected_opsets = {
      {"", 16},
      {"ai.onnx.ml", 3},
      {"ai.onnx.training", 1},
      {"com.ms.internal.nhwc", 1},
      {"ai.onnx.preview.training", 1},
      {"com.microsoft", 1},
      {"com.microsoft.experimental", 1},
      {"com.microsoft.nchwc", 1},
      {"org.pytorch.aten", 1},
  };
  ASSERT_EQ(metadata.opsets_size(), static_cast<int>(expected_opsets.size()));
  for (size_t i = 0; i < expected_opsets.size(); ++i) {
    EXPECT_EQ(metadata.opsets(static_cast<int>(i)).domain(), expected_opsets[i].first) << "opset " << i;
    EXPECT_EQ(metadata.opsets(static_cast<int>(i)).version(), expected_opsets[i].second) << "opset " << i;
  }

  ASSERT_EQ(metadata.inputs_size(), 4);
  EXPECT_EQ(metadata.inputs(0).name(), "input");
  EXPECT_EQ(metadata.inputs(0).elem_type(), "float");
  EXPECT_EQ(dims_of(metadata.inputs(0)), (std::vector<std::string>{"batch", "sequence"}));
  EXPECT_EQ(metadata.inputs(1).name(), "sr");
  EXPECT_EQ(metadata.inputs(1).elem_type(), "int64");
  EXPECT_TRUE(metadata.inputs(1).dims().empty());
  EXPECT_EQ(metadata.inputs(2).name(), "h");
  EXPECT_EQ(metadata.inputs(2).elem_type(), "float");
  EXPECT_EQ(dims_of(metadata.inputs(2)), (std::vector<std::string>{"2", "batch", "64"}));
  EXPECT_EQ(metadata.inputs(3).name(), "c");
  EXPECT_EQ(metadata.inputs(3).elem_type(), "float");
  EXPECT_EQ(dims_of(metadata.inputs(3)), (std::vector<std::string>{"2", "batch", "64"}));

  ASSERT_EQ(metadata.outputs_size(), 3);
  EXPECT_EQ(metadata.outputs(0).name(), "output");
  EXPECT_EQ(metadata.outputs(0).elem_type(), "float");
  EXPECT_EQ(dims_of(metadata.outputs(0)), (std::vector<std::string>{"batch", "1"}));
  EXPECT_EQ(metadata.outputs(1).name(), "hn");
  EXPECT_EQ(metadata.outputs(1).elem_type(), "float");
  EXPECT_EQ(dims_of(metadata.outputs(1)), (std::vector<std::string>{"2", "batch", "64"}));
  EXPECT_EQ(metadata.outputs(2).name(), "cn");
  EXPECT_EQ(metadata.outputs(2).elem_type(), "float");
  EXPECT_EQ(dims_of(metadata.outputs(2)), (std::vector<std::string>{"2", "batch", "64"}));

  EXPECT_TRUE(metadata.dtypes().empty());
  EXPECT_EQ(metadata.gguf_version(), 0u);
}

TEST(OnnxTest, InitializerInputsAreNotModelInputs) {
  ProtoWriter graph;
  graph.message_field(5, onnx_tensor("weight", {3, 4}));
  graph.message_field(11, onnx_value_info("x", 1, {"N", "3"}));
  graph.message_field(11, onnx_value_info("weight", 1, {"3", "4"}));
  graph.message_field(12, onnx_value_info("y", 7, {"N"}));

  v1::ModelMetadata metadata;
  Status status = parse(model_with_graph(graph), &metadata);
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  EXPECT_EQ(metadata.ir_version(), 9);
  EXPECT_EQ(metadata.producer_name(), "writer");
  EXPECT_EQ(metadata.producer_version(), "0.1");
  ASSERT_EQ(metadata.opsets_size(), 1);
  EXPECT_EQ(metadata.opsets(0).domain(), "");
  EXPECT_EQ(metadata.opsets(0).version(), 17);
  ASSERT_EQ(metadata.inputs_size(), 1);
  EXPECT_EQ(metadata.inputs(0).name(), "x");
  EXPECT_EQ(dims_of(metadata.inputs(0)), (std::vector<std::string>{"N", "3"}));
  ASSERT_EQ(metadata.outputs_size(), 1);
  EXPECT_EQ(metadata.outputs(0).elem_type(), "int64");
  EXPECT_EQ(metadata.tensor_count(), 1u);
  EXPECT_EQ(metadata.parameter_count(), 12u);
}

TEST(OnnxTest, CountsSubgraphInitializers) {
  // A Loop-style node with a GRAPH attribute (field 6) whose body has a
  // 5x5 initializer, and an attribute with GRAPHS (field 11) holding two
  // graphs of 2 and 7 elements, one of them nested another level.
  ProtoWriter inner;
  inner.message_field(5, onnx_tensor("inner", {7}));
  ProtoWriter inner_attribute;
  inner_attribute.bytes_field(1, "body").varint_field(20, 5).message_field(6, inner);
  ProtoWriter inner_node;
  inner_node.bytes_field(4, "Loop").message_field(5, inner_attribute);

  ProtoWriter body;
  body.message_field(5, onnx_tensor("body_weight", {5, 5}));
  ProtoWriter first_branch;
  first_branch.message_field(5, onnx_tensor("branch_weight", {2}));
  ProtoWriter second_branch;
  second_branch.message_field(1, inner_node);

  ProtoWriter graph_attribute;
  graph_attribute.bytes_field(1, "body").varint_field(20, 5).message_field(6, body);
  ProtoWriter graphs_attribute;
  graphs_attribute.bytes_field(1, "branches").varint_field(20, 10);
  graphs_attribute.message_field(11, first_branch).message_field(11, second_branch);
  ProtoWriter node;
  node.bytes_field(4, "Custom").message_field(5, graph_attribute).message_field(5, graphs_attribute);

  ProtoWriter graph;
  graph.message_field(1, node).message_field(5, onnx_tensor("scalar", {}));

  v1::ModelMetadata metadata;
  Status status = parse(model_with_graph(graph), &metadata);
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  // 1 (scalar) + 25 + 2 + 7 elements over four initializers.
  EXPECT_EQ(metadata.tensor_count(), 4u);
  EXPECT_EQ(metadata.parameter_count(), 35u);
}

TEST(OnnxTest, ReadsPackedDims) {
  ProtoWriter packed;
  packed.varint(6);
  packed.varint(300);
  ProtoWriter tensor;
  tensor.message_field(1, packed).bytes_field(8, "packed");
  ProtoWriter graph;
  graph.message_field(5, tensor);

  v1::ModelMetadata metadata;
  Status status = parse(model_with_graph(graph), &metadata);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(metadata.parameter_count(), 1800u);
}

TEST(OnnxTest, RejectsFieldPastEnd) {
  ProtoWriter graph;
  graph.message_field(5, onnx_tensor("w", {2}));
  ProtoWriter model = model_with_graph(graph);
  // A producer_name that claims 50 bytes with 3 present.
  model.tag(2, 2);
  model.varint(50);
  model.raw({'a', 'b', 'c'});

  v1::ModelMetadata metadata;
  Status status = parse(model, &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("ModelProto field 2"));
  EXPECT_THAT(status.message(), HasSubstr("50 bytes"));
  EXPECT_THAT(status.message(), HasSubstr("run past the end"));
}

TEST(OnnxTest, RejectsNestedFieldPastEnd) {
  // The initializer's name claims 9 bytes, but its message has only 2.
  ProtoWriter tensor;
  tensor.varint_field(1, 4);
  tensor.tag(8, 2);
  tensor.varint(9);
  tensor.raw({'w', 'x'});
  ProtoWriter graph;
  graph.message_field(5, tensor);

  v1::ModelMetadata metadata;
  Status status = parse(model_with_graph(graph), &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("graph.initializer[0] field 8"));
  EXPECT_THAT(status.message(), HasSubstr("run past the end"));
}

TEST(OnnxTest, RejectsVarintOverTenBytes) {
  ProtoWriter model;
  model.tag(1, 0);
  model.raw(Bytes(10, 0x80));
  model.raw({0x01});

  v1::ModelMetadata metadata;
  Status status = parse(model, &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("ModelProto field 1"));
  EXPECT_THAT(status.message(), HasSubstr("longer than 10 bytes"));
}

TEST(OnnxTest, RejectsTooManyInitializers) {
  ProtoWriter empty_tensor;
  ProtoWriter graph;
  for (uint64_t i = 0; i <= kOnnxMaxInitializers; ++i) graph.message_field(5, empty_tensor);

  v1::ModelMetadata metadata;
  Status status = parse(model_with_graph(graph), &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("graph.initializer[1000000]"));
  EXPECT_THAT(status.message(), HasSubstr("more than 1000000 initializers"));
}

TEST(OnnxTest, RejectsTooManyDims) {
  ProtoWriter packed;
  for (uint64_t i = 0; i <= kOnnxMaxDims; ++i) packed.varint(1);
  ProtoWriter tensor;
  tensor.message_field(1, packed);
  ProtoWriter graph;
  graph.message_field(5, tensor);

  v1::ModelMetadata metadata;
  Status status = parse(model_with_graph(graph), &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("graph.initializer[0].dims"));
  EXPECT_THAT(status.message(), HasSubstr("more than 1000000 dims"));
}

TEST(OnnxTest, RejectsParameterOverflow) {
  ProtoWriter graph;
  graph.message_field(5, onnx_tensor("huge", {int64_t{1} << 32, int64_t{1} << 32}));

  v1::ModelMetadata metadata;
  Status status = parse(model_with_graph(graph), &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("\"huge\""));
  EXPECT_THAT(status.message(), HasSubstr("overflows 64 bits"));
}

TEST(OnnxTest, RejectsParameterSumOverflow) {
  ProtoWriter graph;
  graph.message_field(5, onnx_tensor("first", {int64_t{1} << 62, 3}));
  graph.message_field(5, onnx_tensor("second", {int64_t{1} << 62, 2}));

  v1::ModelMetadata metadata;
  Status status = parse(model_with_graph(graph), &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("\"second\""));
  EXPECT_THAT(status.message(), HasSubstr("parameter count overflows"));
}

TEST(OnnxTest, RejectsNegativeDim) {
  ProtoWriter graph;
  graph.message_field(5, onnx_tensor("bias", {4, -1}));

  v1::ModelMetadata metadata;
  Status status = parse(model_with_graph(graph), &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("\"bias\""));
  EXPECT_THAT(status.message(), HasSubstr("dim -1 is negative"));
}

TEST(OnnxTest, RejectsWrongWireType) {
  ProtoWriter model;
  model.varint_field(1, 8).varint_field(7, 3);

  v1::ModelMetadata metadata;
  Status status = parse(model, &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("ModelProto.graph"));
  EXPECT_THAT(status.message(), HasSubstr("wire type 0, expected 2"));
}

TEST(OnnxTest, RejectsMissingGraph) {
  ProtoWriter model;
  model.varint_field(1, 8).bytes_field(2, "writer");

  v1::ModelMetadata metadata;
  Status status = parse(model, &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("ModelProto.graph: is missing"));
}

TEST(OnnxTest, RejectsDeepSubgraphNesting) {
  ProtoWriter graph;
  for (int depth = 0; depth < kOnnxMaxGraphDepth; ++depth) {
    ProtoWriter attribute;
    attribute.bytes_field(1, "body").message_field(6, graph);
    ProtoWriter node;
    node.message_field(5, attribute);
    ProtoWriter outer;
    outer.message_field(1, node);
    graph = outer;
  }

  v1::ModelMetadata metadata;
  Status status = parse(model_with_graph(graph), &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("nest deeper than 64"));
}

}  // namespace
}  // namespace automata::modelfmt
