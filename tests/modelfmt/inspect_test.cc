#include "automata/modelfmt/inspect.h"
#include "automata/modelfmt/source.h"
#include "automata/v1/model.pb.h"
#include "writers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace automata::modelfmt {
namespace {

using ::testing::HasSubstr;
using testing::GgufWriter;
using testing::onnx_tensor;
using testing::ProtoWriter;
using testing::safetensors_file;

class InspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("automata_modelfmt_" + std::to_string(::getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string write(const std::string& name, const Bytes& content) {
    std::string path = (directory_ / name).string();
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
    return path;
  }

  std::filesystem::path directory_;
};

TEST_F(InspectTest, DetectsEachFormat) {
  ProtoWriter graph;
  graph.message_field(5, onnx_tensor("w", {3}));
  ProtoWriter onnx;
  onnx.varint_field(1, 7).message_field(7, graph);
  std::string safetensors_json = R"({"w": {"dtype": "U8", "shape": [5], "data_offsets": [0, 5]}})";
  GgufWriter gguf;
  gguf.kv_string("general.architecture", "gpt2").tensor("w", {2}, 0, 0);

  struct Case {
    std::string file;
    Bytes content;
    std::string format;
    uint64_t parameters;
  };
  const Case cases[] = {
      {"model.onnx", onnx.bytes(), "onnx", 3},
      {"model.safetensors", safetensors_file(safetensors_json, 5), "safetensors", 5},
      {"model.gguf", gguf.finish(8), "gguf", 2},
      {"notes.txt", to_bytes("plain text, not a model"), "other", 0},
      {"empty.bin", {}, "other", 0},
  };
  for (const Case& c : cases) {
    std::string format;
    v1::ModelMetadata metadata;
    Status status = inspect_file(write(c.file, c.content), &format, &metadata);
    ASSERT_TRUE(status.is_ok()) << c.file << ": " << status.to_string();
    EXPECT_EQ(format, c.format) << c.file;
    EXPECT_EQ(metadata.parameter_count(), c.parameters) << c.file;
  }
}

TEST_F(InspectTest, OtherFormatLeavesMetadataEmpty) {
  std::string format;
  v1::ModelMetadata metadata;
  metadata.set_tensor_count(99);
  Status status = inspect_file(write("data.bin", {0xff, 0x00, 0x10}), &format, &metadata);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(format, "other");
  EXPECT_EQ(metadata.ByteSizeLong(), 0u);
}

TEST_F(InspectTest, MissingFileIsNotFound) {
  std::string format;
  v1::ModelMetadata metadata;
  std::string path = (directory_ / "absent.onnx").string();
  Status status = inspect_file(path, &format, &metadata);
  EXPECT_EQ(status.kind(), Status::Kind::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr(path));
}

TEST_F(InspectTest, DirectoryIsRejected) {
  std::string format;
  v1::ModelMetadata metadata;
  Status status = inspect_file(directory_.string(), &format, &metadata);
  EXPECT_EQ(status.kind(), Status::Kind::kIoError);
  EXPECT_THAT(status.message(), HasSubstr("not a regular file"));
}

TEST_F(InspectTest, LyingHeaderNamesFile) {
  std::string json = R"({"w": {"dtype": "U8", "shape": [5], "data_offsets": [0, 50]}})";
  std::string path = write("bad.safetensors", safetensors_file(json, 5));

  std::string format;
  v1::ModelMetadata metadata;
  Status status = inspect_file(path, &format, &metadata);
  ASSERT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(format, "safetensors");
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_THAT(status.message(), HasSubstr("tensor \"w\".data_offsets"));
}

TEST_F(InspectTest, ReadsHeaderOfSparseGibFile) {
  // A 1 GiB safetensors file whose data section is a hole, so it takes no
  // disk space. Only the header is read.
  const uint64_t data_bytes = uint64_t{1} << 30;
  std::string json = R"({"big": {"dtype": "F32", "shape": [268435456], "data_offsets": [0, 1073741824]}})";
  Bytes header = safetensors_file(json, 0);
  std::string path = write("big.safetensors", header);
  std::filesystem::resize_file(path, header.size() + data_bytes);

  std::string format;
  v1::ModelMetadata metadata;
  Status status = inspect_file(path, &format, &metadata);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(format, "safetensors");
  EXPECT_EQ(metadata.parameter_count(), 268435456u);
}

TEST_F(InspectTest, FileSourceReadsAcrossBlocks) {
  Bytes content(200'000);
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<uint8_t>(i * 7 + i / 251);
  std::string path = write("blocks.bin", content);

  std::unique_ptr<FileSource> source;
  ASSERT_TRUE(FileSource::open(path, &source).is_ok());
  EXPECT_EQ(source->size(), content.size());

  // Ranges inside one 64 KiB block, across one boundary, across two, and
  // backwards after a later read.
  const std::pair<uint64_t, size_t> ranges[] = {
      {10, 100}, {65'500, 100}, {60'000, 140'000}, {5, 3}, {199'990, 10}};
  for (const auto& [offset, length] : ranges) {
    Bytes out(length);
    Status status = source->read(offset, length, out.data());
    ASSERT_TRUE(status.is_ok()) << offset << ": " << status.to_string();
    EXPECT_TRUE(std::equal(out.begin(), out.end(), content.begin() + static_cast<std::ptrdiff_t>(offset)))
        << "offset " << offset << " length " << length;
  }

  uint8_t byte = 0;
  Status past_end = source->read(content.size(), 1, &byte);
  EXPECT_EQ(past_end.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(past_end.message(), HasSubstr("runs past the end"));
}

}  // namespace
}  // namespace automata::modelfmt
