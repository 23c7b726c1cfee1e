// GET and PUT /v1/models/<id>/fragments/<index> against the real RPC server
// on 127.0.0.1, with a FragmentService written here that checks fragment
// size and Merkle audit paths with the real crypto::merkle functions.
#include "automata/crypto/merkle.h"
#include "automata/rpc/fragment_service.h"
#include "rpc_fixture.h"

#include <map>
#include <mutex>

namespace automata::rpc::testing {
namespace {

constexpr size_t kFragmentBytes = 1000;
constexpr uint64_t kFragmentCount = 4;

class CheckingFragmentService final : public FragmentService {
 public:
  CheckingFragmentService() {
    known.fill(0x42);
    for (uint64_t i = 0; i < kFragmentCount; ++i) {
      Bytes data(kFragmentBytes);
      for (size_t j = 0; j < data.size(); ++j) data[j] = static_cast<uint8_t>(i * 31 + j * 7);
      contents.push_back(data);
      leaves.push_back(crypto::merkle_leaf_hash(data));
    }
    root = crypto::merkle_root_from_leaves(leaves);
  }

  Status fragment(const Hash32& model, uint64_t index, FragmentReply* out) override {
    if (model != known) return Status::not_found("model " + to_hex(model) + " not found");
    std::lock_guard lock(mutex_);
    auto it = stored_.find(index);
    if (it == stored_.end()) return Status::not_found("fragment " + std::to_string(index) + " is not held");
    out->data = it->second;
    out->proof = crypto::merkle_inclusion_proof(leaves, index);
    out->root = root;
    out->count = kFragmentCount;
    return Status::ok();
  }

  Status put_fragment(const Hash32& model, uint64_t index, Bytes data, std::vector<Hash32> proof,
                      bool* stored) override {
    if (model != known) return Status::not_found("model " + to_hex(model) + " not found");
    if (index >= kFragmentCount) {
      return Status::invalid_argument("fragment " + std::to_string(index) +
                                      ": index must be below the fragment count 4");
    }
    if (data.size() != kFragmentBytes) {
      return Status::invalid_argument("fragment " + std::to_string(index) + ": size " + std::to_string(data.size()) +
                                      " must be 1000 bytes");
    }
    if (!crypto::merkle_verify_inclusion(crypto::merkle_leaf_hash(data), index, kFragmentCount, proof, root)) {
      return Status::invalid_argument("fragment " + std::to_string(index) +
                                      ": the proof does not lead to the fragments root");
    }
    std::lock_guard lock(mutex_);
    *stored = stored_.emplace(index, std::move(data)).second;
    return Status::ok();
  }

  Status held(const Hash32&, uint64_t*, std::vector<uint32_t>*) override { return Status::ok(); }
  Status placement(const Hash32&, PlacementReport*) override { return Status::ok(); }

  Hash32 known{};
  std::vector<Bytes> contents;
  std::vector<Hash32> leaves;
  Hash32 root{};

 private:
  std::mutex mutex_;
  std::map<uint64_t, Bytes> stored_;  // guarded by mutex_
};

struct RawReply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  std::string error_message() const { return json::parse(body)["error"]["message"].get<std::string>(); }
  int error_code() const { return json::parse(body)["error"]["code"].get<int>(); }
};

// One request on a new connection, with any method, headers and body.
RawReply send(uint16_t port, http::verb verb, const std::string& target, const std::string& body = "",
              const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(16u << 20);
  http::read(stream, buffer, parser);
  auto response = parser.release();
  RawReply reply;
  reply.status = response.result_int();
  for (const auto& field : response) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(field.value());
  }
  reply.body = response.body();
  return reply;
}

std::string join_hex(const std::vector<Hash32>& hashes) {
  std::string out;
  for (const Hash32& hash : hashes) out += (out.empty() ? "" : ",") + to_hex(hash);
  return out;
}

