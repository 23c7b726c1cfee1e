#include "automata/modelfmt/gguf.h"
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
using testing::GgufWriter;
using testing::put_u32le;
using testing::put_u64le;

// ggml type ids and sizes used below: F32 = 0 (4 bytes per element),
// F16 = 1 (2 bytes), Q8_0 = 8 (34 bytes per block of 32 elements).
constexpr uint32_t kF32 = 0;
constexpr uint32_t kF16 = 1;
constexpr uint32_t kQ8_0 = 8;

Status parse(const Bytes& file, v1::ModelMetadata* metadata) {
  MemorySource source(file);
  return parse_gguf(source, metadata);
}

void expect_rejected(const Bytes& file, const std::vector<std::string>& fragments) {
  v1::ModelMetadata metadata;
  Status status = parse(file, &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument) << status.to_string();
  for (const std::string& fragment : fragments) EXPECT_THAT(status.message(), HasSubstr(fragment));
  EXPECT_EQ(metadata.tensor_count(), 0u);
}

// A small llama-like file: every value type the writer has, three tensors.
GgufWriter sample_writer(uint32_t version) {
  GgufWriter writer(version);
  writer.kv_string("general.architecture", "llama");
  writer.kv_u32("llama.context_length", 2048);
  writer.kv_string("general.name", "tiny test model");
  writer.kv_string_array("tokenizer.ggml.tokens", {"<s>", "</s>", "hello"});
  writer.kv_u64_array("test.numbers", {1, 2, 3});
  // F32 [4, 2] is 32 bytes at 0, F16 [8] is 16 bytes at 32, and Q8_0 [64]
  // is two blocks of 34 = 68 bytes at 64.
  writer.tensor("token_embd.weight", {4, 2}, kF32, 0);
  writer.tensor("norm.weight", {8}, kF16, 32);
  writer.tensor("output.weight", {64}, kQ8_0, 64);
  return writer;
}

TEST(GgufTest, ReadsVersionThreeFile) {
  v1::ModelMetadata metadata;
  Status status = parse(sample_writer(3).finish(132), &metadata);
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  EXPECT_EQ(metadata.gguf_version(), 3u);
  EXPECT_EQ(metadata.architecture(), "llama");
  EXPECT_EQ(metadata.model_name(), "tiny test model");
  EXPECT_EQ(metadata.tensor_count(), 3u);
  EXPECT_EQ(metadata.parameter_count(), 8u + 8u + 64u);
  EXPECT_TRUE(metadata.dtypes().empty());
}

TEST(GgufTest, ReadsVersionTwoFile) {
  v1::ModelMetadata metadata;
  Status status = parse(sample_writer(2).finish(132), &metadata);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(metadata.gguf_version(), 2u);
  EXPECT_EQ(metadata.tensor_count(), 3u);
}

TEST(GgufTest, HonoursCustomAlignment) {
  GgufWriter writer;
  writer.kv_u32("general.alignment", 64);
  writer.tensor("a", {16}, kF32, 0);
  writer.tensor("b", {16}, kF32, 64);

  v1::ModelMetadata metadata;
  Status status = parse(writer.finish(128, 64), &metadata);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(metadata.parameter_count(), 32u);
}

TEST(GgufTest, RejectsBadMagicAndVersion) {
  Bytes file = sample_writer(3).finish(132);
  file[0] = 'X';
  expect_rejected(file, {"magic", "is not \"GGUF\""});
  expect_rejected(sample_writer(1).finish(132), {"version", "1 is not supported"});
}

TEST(GgufTest, RejectsStringPastEnd) {
  Bytes value;
  GgufWriter().string(&value, "general.name");
  put_u32le(&value, GgufWriter::kString);
  put_u64le(&value, 1000);
  Bytes file = GgufWriter().kv_raw(value).finish(0);
  expect_rejected(file, {"key \"general.name\"", "1000 bytes", "run past the end"});
}

TEST(GgufTest, RejectsLongKeptString) {
  Bytes value;
  GgufWriter().string(&value, "general.name");
  put_u32le(&value, GgufWriter::kString);
  put_u64le(&value, 1'000'000);
  expect_rejected(GgufWriter().kv_raw(value).finish(0),
                  {"key \"general.name\"", "length 1000000 is over the 65536-byte limit"});
}

TEST(GgufTest, RejectsKeyPastEnd) {
  Bytes value;
  put_u64le(&value, 500);
  value.push_back('k');
  expect_rejected(GgufWriter().kv_raw(value).finish(0), {"key/value[0].key", "500 bytes", "run past the end"});
}

