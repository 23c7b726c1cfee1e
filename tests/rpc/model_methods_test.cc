// The model JSON-RPC methods (model_get, model_list, model_lineage), through
// Handler::handle against a real chain with models registered by real txs
// carrying real ECIES envelopes.
#include "../execution/code_fixture.h"
#include "automata/crypto/bech32.h"
#include "automata/crypto/ecies.h"
#include "automata/crypto/model_content.h"
#include "automata/mempool/mempool.h"
#include "automata/rpc/handler.h"
#include "automata/rpc/metrics.h"
#include "automata/v1/model.pb.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace automata::rpc {
namespace {

using execution::ResultCode;
using execution::testing::CodeChain;
using execution::testing::Files;
using execution::testing::Outcome;
using execution::testing::TestKey;
using nlohmann::json;
namespace t = execution::testing;

std::string hex(const std::string& raw) { return to_hex(as_view(raw)); }

const Bytes kContentKey(32, 0x42);
const Files kFiles = {{"src/a.cc", "alpha\n"}};

v1::KeyEnvelope envelope_for(const TestKey& key, const std::string& model_id) {
  crypto::SealedKey sealed = crypto::ecies_seal(key.pubkey, kContentKey, as_view(model_id));
  v1::KeyEnvelope out;
  out.set_recipient(t::raw(key.address));
  out.set_ephemeral_pubkey(std::string(sealed.ephemeral_pubkey.begin(), sealed.ephemeral_pubkey.end()));
  out.set_sealed_key(to_string(sealed.sealed));
  return out;
}

class ModelMethodsTest : public ::testing::Test {
 protected:
  ModelMethodsTest()
      : mempool_(&chain_.base().chain(), mempool::MempoolConfig{}),
        handler_(&chain_.base().chain(), &mempool_, node_info(), &metrics_) {}

  static NodeInfo node_info() {
    NodeInfo info;
    info.version = "test";
    info.min_gas_price = 1;
    return info;
  }

  json call(const std::string& method, const json& params) {
    json request = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
    return json::parse(handler_.handle(request.dump()));
  }

  json result(const std::string& method, const json& params) {
    json reply = call(method, params);
    EXPECT_TRUE(reply.contains("result")) << method << ": " << reply.dump();
    return reply.value("result", json());
  }

  void expect_error(const std::string& method, const json& params, int code, const std::string& part) {
    json reply = call(method, params);
    ASSERT_TRUE(reply.contains("error")) << method << ": " << reply.dump();
    EXPECT_EQ(reply["error"]["code"], code) << reply.dump();
    EXPECT_NE(reply["error"]["message"].get<std::string>().find(part), std::string::npos) << reply.dump();
  }

  std::string address(size_t i) { return crypto::encode_address(chain_.address(i)); }

