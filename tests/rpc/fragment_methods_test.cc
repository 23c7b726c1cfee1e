// The model_fragment* JSON-RPC methods through the real Handler, with a
// FragmentService written here that keeps fragments in a map.
#include "automata/crypto/bech32.h"
#include "automata/rpc/fragment_service.h"
#include "rpc_fixture.h"

#include <map>

namespace automata::rpc::testing {
namespace {

class MapFragmentService final : public FragmentService {
 public:
  Status fragment(const Hash32& model, uint64_t index, FragmentReply* out) override {
    if (model != known) return Status::not_found("model " + to_hex(model) + " not found");
    auto it = fragments.find(index);
    if (it == fragments.end()) return Status::not_found("fragment " + std::to_string(index) + " is not held");
    *out = it->second;
    return Status::ok();
  }
  Status put_fragment(const Hash32& model, uint64_t index, Bytes data, std::vector<Hash32> proof,
                      bool* stored) override {
    if (model != known) return Status::not_found("model " + to_hex(model) + " not found");
    if (index >= 4) return Status::invalid_argument("fragment " + std::to_string(index) + ": index past the end");
    *stored = fragments.count(index) == 0;
    if (*stored) fragments[index] = FragmentReply{std::move(data), std::move(proof), Hash32{}, 4};
    return Status::ok();
  }
  Status held(const Hash32& model, uint64_t* count, std::vector<uint32_t>* indices) override {
    if (model != known) return Status::not_found("model " + to_hex(model) + " not found");
    *count = 4;
    indices->clear();
    for (const auto& [index, fragment] : fragments) indices->push_back(static_cast<uint32_t>(index));
    return Status::ok();
  }
  Status placement(const Hash32& model, PlacementReport* out) override {
    if (model != known) return Status::not_found("model " + to_hex(model) + " not found");
    out->epoch = 3;
    out->replication = 2;
    out->available = false;
    out->fragments = {FragmentPlacement{0, {holder_a, holder_b}, {holder_b}}};
    return Status::ok();
  }

  Hash32 known{};
  Address holder_a{};
  Address holder_b{};
  std::map<uint64_t, FragmentReply> fragments;
};

class FragmentMethodsTest : public RpcServerTest {
 protected:
  void SetUp() override {
    RpcServerTest::SetUp();
    service_.known.fill(0x77);
    service_.holder_a.fill(0x0A);
    service_.holder_b.fill(0x0B);
    NodeInfo info;
    info.fragments = &service_;
    // A handler of its own: the fixture's server keeps using handler_.
    fragment_handler_ = std::make_unique<Handler>(chain_.get(), mempool_.get(), info, &metrics_);
  }

  void TearDown() override {
    fragment_handler_.reset();
    RpcServerTest::TearDown();
  }

  json run(const std::string& method, json params) {
    json request = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
    return json::parse(fragment_handler_->handle(request.dump()));
  }

  std::string id_hex() const { return to_hex(service_.known); }

