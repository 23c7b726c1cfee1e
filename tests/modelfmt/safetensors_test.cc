#include "automata/modelfmt/safetensors.h"
#include "automata/modelfmt/source.h"
#include "automata/v1/model.pb.h"
#include "writers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace automata::modelfmt {
namespace {

using ::testing::HasSubstr;
using testing::put_u64le;
using testing::safetensors_file;

Status parse(const Bytes& file, v1::ModelMetadata* metadata) {
  MemorySource source(file);
  return parse_safetensors(source, metadata);
}

// Parses a file with the given JSON header and data size, and expects
// invalid_argument whose message contains every fragment.
void expect_rejected(const std::string& header, uint64_t data_bytes,
                     const std::vector<std::string>& fragments) {
  v1::ModelMetadata metadata;
  Status status = parse(safetensors_file(header, data_bytes), &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument) << header << " -> " << status.to_string();
  for (const std::string& fragment : fragments) {
    EXPECT_THAT(status.message(), HasSubstr(fragment)) << header;
  }
  EXPECT_EQ(metadata.tensor_count(), 0u);
}

TEST(SafetensorsTest, ReadsWrittenFile) {
  // F32 [2, 3] = 24 bytes, BF16 [4] = 8 bytes, I64 [] = 8 bytes, F32 [0] = 0.
  std::string header = R"({
    "__metadata__": {"format": "pt"},
    "a.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
    "b.bias": {"dtype": "BF16", "shape": [4], "data_offsets": [24, 32]},
    "step": {"dtype": "I64", "shape": [], "data_offsets": [32, 40]},
    "empty": {"dtype": "F32", "shape": [0], "data_offsets": [40, 40]}
  })";

  v1::ModelMetadata metadata;
  Status status = parse(safetensors_file(header, 40), &metadata);
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  EXPECT_EQ(metadata.tensor_count(), 4u);
  EXPECT_EQ(metadata.parameter_count(), 6u + 4u + 1u + 0u);
  EXPECT_EQ(std::vector<std::string>(metadata.dtypes().begin(), metadata.dtypes().end()),
            (std::vector<std::string>{"BF16", "F32", "I64"}));
  EXPECT_EQ(metadata.ir_version(), 0);
  EXPECT_TRUE(metadata.inputs().empty());
}

TEST(SafetensorsTest, RejectsHeaderPastFileEnd) {
  Bytes file;
  put_u64le(&file, 1000);
  std::string json = R"({"a": 1})";
  file.insert(file.end(), json.begin(), json.end());

  v1::ModelMetadata metadata;
  Status status = parse(file, &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("header length"));
  EXPECT_THAT(status.message(), HasSubstr("1000 bytes run past the end of the file"));
}

TEST(SafetensorsTest, RejectsHeaderOverLimit) {
  Bytes file;
  put_u64le(&file, kSafetensorsMaxHeaderBytes + 1);
  file.push_back('{');

  v1::ModelMetadata metadata;
  Status status = parse(file, &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("header length"));
  EXPECT_THAT(status.message(), HasSubstr("over the 100000000-byte limit"));
}

TEST(SafetensorsTest, RejectsShortFile) {
  Bytes file = {1, 2, 3};

  v1::ModelMetadata metadata;
  Status status = parse(file, &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("header length"));
}

TEST(SafetensorsTest, RejectsInvalidJson) {
  expect_rejected(R"({"a": {"dtype": "F32",)", 0, {"header", "not valid JSON"});
  expect_rejected(R"([1, 2])", 0, {"header", "must be a JSON object"});
}

TEST(SafetensorsTest, RejectsUnknownDtype) {
  expect_rejected(R"({"w": {"dtype": "F31", "shape": [1], "data_offsets": [0, 4]}})", 4,
                  {"tensor \"w\".dtype", "\"F31\" is not a known safetensors dtype"});
}

TEST(SafetensorsTest, RejectsMissingFields) {
  expect_rejected(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", 4, {"tensor \"w\".dtype", "missing"});
  expect_rejected(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", 4, {"tensor \"w\".shape", "missing"});
  expect_rejected(R"({"w": {"dtype": "F32", "shape": [1]}})", 4, {"tensor \"w\".data_offsets", "missing"});
  expect_rejected(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4,
                  {"tensor \"w\".shape", "-1 is not a non-negative integer"});
  expect_rejected(R"({"w": 7})", 4, {"tensor \"w\"", "must be a JSON object"});
}

TEST(SafetensorsTest, RejectsOffsetsPastData) {
  expect_rejected(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 12,
                  {"tensor \"w\".data_offsets", "[0, 16] run past the data section (12 bytes)"});
}

TEST(SafetensorsTest, RejectsReversedOffsets) {
  expect_rejected(R"({"w": {"dtype": "U8", "shape": [0], "data_offsets": [8, 4]}})", 8,
                  {"tensor \"w\".data_offsets", "[8, 4]: end is below begin"});
}

TEST(SafetensorsTest, RejectsSizeMismatch) {
  expect_rejected(R"({"w": {"dtype": "F16", "shape": [3, 2], "data_offsets": [0, 10]}})", 12,
                  {"tensor \"w\".data_offsets", "span 10 bytes", "is 12 bytes"});
}

TEST(SafetensorsTest, RejectsShapeOverflow) {
  expect_rejected(
      R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}})", 4,
      {"tensor \"w\".shape", "overflows 64 bits"});
}

TEST(SafetensorsTest, RejectsOverlappingTensors) {
  expect_rejected(R"({
    "first": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
    "second": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}
  })",
                  20, {"tensor \"second\".data_offsets", "overlap tensor \"first\"", "ends at 16"});
}

TEST(SafetensorsTest, RejectsDuplicateTensorName) {
  expect_rejected(R"({
    "w": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
    "w": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]}
  })",
                  8, {"tensor \"w\"", "appears twice"});
}

TEST(SafetensorsTest, RejectsNonObjectMetadata) {
  expect_rejected(R"({"__metadata__": [1]})", 0, {"__metadata__", "must be a JSON object"});
}

}  // namespace
}  // namespace automata::modelfmt