  // A register op from key i with metadata, a 3 MiB manifest and the
  // owner's envelope, for the id its next tx mints at op 0.
  v1::Op register_op(size_t i, const std::string& name, const std::vector<std::string>& bases, uint32_t royalty_bps) {
    Hash32 id = crypto::derive_model_id(chain_.address(i), chain_.base().account(chain_.address(i)).nonce(), 0);
    v1::Op op;
    v1::ModelRegister* reg = op.mutable_model_register();
    reg->set_name(name);
    reg->set_format("onnx");
    reg->set_license("mit");
    for (const std::string& base : bases) reg->add_base_models(base);
    reg->set_royalty_bps(royalty_bps);
    reg->mutable_flags()->set_transferable(true);
    reg->mutable_flags()->set_burnable(false);
    reg->mutable_flags()->set_mutable_(true);

    v1::ModelMetadata* metadata = reg->mutable_metadata();
    metadata->set_parameter_count(1'234);
    metadata->set_tensor_count(7);
    metadata->set_ir_version(8);
    v1::OpsetImport* opset = metadata->add_opsets();
    opset->set_domain("");
    opset->set_version(17);
    metadata->set_producer_name("pytorch");
    metadata->set_producer_version("2.1");
    v1::TensorInfo* input = metadata->add_inputs();
    input->set_name("input");
    input->set_elem_type("float");
    input->add_dims("batch");
    input->add_dims("512");
    v1::TensorInfo* output = metadata->add_outputs();
    output->set_name("logits");
    output->set_elem_type("float");
    output->add_dims("2");

    v1::ModelManifest* manifest = reg->mutable_manifest();
    manifest->set_fragment_size(1024 * 1024);
    manifest->set_total_size(3 * 1024 * 1024 - 5);
    manifest->set_fragment_count(3);
    manifest->set_fragments_root(std::string(32, 'r'));
    manifest->set_plaintext_sha256(std::string(32, 'p'));
    manifest->set_cipher_suite(std::string(crypto::kModelCipherSuite));
    *reg->mutable_owner_envelope() = envelope_for(chain_.key(i), std::string(id.begin(), id.end()));
    return op;
  }

  std::string register_model(size_t i, const std::string& name, const std::vector<std::string>& bases = {},
                             uint32_t royalty_bps = 0) {
    Outcome outcome = chain_.run(i, {register_op(i, name, bases, royalty_bps)});
    EXPECT_EQ(outcome.code, ResultCode::kOk) << outcome.log;
    return outcome.created("model");
  }

  v1::Op transfer_op(const std::string& id, size_t to) {
    v1::Op op;
    op.mutable_model_transfer()->set_model_id(id);
    op.mutable_model_transfer()->set_to(t::raw(chain_.address(to)));
    *op.mutable_model_transfer()->mutable_new_owner_envelope() = envelope_for(chain_.key(to), id);
    return op;
  }

  v1::Op lease_op(const std::string& id, size_t grantee, uint64_t expiry) {
    v1::Op op;
    op.mutable_model_lease()->set_model_id(id);
    op.mutable_model_lease()->set_grantee(t::raw(chain_.address(grantee)));
    op.mutable_model_lease()->set_expiry_height(expiry);
    *op.mutable_model_lease()->mutable_envelope() = envelope_for(chain_.key(grantee), id);
    return op;
  }

  // Ids of a model_list page.
  static std::vector<std::string> ids_of(const json& page) {
    std::vector<std::string> out;
    for (const json& model : page["models"]) out.push_back(model["id"].get<std::string>());
    return out;
  }

  static std::vector<std::string> sorted_hex(std::vector<std::string> raw_ids) {
    std::vector<std::string> out;
    for (const std::string& id : raw_ids) out.push_back(hex(id));
    std::sort(out.begin(), out.end());
    return out;
  }

  CodeChain chain_;
  mempool::Mempool mempool_;
  Metrics metrics_;
  Handler handler_;
};

TEST_F(ModelMethodsTest, ModelGetReturnsModel) {
  std::string base = register_model(3, "base");
  std::string id = register_model(0, "tiny-llm", {base}, 250);
  uint64_t registered_at = chain_.height();
  uint64_t expiry = chain_.height() + 100;
  ASSERT_EQ(chain_.run(0, {lease_op(id, 2, expiry)}).code, ResultCode::kOk);

  json model = result("model_get", {{"id", hex(id)}});
  EXPECT_EQ(model["id"], hex(id));
  EXPECT_EQ(model["type"], "model.nft");
  EXPECT_EQ(model["owner"], address(0));
  EXPECT_EQ(model["creator"], address(0));
  EXPECT_EQ(model["name"], "tiny-llm");
  EXPECT_EQ(model["format"], "onnx");
  EXPECT_EQ(model["license"], "mit");
  EXPECT_EQ(model["base_models"], json::array({hex(base)}));
  EXPECT_EQ(model["royalty_bps"], 250);
  EXPECT_EQ(model["flags"]["transferable"], true);
  EXPECT_EQ(model["flags"]["burnable"], false);
  EXPECT_EQ(model["flags"]["mutable"], true);

  const json& metadata = model["metadata"];
  EXPECT_EQ(metadata["parameter_count"], 1'234);
  EXPECT_EQ(metadata["tensor_count"], 7);
  EXPECT_EQ(metadata["ir_version"], 8);
  ASSERT_EQ(metadata["opsets"].size(), 1u);
  EXPECT_EQ(metadata["opsets"][0]["domain"], "");
  EXPECT_EQ(metadata["opsets"][0]["version"], 17);
  EXPECT_EQ(metadata["producer_name"], "pytorch");
  EXPECT_EQ(metadata["producer_version"], "2.1");
  ASSERT_EQ(metadata["inputs"].size(), 1u);
  EXPECT_EQ(metadata["inputs"][0]["name"], "input");
  EXPECT_EQ(metadata["inputs"][0]["elem_type"], "float");
  EXPECT_EQ(metadata["inputs"][0]["dims"], json::array({"batch", "512"}));
  ASSERT_EQ(metadata["outputs"].size(), 1u);
  EXPECT_EQ(metadata["outputs"][0]["name"], "logits");
  EXPECT_EQ(metadata["dtypes"], json::array());
  EXPECT_EQ(metadata["gguf_version"], 0);

  const json& manifest = model["manifest"];
  EXPECT_EQ(manifest["fragment_size"], 1024 * 1024);
  EXPECT_EQ(manifest["fragment_count"], 3);
  EXPECT_EQ(manifest["total_size"], 3 * 1024 * 1024 - 5);
  EXPECT_EQ(manifest["fragments_root"], hex(std::string(32, 'r')));
  EXPECT_EQ(manifest["plaintext_sha256"], hex(std::string(32, 'p')));
  EXPECT_EQ(manifest["cipher_suite"], std::string(crypto::kModelCipherSuite));

  // The stored envelopes, sorted by recipient, with their key material.
  v1::ModelNft stored;
  ASSERT_TRUE(stored.ParseFromString(chain_.object(id).body()));
  ASSERT_EQ(model["envelopes"].size(), 2u);
  ASSERT_EQ(stored.envelopes_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const json& envelope = model["envelopes"][static_cast<size_t>(i)];
    EXPECT_EQ(envelope["recipient"], crypto::encode_address(*to_array<20>(as_view(stored.envelopes(i).recipient()))));
    EXPECT_EQ(envelope["ephemeral_pubkey"], hex(stored.envelopes(i).ephemeral_pubkey()));
    EXPECT_EQ(envelope["sealed_key"], hex(stored.envelopes(i).sealed_key()));
    EXPECT_EQ(envelope["ephemeral_pubkey"].get<std::string>().size(), 66u);
    EXPECT_EQ(envelope["sealed_key"].get<std::string>().size(), 96u);
  }
  std::set<std::string> recipients = {model["envelopes"][0]["recipient"], model["envelopes"][1]["recipient"]};
  EXPECT_EQ(recipients, (std::set<std::string>{address(0), address(2)}));

  ASSERT_EQ(model["leases"].size(), 1u);
  EXPECT_EQ(model["leases"][0]["grantee"], address(2));
  EXPECT_EQ(model["leases"][0]["expiry_height"], expiry);
  EXPECT_EQ(model["epoch"], 0);
  EXPECT_EQ(model["available"], false);
  EXPECT_TRUE(model["key_pending_from"].is_null());
  EXPECT_EQ(model["created_height"], registered_at);
  EXPECT_EQ(model["updated_height"], chain_.height());
}

TEST_F(ModelMethodsTest, ModelGetShowsSaleAndPastHeight) {
  std::string id = register_model(0, "sold");
  uint64_t before_sale = chain_.height();
  Outcome offer = chain_.run(0, {t::offer_op(id, "gold", 1'000)});
  ASSERT_EQ(offer.code, ResultCode::kOk) << offer.log;
  Outcome accept = chain_.run(1, {t::accept_op(offer.created("offer"))});
  ASSERT_EQ(accept.code, ResultCode::kOk) << accept.log;

  json model = result("model_get", {{"id", hex(id)}});
  EXPECT_EQ(model["owner"], address(1));
  EXPECT_EQ(model["creator"], address(0));
  EXPECT_EQ(model["key_pending_from"], address(0));
  EXPECT_EQ(model["epoch"], 1);
  // The buyer has no envelope until the seller delivers it, and the seller
  // keeps its own until then.
  ASSERT_EQ(model["envelopes"].size(), 1u) << model.dump();
  EXPECT_EQ(model["envelopes"][0]["recipient"], address(0));

  json old = result("model_get", {{"id", hex(id)}, {"height", before_sale}});
  EXPECT_EQ(old["owner"], address(0));
  EXPECT_TRUE(old["key_pending_from"].is_null());
  EXPECT_EQ(old["epoch"], 0);
  ASSERT_EQ(old["envelopes"].size(), 1u);
  EXPECT_EQ(old["envelopes"][0]["recipient"], address(0));
}

TEST_F(ModelMethodsTest, ModelGetRejectsBadParams) {
  std::string code_asset = chain_.publish(0, "lib", kFiles);
  std::string unknown(32, 'u');

  expect_error("model_get", json::object(), kInvalidParams, "params.id: missing required parameter");
  expect_error("model_get", {{"id", 42}}, kInvalidParams, "params.id: expected a hex string, got number");
  expect_error("model_get", {{"id", "zz"}}, kInvalidParams, "params.id: expected hex digits");
  expect_error("model_get", {{"id", "abcd"}}, kInvalidParams, "params.id: expected 32 bytes (64 hex digits), got 2");
  expect_error("model_get", {{"id", hex(unknown)}, {"height", "1"}}, kInvalidParams,
               "params.height: expected a non-negative integer, got string");
  expect_error("model_get", {{"id", hex(unknown)}, {"owner", address(0)}}, kInvalidParams,
               "params.owner: unknown parameter for model_get");
  expect_error("model_get", {{"id", hex(unknown)}}, kNotFound, "model " + hex(unknown) + " not found");
  expect_error("model_get", {{"id", hex(code_asset)}}, kNotFound,
               "object " + hex(code_asset) + " is a code.repository, not a model");
}

TEST_F(ModelMethodsTest, ModelListByOwnerAndCreator) {
  std::vector<std::string> by_zero = {register_model(0, "a"), register_model(0, "b"), register_model(0, "c")};
  std::vector<std::string> by_one = {register_model(1, "d"), register_model(1, "e")};
  // The owner index of key 0 also lists a code asset, which model_list skips.
  chain_.publish(0, "lib", kFiles);
  ASSERT_EQ(chain_.run(0, {transfer_op(by_zero[2], 2)}).code, ResultCode::kOk);

  json owned = result("model_list", {{"owner", address(0)}});
  EXPECT_EQ(ids_of(owned), sorted_hex({by_zero[0], by_zero[1]}));
  EXPECT_TRUE(owned["next"].is_null());

  json created = result("model_list", {{"creator", address(0)}});
  EXPECT_EQ(ids_of(created), sorted_hex(by_zero));
  EXPECT_TRUE(created["next"].is_null());

  json transferred = result("model_list", {{"owner", address(2)}});
  ASSERT_EQ(ids_of(transferred), std::vector<std::string>{hex(by_zero[2])});
  const json& entry = transferred["models"][0];
  EXPECT_EQ(entry["name"], "c");
  EXPECT_EQ(entry["format"], "onnx");
  EXPECT_EQ(entry["owner"], address(2));
  EXPECT_EQ(entry["creator"], address(0));
  EXPECT_EQ(entry["total_size"], 3 * 1024 * 1024 - 5);
  EXPECT_EQ(entry["available"], false);

  EXPECT_EQ(ids_of(result("model_list", {{"creator", address(1)}})), sorted_hex(by_one));
  EXPECT_EQ(ids_of(result("model_list", {{"owner", address(3)}})), std::vector<std::string>{});

  std::vector<std::string> all = by_zero;
  all.insert(all.end(), by_one.begin(), by_one.end());
  EXPECT_EQ(ids_of(result("model_list", json::object())), sorted_hex(all));
}

TEST_F(ModelMethodsTest, ModelListPagesWithAfter) {
  std::vector<std::string> models;
  for (int i = 0; i < 5; ++i) {
    models.push_back(register_model(0, "m" + std::to_string(i)));
    // Code assets between the models interleave non-model entries in the
    // owner index.
    if (i % 2 == 0) chain_.publish(0, "lib" + std::to_string(i), kFiles);
  }
  std::vector<std::string> expected = sorted_hex(models);

  for (const json& filter : {json{{"owner", address(0)}}, json{{"creator", address(0)}}, json::object()}) {
    std::vector<std::string> seen;
    json params = filter;
    params["limit"] = 2;
    json page = result("model_list", params);
    int pages = 1;
    while (true) {
      std::vector<std::string> ids = ids_of(page);
      EXPECT_LE(ids.size(), 2u) << filter.dump();
      seen.insert(seen.end(), ids.begin(), ids.end());
      if (page["next"].is_null()) break;
      EXPECT_EQ(page["next"], ids.back()) << filter.dump();
      params["after"] = page["next"];
      page = result("model_list", params);
      ASSERT_LT(++pages, 10) << "paging does not end: " << filter.dump();
    }
    EXPECT_EQ(seen, expected) << filter.dump();
    EXPECT_EQ(pages, 3) << filter.dump();
  }

  // after past the last id: an empty page.
  json tail = result("model_list", {{"owner", address(0)}, {"after", expected.back()}});
  EXPECT_EQ(tail["models"], json::array());
  EXPECT_TRUE(tail["next"].is_null());
  // The maximum limit is accepted.
  EXPECT_EQ(ids_of(result("model_list", {{"creator", address(0)}, {"limit", 200}})), expected);
}

TEST_F(ModelMethodsTest, ModelListRejectsBadParams) {
  expect_error("model_list", {{"limit", 0}}, kInvalidParams, "params.limit: 0 is outside 1 to 200");
  expect_error("model_list", {{"limit", 201}}, kInvalidParams, "params.limit: 201 is outside 1 to 200");
  expect_error("model_list", {{"limit", -1}}, kInvalidParams,
               "params.limit: expected a non-negative integer, got negative number -1");
  expect_error("model_list", {{"owner", address(0)}, {"creator", address(0)}}, kInvalidParams,
               "at most one of owner or creator");
  expect_error("model_list", {{"owner", "atm1notanaddress"}}, kInvalidParams, "params.owner: invalid address");
  expect_error("model_list", {{"creator", 7}}, kInvalidParams,
               "params.creator: expected an atm1... address string, got number");
  expect_error("model_list", {{"after", "xyz"}}, kInvalidParams, "params.after: expected hex digits");
  expect_error("model_list", {{"after", "00"}}, kInvalidParams, "params.after: expected 32 bytes");
  expect_error("model_list", {{"cursor", "00"}}, kInvalidParams, "params.cursor: unknown parameter for model_list");
}

TEST_F(ModelMethodsTest, ModelLineageWalksBreadthFirst) {
  std::string code_asset = chain_.publish(3, "tokenizer", kFiles, 100);
  std::string a = register_model(0, "a", {code_asset}, 500);
  std::string b = register_model(1, "b", {a}, 300);
  std::string c = register_model(2, "c", {b}, 200);
  std::string d = register_model(0, "d", {c}, 100);
  std::string e = register_model(1, "e", {d}, 50);

  json lineage = result("model_lineage", {{"id", hex(b)}});
  EXPECT_EQ(lineage["id"], hex(b));
  ASSERT_EQ(lineage["ancestors"].size(), 2u) << lineage.dump();
  const json& parent = lineage["ancestors"][0];
  EXPECT_EQ(parent["id"], hex(a));
  EXPECT_EQ(parent["depth"], 1);
  EXPECT_EQ(parent["kind"], "model");
  EXPECT_EQ(parent["name"], "a");
  EXPECT_EQ(parent["creator"], address(0));
  EXPECT_EQ(parent["royalty_bps"], 500);
  const json& code = lineage["ancestors"][1];
  EXPECT_EQ(code["id"], hex(code_asset));
  EXPECT_EQ(code["depth"], 2);
  EXPECT_EQ(code["kind"], "code");
  EXPECT_EQ(code["name"], "tokenizer");
  EXPECT_EQ(code["creator"], address(3));
  EXPECT_EQ(code["royalty_bps"], 100);

  // The default depth is 4, so the code asset at depth 5 is left out.
  json deep = result("model_lineage", {{"id", hex(e)}});
  std::vector<std::pair<std::string, int>> walked;
  for (const json& ancestor : deep["ancestors"]) {
    walked.emplace_back(ancestor["id"].get<std::string>(), ancestor["depth"].get<int>());
  }
  std::vector<std::pair<std::string, int>> expected = {{hex(d), 1}, {hex(c), 2}, {hex(b), 3}, {hex(a), 4}};
  EXPECT_EQ(walked, expected);

  json shallow = result("model_lineage", {{"id", hex(e)}, {"depth", 2}});
  ASSERT_EQ(shallow["ancestors"].size(), 2u);
  EXPECT_EQ(shallow["ancestors"][0]["id"], hex(d));
  EXPECT_EQ(shallow["ancestors"][1]["id"], hex(c));

  EXPECT_EQ(result("model_lineage", {{"id", hex(a)}, {"depth", 1}})["ancestors"].size(), 1u);
  EXPECT_EQ(result("model_lineage", {{"id", hex(register_model(2, "root"))}})["ancestors"], json::array());
}

TEST_F(ModelMethodsTest, ModelLineageListsSharedAncestorOnce) {
  std::string a = register_model(0, "a");
  std::string b = register_model(1, "b", {a});
  std::string f = register_model(2, "f", {b, a});

  // Breadth first: b and a at depth 1, then a again through b, skipped.
  json lineage = result("model_lineage", {{"id", hex(f)}});
  ASSERT_EQ(lineage["ancestors"].size(), 2u) << lineage.dump();
  EXPECT_EQ(lineage["ancestors"][0]["id"], hex(b));
  EXPECT_EQ(lineage["ancestors"][0]["depth"], 1);
  EXPECT_EQ(lineage["ancestors"][1]["id"], hex(a));
  EXPECT_EQ(lineage["ancestors"][1]["depth"], 1);
}

TEST_F(ModelMethodsTest, ModelLineageRejectsBadParams) {
  std::string id = register_model(0, "a");
  expect_error("model_lineage", json::object(), kInvalidParams, "params.id: missing required parameter");
  expect_error("model_lineage", {{"id", true}}, kInvalidParams, "params.id: expected a hex string, got boolean");
  expect_error("model_lineage", {{"id", "0xgg"}}, kInvalidParams, "params.id: expected hex digits");
  expect_error("model_lineage", {{"id", hex(id)}, {"depth", 0}}, kInvalidParams,
               "params.depth: 0 is outside 1 to 4");
  expect_error("model_lineage", {{"id", hex(id)}, {"depth", 5}}, kInvalidParams,
               "params.depth: 5 is outside 1 to 4");
  expect_error("model_lineage", {{"id", hex(id)}, {"depth", "2"}}, kInvalidParams,
               "params.depth: expected a non-negative integer, got string");
  expect_error("model_lineage", {{"id", std::string(64, 'e')}}, kNotFound,
               "model " + std::string(64, 'e') + " not found");
}

}  // namespace
}  // namespace automata::rpc