class FragmentHttpTest : public RpcServerTest {
 protected:
  void SetUp() override {
    RpcServerTest::SetUp();
    ServerConfig config;
    config.port = 0;
    config.max_body_bytes = kMaxBody;
    config.fragments = &service_;
    fragment_server_ = std::make_unique<Server>(config, handler_.get());
    Status started = fragment_server_->start();
    ASSERT_TRUE(started.is_ok()) << started.to_string();
  }

  void TearDown() override {
    fragment_server_.reset();
    RpcServerTest::TearDown();
  }

  std::string target(uint64_t index) const {
    return "/v1/models/" + to_hex(service_.known) + "/fragments/" + std::to_string(index);
  }

  RawReply put(uint64_t index, const Bytes& data, const std::vector<Hash32>& proof) {
    return send(fragment_server_->port(), http::verb::put, target(index), std::string(data.begin(), data.end()),
                {{"X-Automata-Proof", join_hex(proof)}});
  }

  CheckingFragmentService service_;
  std::unique_ptr<Server> fragment_server_;
};

TEST_F(FragmentHttpTest, PutThenGetRoundTrip) {
  const uint64_t index = 2;
  RawReply first = put(index, service_.contents[index], crypto::merkle_inclusion_proof(service_.leaves, index));
  ASSERT_EQ(first.status, 200u) << first.body;
  EXPECT_EQ(json::parse(first.body)["stored"], true);
  EXPECT_EQ(json::parse(first.body)["index"], index);

  RawReply again = put(index, service_.contents[index], crypto::merkle_inclusion_proof(service_.leaves, index));
  ASSERT_EQ(again.status, 200u) << again.body;
  EXPECT_EQ(json::parse(again.body)["stored"], false);

  RawReply got = send(fragment_server_->port(), http::verb::get, target(index));
  ASSERT_EQ(got.status, 200u) << got.body;
  EXPECT_EQ(got.header("content-type"), "application/octet-stream");
  EXPECT_TRUE(got.body == std::string(service_.contents[index].begin(), service_.contents[index].end()));
  EXPECT_EQ(got.header("x-automata-root"), to_hex(service_.root));
  EXPECT_EQ(got.header("x-automata-count"), "4");

  // The audit path in the header proves the body against the root.
  std::vector<Hash32> proof;
  std::string text = got.header("x-automata-proof");
  for (size_t position = 0; position < text.size(); position += 65) {
    auto bytes = from_hex(text.substr(position, 64));
    ASSERT_TRUE(bytes.has_value()) << text;
    proof.push_back(*to_array<32>(*bytes));
  }
  EXPECT_EQ(proof.size(), 2u);
  EXPECT_TRUE(crypto::merkle_verify_inclusion(crypto::merkle_leaf_hash(as_view(got.body)), index, kFragmentCount,
                                              proof, service_.root));
}

TEST_F(FragmentHttpTest, BadProofRejected) {
  RawReply reply = put(1, service_.contents[1], crypto::merkle_inclusion_proof(service_.leaves, 0));
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(reply.error_code(), kInvalidParams);
  EXPECT_NE(reply.error_message().find("proof does not lead"), std::string::npos) << reply.body;
}

TEST_F(FragmentHttpTest, MalformedProofHeaderRejected) {
  RawReply reply = send(fragment_server_->port(), http::verb::put, target(1), "data",
                        {{"X-Automata-Proof", to_hex(service_.root) + ",nothex"}});
  EXPECT_EQ(reply.status, 400u);
  EXPECT_NE(reply.error_message().find("X-Automata-Proof"), std::string::npos) << reply.body;
  EXPECT_NE(reply.error_message().find("\"nothex\""), std::string::npos) << reply.body;
}

TEST_F(FragmentHttpTest, WrongSizeRejected) {
  Bytes short_data(service_.contents[0].begin(), service_.contents[0].end() - 1);
  RawReply reply = put(0, short_data, crypto::merkle_inclusion_proof(service_.leaves, 0));
  EXPECT_EQ(reply.status, 400u);
  EXPECT_NE(reply.error_message().find("size 999"), std::string::npos) << reply.body;
}

