// End-to-end: a real ONNX model registered as a model NFT on an automatad
// dev node with the automata CLI, uploaded, fetched back and compared byte
// for byte. Also covers a resumed upload and tampered fragments on the way
// in (model_fragment_put) and on the way out (a proxy that flips a byte).
#include "automata/cli/code_client.h"
#include "automata/cli/model_content.h"
#include "automata/crypto/bech32.h"
#include "automata/crypto/merkle.h"
#include "automata/crypto/sha256.h"
#include "automata/modelfmt/inspect.h"
#include "automata/v1/model.pb.h"
#include "cli/fake_http_server.h"
#include "e2e/node_process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace automata::e2e {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The Silero VAD model, fetched by scripts/fetch-test-models.sh, which pins
// its SHA-256 to this value.
const char* kModelPath = AUTOMATA_TESTDATA_DIR "/models/silero_vad_legacy.onnx";
constexpr const char* kModelSha256 = "a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28";
constexpr uint64_t kFragmentSize = 65536;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string base64(ByteView bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

class ModelFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kModelPath)) << kModelPath << " is missing; run scripts/fetch-test-models.sh first";
    std::string log;
    ASSERT_TRUE(node_.start(&log)) << log;
    CommandResult keys = node_.cli({"--output", "json", "keys", "show", "dev"});
    ASSERT_EQ(keys.exit_code, 0) << keys.err;
    dev_address_ = json::parse(keys.out).value("address", std::string());
    ASSERT_FALSE(dev_address_.empty()) << keys.out;
  }

  // Registers the model file and returns the CLI's JSON summary.
  json register_model(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--output",     "json",     "model", "register", kModelPath, "--from", "dev",
                                     "--license",    "MIT",      "--fragment-size", std::to_string(kFragmentSize)};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult result = node_.cli(args);
    EXPECT_EQ(result.exit_code, 0) << result.err << result.out;
    json summary = json::parse(result.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(summary.is_object()) << result.out;
    return summary;
  }

  fs::path spool_dir(const std::string& id) { return node_.root() / "uploads" / id; }

  // Sends one sealed fragment from the spool with model_fragment_put.
  json put_fragment(const cli::ModelSpool& spool, uint64_t index, bool flip_byte) {
    Bytes sealed;
    EXPECT_TRUE(cli::read_spool_fragment(spool, index, &sealed).is_ok());
    if (flip_byte) sealed[sealed.size() / 2] ^= 0x01;
    json proof = json::array();
    for (const Hash32& node : crypto::merkle_inclusion_proof(spool.leaf_hashes, index)) proof.push_back(to_hex(node));
    return node_.rpc("model_fragment_put",
                     {{"id", to_hex(spool.model_id)}, {"index", index}, {"data", base64(sealed)}, {"proof", proof}});
  }

  CommandResult fetch(const std::string& id, const fs::path& out, const std::string& node_url = "") {
    std::vector<std::string> args = {"model", "fetch", id, "--out", out.string(), "--from", "dev"};
    if (node_url.empty()) return node_.cli(args);
    std::vector<std::string> argv = {automata_path(), "--node", node_url, "--keyring-dir",
                                     node_.keyring_dir().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }

  DevNode node_;
  std::string dev_address_;
};

