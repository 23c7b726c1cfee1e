// Argument errors of `automata model register | upload | fetch | show |
// list`, run in-process. Each error is caught before any tx is signed; the
// node URL points at a fake node on 127.0.0.1 that fails the test when a
// command reaches it.
#include "automata/cli/app.h"

#include "automata/cli/model_content.h"
#include "fake_http_server.h"
#include "temp_dir.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace automata::cli {
namespace {

using testing::FakeHttpServer;
using testing::FakeResponse;
using testing::TempDir;

class ModelCommandsTest : public ::testing::Test {
 protected:
  ModelCommandsTest()
      : server_([this](const std::string&, const std::string&, const std::string&) {
          ++requests_;
          return FakeResponse{500, "unexpected request"};
        }) {}

  // Runs `automata --node URL --keyring-dir DIR args...`.
  int run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"automata", "--node", server_.url(), "--keyring-dir", dir_.path() + "/keyring"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<const char*> pointers;
    for (const std::string& arg : argv) pointers.push_back(arg.c_str());
    out_.str("");
    err_.str("");
    return run_cli(static_cast<int>(pointers.size()), pointers.data(), out_, err_);
  }

  std::string write_file(const std::string& name, const std::string& data) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }

  TempDir dir_;
  std::atomic<int> requests_{0};
  FakeHttpServer server_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(ModelCommandsTest, RegisterMissingFile) {
  EXPECT_EQ(run({"model", "register", dir_.path() + "/absent.onnx", "--from", "dev"}), 1);
  EXPECT_NE(err_.str().find("absent.onnx not found"), std::string::npos) << err_.str();
  EXPECT_EQ(requests_, 0);
}

TEST_F(ModelCommandsTest, RegisterRoyaltyOverMax) {
  std::string file = write_file("model.bin", "weights");
  EXPECT_EQ(run({"model", "register", file, "--from", "dev", "--royalty-bps", "10001"}), 1);
  EXPECT_NE(err_.str().find("invalid --royalty-bps 10001"), std::string::npos) << err_.str();
  EXPECT_EQ(requests_, 0);
}

TEST_F(ModelCommandsTest, RegisterFragmentSizeOutOfBounds) {
  std::string file = write_file("model.bin", "weights");
  EXPECT_EQ(run({"model", "register", file, "--from", "dev", "--fragment-size", "1000"}), 1);
  EXPECT_NE(err_.str().find("invalid --fragment-size 1000"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("65536"), std::string::npos) << err_.str();
  EXPECT_EQ(requests_, 0);
}

TEST_F(ModelCommandsTest, RegisterBadBaseId) {
  std::string file = write_file("model.bin", "weights");
  EXPECT_EQ(run({"model", "register", file, "--from", "dev", "--base", "xyz"}), 1);
  EXPECT_NE(err_.str().find("invalid --base 'xyz'"), std::string::npos) << err_.str();
  EXPECT_EQ(requests_, 0);
}

TEST_F(ModelCommandsTest, RegisterEmptyFile) {
  std::string file = write_file("empty.bin", "");
  EXPECT_EQ(run({"model", "register", file, "--from", "dev"}), 1);
  EXPECT_NE(err_.str().find("empty"), std::string::npos) << err_.str();
  EXPECT_EQ(requests_, 0);
}

TEST_F(ModelCommandsTest, RegisterLyingHeaderRejected) {
  // A safetensors header whose one tensor claims 4,000 data bytes in a file
  // that has 16.
  std::string header = R"({"w":{"dtype":"F32","shape":[1000],"data_offsets":[0,4000]}})";
  std::string length(8, '\0');
  for (size_t i = 0; i < 8; ++i) length[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  std::string file = write_file("lying.safetensors", length + header + std::string(16, '\0'));
  EXPECT_EQ(run({"model", "register", file, "--from", "dev"}), 1);
  EXPECT_NE(err_.str().find("lying.safetensors"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("safetensors"), std::string::npos) << err_.str();
  EXPECT_EQ(requests_, 0);
}

TEST_F(ModelCommandsTest, BadModelIdRejected) {
  for (const char* command : {"show", "upload"}) {
    EXPECT_EQ(run({"model", command, "1234"}), 1) << command;
    EXPECT_NE(err_.str().find("invalid model id '1234'"), std::string::npos) << command << ": " << err_.str();
  }
  EXPECT_EQ(run({"model", "fetch", "1234", "--out", dir_.path() + "/out", "--from", "dev"}), 1);
  EXPECT_NE(err_.str().find("invalid model id '1234'"), std::string::npos) << err_.str();
  EXPECT_EQ(requests_, 0);
}

TEST_F(ModelCommandsTest, UploadWithoutSpool) {
  std::string id(64, 'a');
  EXPECT_EQ(run({"model", "upload", id}), 1);
  EXPECT_NE(err_.str().find("no upload spool for model " + id), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find(dir_.path() + "/uploads/" + id), std::string::npos) << err_.str();
  EXPECT_EQ(requests_, 0);
}

TEST_F(ModelCommandsTest, ListOwnerAndCreatorExclusive) {
  EXPECT_EQ(run({"model", "list", "--owner", "dev", "--creator", "dev"}), 1);
  EXPECT_NE(err_.str().find("at most one of --owner and --creator"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"model", "list", "--limit", "0"}), 1);
  EXPECT_NE(err_.str().find("invalid --limit 0"), std::string::npos) << err_.str();
  EXPECT_EQ(requests_, 0);
}

TEST_F(ModelCommandsTest, FetchKeepsExistingFile) {
  const std::string out = dir_.path() + "/existing.onnx";
  { std::ofstream(out) << "keep me"; }
  EXPECT_EQ(run({"model", "fetch", std::string(64, 'a'), "--out", out, "--from", "dev"}), 1);
  EXPECT_NE(err_.str().find("output file " + out + " already exists; pass --force"), std::string::npos)
      << err_.str();
  std::ifstream in(out);
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, "keep me");
  EXPECT_EQ(requests_, 0);
}

TEST_F(ModelCommandsTest, FetchRequiresOut) {
  EXPECT_NE(run({"model", "fetch", std::string(64, 'a'), "--from", "dev"}), 0);
  EXPECT_NE(err_.str().find("--out"), std::string::npos) << err_.str();
  EXPECT_EQ(requests_, 0);
}

}  // namespace
}  // namespace automata::cli