  MapFragmentService service_;
  std::unique_ptr<Handler> fragment_handler_;
};

TEST_F(FragmentMethodsTest, PutThenGetRoundTrip) {
  // "AAEC/w==" is base64 of 00 01 02 ff.
  std::string proof_hash(64, 'c');
  json put = run("model_fragment_put", {{"id", id_hex()}, {"index", 2}, {"data", "AAEC/w=="}, {"proof", {proof_hash}}});
  ASSERT_TRUE(put.contains("result")) << put.dump();
  EXPECT_EQ(put["result"]["index"], 2);
  EXPECT_EQ(put["result"]["stored"], true);
  EXPECT_EQ(service_.fragments.at(2).data, (Bytes{0x00, 0x01, 0x02, 0xFF}));

  json again = run("model_fragment_put", {{"id", id_hex()}, {"index", 2}, {"data", "AAEC/w=="}, {"proof", json::array()}});
  EXPECT_EQ(again["result"]["stored"], false);

  json get = run("model_fragment", {{"id", id_hex()}, {"index", 2}});
  ASSERT_TRUE(get.contains("result")) << get.dump();
  EXPECT_EQ(get["result"]["data"], "AAEC/w==");
  EXPECT_EQ(get["result"]["proof"], json::array({proof_hash}));
  EXPECT_EQ(get["result"]["count"], 4);
  EXPECT_EQ(get["result"]["id"], id_hex());
}

TEST_F(FragmentMethodsTest, HeldAndPlacementShapes) {
  service_.fragments[1] = FragmentReply{};
  service_.fragments[3] = FragmentReply{};
  json held = run("model_fragments_held", {{"id", id_hex()}});
  EXPECT_EQ(held["result"]["held"], json::array({1, 3}));
  EXPECT_EQ(held["result"]["count"], 4);

  json placement = run("model_placement", {{"id", id_hex()}});
  ASSERT_TRUE(placement.contains("result")) << placement.dump();
  EXPECT_EQ(placement["result"]["epoch"], 3);
  EXPECT_EQ(placement["result"]["replication"], 2);
  EXPECT_EQ(placement["result"]["available"], false);
  const json& fragment = placement["result"]["fragments"][0];
  EXPECT_EQ(fragment["holders"], json::array({crypto::encode_address(service_.holder_a),
                                              crypto::encode_address(service_.holder_b)}));
  EXPECT_EQ(fragment["attested"], json::array({crypto::encode_address(service_.holder_b)}));
}

TEST_F(FragmentMethodsTest, BadParamsNameTheParameter) {
  struct Case {
    std::string method;
    json params;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"model_fragment_put", {{"id", id_hex()}, {"index", 0}, {"data", "not base64!"}, {"proof", json::array()}},
       "params.data"},
      {"model_fragment_put", {{"id", id_hex()}, {"index", 0}, {"data", 12}, {"proof", json::array()}}, "params.data"},
      {"model_fragment_put", {{"id", id_hex()}, {"index", 0}, {"proof", json::array()}}, "params.data"},
      {"model_fragment_put", {{"id", id_hex()}, {"index", 0}, {"data", "AA=="}, {"proof", {"abcd"}}}, "params.proof[0]"},
      {"model_fragment_put", {{"id", id_hex()}, {"index", 0}, {"data", "AA=="}, {"proof", "x"}}, "params.proof"},
      {"model_fragment_put", {{"id", id_hex()}, {"index", 9}, {"data", "AA=="}, {"proof", json::array()}},
       "fragment 9: index past the end"},
      {"model_fragment", {{"id", id_hex()}}, "params.index"},
      {"model_fragment", {{"id", "zz"}, {"index", 0}}, "params.id"},
      {"model_fragments_held", {{"id", id_hex()}, {"extra", 1}}, "extra"},
  };
  for (const auto& c : cases) {
    json response = run(c.method, c.params);
    ASSERT_TRUE(response.contains("error")) << c.method << " " << c.params.dump();
    EXPECT_EQ(response["error"]["code"], kInvalidParams) << response.dump();
    EXPECT_NE(response["error"]["message"].get<std::string>().find(c.expected), std::string::npos) << response.dump();
  }
}

TEST_F(FragmentMethodsTest, UnknownModelIsNotFound) {
  json response = run("model_fragments_held", {{"id", std::string(64, '1')}});
  ASSERT_TRUE(response.contains("error")) << response.dump();
  EXPECT_EQ(response["error"]["code"], kNotFound);
}

TEST_F(FragmentMethodsTest, NodeWithoutStoreReturnsInternalError) {
  NodeInfo info;
  Handler handler(chain_.get(), mempool_.get(), info, &metrics_);
  json request = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "model_fragment"}, {"params", {{"id", id_hex()}, {"index", 0}}}};
  json response = json::parse(handler.handle(request.dump()));
  EXPECT_EQ(response["error"]["code"], kInternalError);
  EXPECT_NE(response["error"]["message"].get<std::string>().find("without a fragment store"), std::string::npos);
}

}  // namespace
}  // namespace automata::rpc::testing