TEST_F(ModelFetchTest, RegisterUploadFetch) {
  json summary = register_model({"--name", "silero-vad", "--royalty-bps", "150", "--burnable"});
  const std::string id = summary.value("id", std::string());
  ASSERT_EQ(id.size(), 64u) << summary.dump();
  EXPECT_EQ(summary["code"], 0) << summary.dump();
  EXPECT_EQ(summary["upload"]["sent"], summary["fragment_count"]) << summary.dump();
  EXPECT_FALSE(fs::exists(spool_dir(id))) << "the spool stays after a complete upload";

  // What model_get reports matches the file, the header and the options.
  const std::string file = read_all(kModelPath);
  json response = node_.rpc("model_get", {{"id", id}});
  ASSERT_TRUE(response.contains("result")) << response.dump();
  const json& model = response["result"];
  EXPECT_EQ(model["type"], "model.nft");
  EXPECT_EQ(model["name"], "silero-vad");
  EXPECT_EQ(model["format"], "onnx");
  EXPECT_EQ(model["license"], "MIT");
  EXPECT_EQ(model["royalty_bps"], 150);
  EXPECT_EQ(model["owner"], dev_address_);
  EXPECT_EQ(model["creator"], dev_address_);
  EXPECT_EQ(model["flags"]["burnable"], true);
  EXPECT_EQ(model["flags"]["transferable"], true);
  EXPECT_EQ(model["flags"]["mutable"], false);
  EXPECT_EQ(model["manifest"]["total_size"], file.size());
  EXPECT_EQ(model["manifest"]["fragment_size"], kFragmentSize);
  EXPECT_EQ(model["manifest"]["fragment_count"], (file.size() + kFragmentSize - 1) / kFragmentSize);
  EXPECT_EQ(model["manifest"]["plaintext_sha256"], kModelSha256);
  ASSERT_EQ(model["envelopes"].size(), 1u);
  EXPECT_EQ(model["envelopes"][0]["recipient"], dev_address_);

  // The node is the only storage node: it attests its fragments in a tx of
  // its own, so availability follows the upload by a block or two.
  bool available = false;
  for (int attempt = 0; attempt < 300 && !available; ++attempt) {
    json current = node_.rpc("model_get", {{"id", id}});
    available = current.contains("result") && current["result"].value("available", false);
    if (!available) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(available) << "model " << id << " is not available 30 s after its upload";

  // The metadata is what the header parser reads from the file. The
  // producer name is also a plain string in the file.
  std::string format;
  v1::ModelMetadata metadata;
  ASSERT_TRUE(modelfmt::inspect_file(kModelPath, &format, &metadata).is_ok());
  EXPECT_EQ(model["metadata"]["parameter_count"], metadata.parameter_count());
  EXPECT_EQ(model["metadata"]["tensor_count"], metadata.tensor_count());
  EXPECT_EQ(model["metadata"]["ir_version"], metadata.ir_version());
  EXPECT_EQ(model["metadata"]["opsets"].size(), static_cast<size_t>(metadata.opsets_size()));
  EXPECT_EQ(model["metadata"]["inputs"].size(), static_cast<size_t>(metadata.inputs_size()));
  EXPECT_EQ(model["metadata"]["producer_name"], "pytorch");
  EXPECT_NE(file.find("pytorch"), std::string::npos);
  EXPECT_GT(metadata.parameter_count(), 0u);

  const fs::path out = node_.root() / "fetched.onnx";
  CommandResult fetched = fetch(id, out);
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_TRUE(read_all(out) == file) << "the fetched file differs from " << kModelPath;
  EXPECT_EQ(to_hex(crypto::sha256(as_view(read_all(out)))), kModelSha256);

  CommandResult shown = node_.cli({"model", "show", id});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("format: onnx"), std::string::npos) << shown.out;
  CommandResult listed = node_.cli({"--output", "json", "model", "list", "--owner", "dev"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  json models = json::parse(listed.out)["models"];
  ASSERT_EQ(models.size(), 1u) << listed.out;
  EXPECT_EQ(models[0]["id"], id);
}

TEST_F(ModelFetchTest, UploadResumesAfterHalf) {
  json summary = register_model({"--no-upload", "--wait"});
  const std::string id = summary.value("id", std::string());
  ASSERT_EQ(id.size(), 64u) << summary.dump();
  cli::ModelSpool spool;
  ASSERT_TRUE(cli::load_spool(spool_dir(id).string(), &spool).is_ok());
  ASSERT_GT(spool.fragment_count(), 2u);

  // Upload the first half by hand, as an interrupted upload leaves it.
  const uint64_t half = spool.fragment_count() / 2;
  for (uint64_t index = 0; index < half; ++index) {
    json put = put_fragment(spool, index, /*flip_byte=*/false);
    ASSERT_TRUE(put.contains("result")) << put.dump();
    EXPECT_EQ(put["result"]["stored"], true) << index;
  }

  CommandResult upload = node_.cli({"--output", "json", "model", "upload", id});
  ASSERT_EQ(upload.exit_code, 0) << upload.err;
  json report = json::parse(upload.out);
  EXPECT_EQ(report["already_held"], half) << upload.out;
  EXPECT_EQ(report["sent"], spool.fragment_count() - half) << upload.out;
  EXPECT_FALSE(fs::exists(spool_dir(id)));

  json held = node_.rpc("model_fragments_held", {{"id", id}});
  ASSERT_TRUE(held.contains("result")) << held.dump();
  EXPECT_EQ(held["result"]["held"].size(), spool.fragment_count());

  const fs::path out = node_.root() / "resumed.onnx";
  CommandResult fetched = fetch(id, out);
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_TRUE(read_all(out) == read_all(kModelPath));
}

TEST_F(ModelFetchTest, TamperedUploadRejected) {
  json summary = register_model({"--no-upload", "--wait"});
  const std::string id = summary.value("id", std::string());
  ASSERT_EQ(id.size(), 64u) << summary.dump();
  cli::ModelSpool spool;
  ASSERT_TRUE(cli::load_spool(spool_dir(id).string(), &spool).is_ok());

  json put = put_fragment(spool, 1, /*flip_byte=*/true);
  ASSERT_TRUE(put.contains("error")) << put.dump();
  json held = node_.rpc("model_fragments_held", {{"id", id}});
  EXPECT_TRUE(held["result"]["held"].empty()) << held.dump();

  // The untouched spool still uploads in full.
  CommandResult upload = node_.cli({"model", "upload", id});
  EXPECT_EQ(upload.exit_code, 0) << upload.err;
}

TEST_F(ModelFetchTest, TamperedFetchRejected) {
  json summary = register_model({});
  const std::string id = summary.value("id", std::string());
  ASSERT_EQ(id.size(), 64u) << summary.dump();

  // A proxy in front of the node that flips one byte of fragment 3.
  const int port = node_.port();
  cli::testing::FakeHttpServer proxy([port](const std::string& method, const std::string& target,
                                            const std::string& body) {
    HttpReply reply = http_request(port, method, target, body);
    json request = json::parse(body, nullptr, false);
    json response = json::parse(reply.body, nullptr, false);
    if (request.is_object() && request.value("method", "") == "model_fragment" &&
        request["params"].value("index", 0) == 3 && response.contains("result")) {
      std::string data;
      EXPECT_TRUE(cli::decode_base64(response["result"]["data"].get<std::string>(), &data));
      data[data.size() / 3] ^= 0x04;
      response["result"]["data"] = base64(as_view(data));
      return cli::testing::FakeResponse{static_cast<unsigned>(reply.status), response.dump()};
    }
    return cli::testing::FakeResponse{static_cast<unsigned>(reply.status), reply.body};
  });

  const fs::path out = node_.root() / "tampered.onnx";
  CommandResult fetched = fetch(id, out, proxy.url());
  EXPECT_EQ(fetched.exit_code, 1);
  EXPECT_NE(fetched.err.find("fragment 3 of model " + id), std::string::npos) << fetched.err;
  EXPECT_FALSE(fs::exists(out)) << "a rejected fetch leaves its output file";
}

TEST_F(ModelFetchTest, StrangerHasNoKey) {
  json summary = register_model({});
  const std::string id = summary.value("id", std::string());
  ASSERT_EQ(id.size(), 64u) << summary.dump();
  CommandResult added = node_.cli({"--no-passphrase", "keys", "add", "stranger"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  CommandResult shown = node_.cli({"--output", "json", "keys", "show", "stranger"});
  std::string stranger = json::parse(shown.out).value("address", std::string());

  CommandResult fetched = node_.cli({"model", "fetch", id, "--out", (node_.root() / "x").string(), "--from",
                                     "stranger"});
  EXPECT_EQ(fetched.exit_code, 1);
  EXPECT_NE(fetched.err.find("no key for this model: " + stranger + " holds no key envelope for model " + id),
            std::string::npos)
      << fetched.err;
}

}  // namespace
}  // namespace automata::e2e