TEST(GgufTest, RejectsArrayPastEnd) {
  Bytes value;
  GgufWriter().string(&value, "tokenizer.ggml.scores");
  put_u32le(&value, GgufWriter::kArray);
  put_u32le(&value, 6);  // float32
  put_u64le(&value, uint64_t{1} << 40);
  expect_rejected(GgufWriter().kv_raw(value).finish(0),
                  {"key \"tokenizer.ggml.scores\"", "array of 1099511627776 elements runs past the end"});
}

TEST(GgufTest, RejectsStringArrayPastEnd) {
  Bytes value;
  GgufWriter().string(&value, "tokenizer.ggml.tokens");
  put_u32le(&value, GgufWriter::kArray);
  put_u32le(&value, GgufWriter::kString);
  put_u64le(&value, 2);
  GgufWriter().string(&value, "ok");
  put_u64le(&value, 99);
  expect_rejected(GgufWriter().kv_raw(value).finish(0),
                  {"key \"tokenizer.ggml.tokens\"[1]", "99 bytes", "run past the end"});
}

TEST(GgufTest, RejectsUnknownValueType) {
  Bytes value;
  GgufWriter().string(&value, "custom.key");
  put_u32le(&value, 13);
  put_u64le(&value, 0);
  expect_rejected(GgufWriter().kv_raw(value).finish(0), {"key \"custom.key\"", "value type 13 is unknown"});
}

TEST(GgufTest, RejectsAbsurdCounts) {
  expect_rejected(GgufWriter().counts(kGgufMaxTensors + 1, 0).finish(0), {"tensor_count", "over the limit"});
  expect_rejected(GgufWriter().counts(0, kGgufMaxKeyValues + 1).finish(0), {"kv_count", "over the limit"});
  // A count under the limit that the file cannot back runs into its end.
  // The file is cut to the 24-byte header, without alignment padding.
  Bytes header_only = GgufWriter().counts(1000, 0).finish(0);
  header_only.resize(24);
  expect_rejected(header_only, {"tensor[0].name length", "run past the end"});
}

TEST(GgufTest, RejectsTooManyDims) {
  GgufWriter writer;
  writer.tensor("deep", std::vector<uint64_t>(9, 1), kF32, 0);
  expect_rejected(writer.finish(32), {"tensor \"deep\".n_dims", "9 is over the limit of 8"});
}

TEST(GgufTest, RejectsUnknownTensorType) {
  GgufWriter writer;
  writer.tensor("w", {4}, 4, 0);
  expect_rejected(writer.finish(32), {"tensor \"w\".type", "ggml type 4 is unknown"});
}

TEST(GgufTest, RejectsOffsetPastFileEnd) {
  GgufWriter writer;
  writer.tensor("w", {16}, kF32, 32);
  expect_rejected(writer.finish(64), {"tensor \"w\".offset", "runs past the end of the file"});
}

TEST(GgufTest, RejectsOverlappingTensors) {
  GgufWriter writer;
  writer.tensor("first", {16}, kF32, 0);
  writer.tensor("second", {8}, kF32, 32);
  expect_rejected(writer.finish(96), {"tensor \"second\".offset", "overlaps tensor \"first\"", "ends at 64"});
}

TEST(GgufTest, RejectsMisalignedOffset) {
  GgufWriter writer;
  writer.tensor("w", {4}, kF32, 4);
  expect_rejected(writer.finish(64), {"tensor \"w\".offset", "not a multiple of the alignment 32"});
}

TEST(GgufTest, RejectsPartialBlock) {
  GgufWriter writer;
  writer.tensor("q", {40}, kQ8_0, 0);
  expect_rejected(writer.finish(96), {"tensor \"q\".dims[0]", "40 is not a multiple of the Q8_0 block size 32"});
}

TEST(GgufTest, RejectsDimOverflow) {
  GgufWriter writer;
  writer.tensor("w", {uint64_t{1} << 33, uint64_t{1} << 33}, kF32, 0);
  expect_rejected(writer.finish(32), {"tensor \"w\".dims", "overflows 64 bits"});
}

TEST(GgufTest, RejectsBadAlignment) {
  GgufWriter writer;
  writer.kv_u32("general.alignment", 48);
  expect_rejected(writer.finish(0), {"key \"general.alignment\"", "48 is not a power of two"});
}

TEST(GgufTest, RejectsNonStringArchitecture) {
  GgufWriter writer;
  writer.kv_u32("general.architecture", 7);
  expect_rejected(writer.finish(0), {"key \"general.architecture\"", "must have type string (8)"});
}

}  // namespace
}  // namespace automata::modelfmt