TEST_F(FragmentHttpTest, IndexPastEndRejected) {
  RawReply reply = put(9, service_.contents[0], {});
  EXPECT_EQ(reply.status, 400u);
  EXPECT_NE(reply.error_message().find("below the fragment count"), std::string::npos) << reply.body;
}

TEST_F(FragmentHttpTest, UnknownModelNotFound) {
  Hash32 other{};
  other.fill(0x13);
  RawReply reply = send(fragment_server_->port(), http::verb::get, "/v1/models/" + to_hex(other) + "/fragments/0");
  EXPECT_EQ(reply.status, 404u);
  EXPECT_EQ(reply.error_code(), kNotFound);
  EXPECT_NE(reply.error_message().find(to_hex(other)), std::string::npos) << reply.body;
}

TEST_F(FragmentHttpTest, MissingFragmentNotFound) {
  RawReply reply = send(fragment_server_->port(), http::verb::get, target(3));
  EXPECT_EQ(reply.status, 404u);
  EXPECT_NE(reply.error_message().find("fragment 3"), std::string::npos) << reply.body;
}

TEST_F(FragmentHttpTest, BadIndexTextRejected) {
  const std::string base = "/v1/models/" + to_hex(service_.known) + "/fragments/";
  for (const std::string index : {"abc", "-1", "", "1x", "+2", "99999999999999999999"}) {
    RawReply reply = send(fragment_server_->port(), http::verb::get, base + index);
    EXPECT_EQ(reply.status, 400u) << index;
    EXPECT_NE(reply.error_message().find("fragment index \"" + index + "\""), std::string::npos) << reply.body;
  }
}

TEST_F(FragmentHttpTest, BadModelIdRejected) {
  RawReply reply = send(fragment_server_->port(), http::verb::get, "/v1/models/abcd/fragments/0");
  EXPECT_EQ(reply.status, 400u);
  EXPECT_NE(reply.error_message().find("model id \"abcd\""), std::string::npos) << reply.body;

  RawReply no_segment = send(fragment_server_->port(), http::verb::get, "/v1/models/" + to_hex(service_.known));
  EXPECT_EQ(no_segment.status, 400u);
  EXPECT_NE(no_segment.error_message().find("/fragments/<index>"), std::string::npos) << no_segment.body;
}

TEST_F(FragmentHttpTest, OversizedBodyRejected) {
  std::string body(kMaxBody + 1, 'x');
  RawReply reply = send(fragment_server_->port(), http::verb::put, target(0), body, {{"X-Automata-Proof", ""}});
  EXPECT_EQ(reply.status, 413u);
  EXPECT_NE(reply.error_message().find(std::to_string(kMaxBody)), std::string::npos) << reply.body;
}

TEST_F(FragmentHttpTest, OtherMethodRejected) {
  RawReply reply = send(fragment_server_->port(), http::verb::delete_, target(0));
  EXPECT_EQ(reply.status, 405u);
  EXPECT_NE(reply.error_message().find("DELETE"), std::string::npos) << reply.body;
}

TEST_F(FragmentHttpTest, AdvertisesRoutes) {
  RawReply health = send(fragment_server_->port(), http::verb::get, "/health");
  EXPECT_EQ(health.header("x-automata-fragment-path"), "/v1/models/{id}/fragments/{index}");
  // The fixture's server has no fragment service, so it neither advertises
  // nor serves the routes.
  RawReply plain = send(server_->port(), http::verb::get, "/health");
  EXPECT_EQ(plain.header("x-automata-fragment-path"), "");
  RawReply missing = send(server_->port(), http::verb::get, target(0));
  EXPECT_EQ(missing.status, 501u);
  EXPECT_NE(missing.error_message().find("no fragment store"), std::string::npos) << missing.body;
}

}  // namespace
}  // namespace automata::rpc::testing
