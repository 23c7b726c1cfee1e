#include "automata/rpc/handler.h"

#include "automata/crypto/bech32.h"
#include "automata/crypto/sha256.h"
#include "automata/execution/chain_query.h"
#include "automata/mempool/mempool.h"
#include "automata/rpc/metrics.h"
#include "automata/state/state_tree.h"
#include "automata/types/logging.h"
#include "automata/types/state_keys.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/state.pb.h"
#include "automata/v1/tx.pb.h"
#include "rpc/code_methods.h"
#include "rpc/fragment_methods.h"
#include "rpc/model_methods.h"
#include "rpc/encoding.h"
#include "rpc/params.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace automata::rpc {

using nlohmann::json;

namespace {

// One entry of a request body: its envelope, then its result or error.
struct Call {
  json id = nullptr;
  bool notification = false;
  std::string method;
  json params;
  std::optional<RpcError> error;
  json result;
};

json error_object(const RpcError& error) {
  json object = {{"code", error.code()}, {"message", error.what()}};
  if (!error.data().is_null()) object["data"] = error.data();
  return object;
}

json response_of(const Call& call) {
  json response = {{"jsonrpc", "2.0"}};
  if (call.error) {
    response["error"] = error_object(*call.error);
  } else {
    response["result"] = call.result;
  }
  response["id"] = call.id;
  return response;
}

// Checks the envelope of one request; sets call.error when it is invalid.
Call parse_call(const json& request) {
  Call call;
  if (!request.is_object()) {
    call.error.emplace(kInvalidRequest,
                       "request: expected a JSON-RPC 2.0 request object, got " + std::string(request.type_name()));
    return call;
  }
  auto id = request.find("id");
  if (id == request.end()) {
    call.notification = true;
  } else if (id->is_string() || id->is_number_integer() || id->is_number_unsigned() || id->is_null()) {
    call.id = *id;
  } else {
    call.error.emplace(kInvalidRequest,
                       "request.id: expected a string, an integer or null, got " + describe_json(*id));
    return call;
  }
  auto version = request.find("jsonrpc");
  if (version == request.end() || !version->is_string() || *version != "2.0") {
    call.error.emplace(kInvalidRequest, "request.jsonrpc: expected the string \"2.0\"");
    return call;
  }
  auto method = request.find("method");
  if (method == request.end() || !method->is_string()) {
    std::string got = method == request.end() ? "nothing" : describe_json(*method);
    call.error.emplace(kInvalidRequest, "request.method: expected a method name string, got " + got);
    return call;
  }
  call.method = method->get<std::string>();
  auto params = request.find("params");
  if (params != request.end()) call.params = *params;
  return call;
}

// Raises the JSON-RPC error for a failed chain read.
[[noreturn]] void raise_status(const Status& status) {
  if (status.is_not_found()) throw RpcError(kNotFound, status.message());
  throw RpcError(kInternalError, status.to_string());
}

void check(const Status& status) {
  if (!status.is_ok()) raise_status(status);
}

std::string hex_of(const std::string& raw) { return to_hex(as_view(raw)); }

// Serializes a response. Strings from stored data (a memo, a log) may hold
// invalid UTF-8, which is replaced rather than failing the response.
std::string serialize(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// JSON-RPC 2.0 sends no response to a notification, except that an entry
// whose envelope is invalid gets an error, because its id cannot be known.
bool answered(const Call& call) {
  return !call.notification || (call.error && call.error->code() == kInvalidRequest);
}

}  // namespace

Handler::Handler(const execution::ChainQuery* chain, mempool::Mempool* mempool, NodeInfo info, Metrics* metrics)
    : chain_(chain), mempool_(mempool), info_(std::move(info)), metrics_(metrics) {}

std::string Handler::error_body(int code, const std::string& message) {
  json response = {{"jsonrpc", "2.0"}, {"error", {{"code", code}, {"message", message}}}, {"id", nullptr}};
  return serialize(response);
}

std::string Handler::health() const {
  json body = {{"status", "ok"}, {"height", chain_->status().height}};
  return body.dump();
}

std::string Handler::metrics_text() const {
  Gauges gauges;
  gauges.block_height = chain_->status().height;
  gauges.mempool_txs = mempool_->size();
  gauges.mempool_bytes = mempool_->size_bytes();
  return metrics_->render(gauges);
}

namespace {

class Dispatcher {
 public:
  Dispatcher(const execution::ChainQuery* chain, mempool::Mempool* mempool, const NodeInfo& info, Metrics* metrics)
      : chain_(chain), mempool_(mempool), info_(info), metrics_(metrics) {}

  // Runs a tx_submit call whose tx arrived as raw bytes.
  void run_submit(Call& call, Bytes tx) {
    metrics_->count_request(call.method);
    const size_t tx_size = tx.size();
    std::vector<Call*> submits{&call};
    std::vector<Bytes> txs;
    txs.push_back(std::move(tx));
    submit(submits, std::move(txs));
    if (call.error && call.error->code() == kInternalError) {
      log_->error("{} of {} tx bytes failed: {}", call.method, tx_size, call.error->what());
    } else if (call.error) {
      log_->debug("{} rejected: {}", call.method, call.error->what());
    }
  }

  // Runs every valid call. All tx_submit calls go to one Mempool::add_batch,
  // so a batch of submissions takes the mempool lock once.
  void run(std::vector<Call>& calls) {
    std::vector<Call*> submits;
    std::vector<Bytes> txs;
    for (auto& call : calls) {
      if (call.error) continue;
      metrics_->count_request(call.method);
      if (call.method == "tx_submit") {
        try {
          Params params(call.params, "tx_submit", {"tx"});
          txs.push_back(params.required_hex("tx"));
          submits.push_back(&call);
        } catch (const RpcError& error) {
          call.error.emplace(error);
        }
        continue;
      }
      answer(call);
    }
    if (!txs.empty()) submit(submits, std::move(txs));

    for (const auto& call : calls) {
      if (call.error && call.error->code() == kInternalError) {
        log_->error("{} failed (id {}): {}", call.method.empty() ? "request" : call.method, call.id.dump(),
                    call.error->what());
      } else if (call.error) {
        log_->debug("{} rejected (id {}): {}", call.method.empty() ? "request" : call.method, call.id.dump(),
                    call.error->what());
      }
    }
  }

 private:
  void answer(Call& call) {
    try {
      call.result = dispatch(call.method, call.params);
    } catch (const RpcError& error) {
      call.error.emplace(error);
    } catch (const std::exception& error) {
      call.error.emplace(kInternalError, std::string("internal error: ") + error.what());
    }
  }

  json dispatch(const std::string& method, const json& params) {
    if (method == "node_status") return node_status(Params(params, method, {}));
    if (method == "evidence_list") return evidence_list(Params(params, method, {"height"}));
    if (method == "block_get") return block_get(Params(params, method, {"height", "hash"}));
    if (method == "tx_get") return tx_get(Params(params, method, {"hash"}));
    if (method == "account_get") return account_get(Params(params, method, {"address", "height"}));
    if (method == "state_proof") return state_proof(Params(params, method, {"address", "key", "height"}));
    if (is_code_method(method)) return code_method(*chain_, method, params);
    if (is_model_method(method)) return model_method(*chain_, method, params);
    if (is_fragment_method(method)) return fragment_method(info_.fragments, method, params);
    throw RpcError(kMethodNotFound, fmt::format("method not found: {}", method));
  }

  void submit(const std::vector<Call*>& submits, std::vector<Bytes> txs) {
    std::vector<mempool::AddResult> results;
    try {
      if (txs.size() == 1) {
        results.push_back(mempool_->add(std::move(txs[0])));
      } else {
        results = mempool_->add_batch(std::move(txs));
      }
    } catch (const std::exception& error) {
      for (Call* call : submits) call->error.emplace(kInternalError, std::string("internal error: ") + error.what());
      return;
    }
    if (results.size() != submits.size()) {
      for (Call* call : submits) {
        call->error.emplace(kInternalError, fmt::format("mempool returned {} results for {} transactions",
                                                        results.size(), submits.size()));
      }
      return;
    }
    for (size_t i = 0; i < submits.size(); ++i) {
      const auto& result = results[i];
      std::string hash = to_hex(result.hash);
      if (result.code == execution::ResultCode::kOk) {
        submits[i]->result = {{"hash", hash}, {"status", "pending"}};
        continue;
      }
      metrics_->count_rejected_tx(result.code);
      std::string name(execution::result_code_name(result.code));
      json data = {{"code", static_cast<uint32_t>(result.code)}, {"name", name}, {"log", result.log}, {"hash", hash}};
      submits[i]->error.emplace(kTxRejected, fmt::format("tx {} rejected: {}: {}", hash, name, result.log), data);
    }
  }

  json node_status(const Params&) {
    auto status = chain_->status();
    ConsensusSummary consensus;
    if (info_.consensus) consensus = info_.consensus();
    json peers = json::array();
    for (const auto& peer : consensus.peers) {
      peers.push_back({{"id", peer.id}, {"address", peer.address}, {"outbound", peer.outbound}});
    }
    return {
        {"chain_id", status.chain_id},
        {"version", info_.version},
        {"height", status.height},
        {"block_hash", to_hex(status.block_hash)},
        {"block_time_ms", status.block_time_ms},
        {"state_root", to_hex(status.state_root)},
        {"earliest_state_height", status.earliest_state_height},
        {"validator_address", crypto::encode_address(info_.validator_address)},
        {"min_gas_price", info_.min_gas_price},
        {"mempool_txs", mempool_->size()},
        {"mempool_bytes", mempool_->size_bytes()},
        {"catching_up", consensus.catching_up},
        {"peers", peers},
        {"consensus", {{"height", consensus.height}, {"round", consensus.round}, {"step", consensus.step}}},
        {"limits",
         {{"max_tx_bytes", info_.limits.max_tx_bytes},
          {"max_blob_bytes", info_.limits.max_blob_bytes},
          {"max_files_per_version", info_.limits.max_files_per_version},
          {"max_path_bytes", info_.limits.max_path_bytes}}},
    };
  }

  static json vote_json(const VoteSummary& vote) {
    return {{"type", vote.type},           {"height", vote.height},       {"round", vote.round},
            {"block_hash", vote.block_hash}, {"validator", vote.validator}, {"signature", vote.signature}};
  }

  json evidence_list(const Params& params) {
    auto height = params.optional_uint("height");
    json items = json::array();
    if (info_.evidence) {
      for (const auto& item : info_.evidence(height)) {
        items.push_back({{"height", item.height},
                         {"round", item.round},
                         {"type", item.type},
                         {"validator", item.validator},
                         {"vote_a", vote_json(item.vote_a)},
                         {"vote_b", vote_json(item.vote_b)},
                         {"included_height", item.included_height}});
      }
    }
    return {{"evidence", items}};
  }

  json block_get(const Params& params) {
    auto height = params.optional_uint("height");
    auto hash = params.optional_hash("hash");
    if (height && hash) throw RpcError(kInvalidParams, "params: pass either height or hash, not both");

    v1::Block block;
    if (hash) {
      check(chain_->block_by_hash(*hash, &block));
    } else {
      uint64_t requested = height ? *height : chain_->status().height;
      if (requested == 0) {
        throw RpcError(kNotFound, height ? "block at height 0 not found: the chain starts at height 1"
                                         : "no block committed yet (height 0)");
      }
      check(chain_->block_by_height(requested, &block));
    }

    v1::BlockHeader header;
    if (!header.ParseFromString(block.header_bytes())) {
      throw RpcError(kInternalError, "stored block header does not decode as automata.v1.BlockHeader");
    }
    v1::BlockResults results;
    check(chain_->block_results(header.height(), &results));
    return encode_block(block, results);
  }

  json tx_get(const Params& params) {
    Hash32 hash = params.required_hash("hash");
    std::string hash_hex = to_hex(hash);

    v1::TxLocation location;
    Status found = chain_->tx_location(hash, &location);
    if (found.is_not_found()) {
      if (mempool_->contains(hash)) return {{"hash", hash_hex}, {"status", "pending"}};
      throw RpcError(kNotFound, fmt::format("tx {} not found in committed blocks or the mempool", hash_hex));
    }
    check(found);

    v1::Block block;
    check(chain_->block_by_height(location.height(), &block));
    v1::BlockResults results;
    check(chain_->block_results(location.height(), &results));
    if (location.index() >= static_cast<uint32_t>(block.txs_size())) {
      throw RpcError(kInternalError, fmt::format("tx index {} is past the {} txs of block {}", location.index(),
                                                 block.txs_size(), location.height()));
    }
    v1::Tx tx;
    v1::TxBody body;
    if (!tx.ParseFromString(block.txs(static_cast<int>(location.index()))) || !body.ParseFromString(tx.body_bytes())) {
      throw RpcError(kInternalError,
                     fmt::format("stored tx {} at height {} does not decode", hash_hex, location.height()));
    }

    const v1::TxResult* result = nullptr;
    for (const auto& candidate : results.results()) {
      if (candidate.index() == location.index()) result = &candidate;
    }
    if (result == nullptr) {
      throw RpcError(kInternalError,
                     fmt::format("no result stored for tx {} at height {}", hash_hex, location.height()));
    }

    json out = encode_result(*result);
    out["hash"] = hash_hex;
    out["status"] = "committed";
    out["height"] = location.height();
    out["index"] = location.index();
    out["tx"] = encode_tx_body(body);
    out["created"] = encode_created(*result);
    return out;
  }

  json account_get(const Params& params) {
    Address address = params.required_address("address");
    auto height = params.optional_uint("height");
    v1::Account account;
    uint64_t at_height = 0;
    check(chain_->account(address, height, &account, &at_height));
    json out = {
        {"address", crypto::encode_address(address)},
        {"height", at_height},
        {"nonce", account.nonce()},
        {"pubkey", hex_of(account.pubkey())},
        {"balances", encode_balances(account)},
    };
    // The nonce for the account's next tx, past its txs waiting in the
    // mempool; only for the latest state, which those txs follow.
    if (!height) out["pending_nonce"] = std::max(account.nonce(), mempool_->pending_nonce(address).value_or(0));
    return out;
  }

  json state_proof(const Params& params) {
    if (params.has("address") == params.has("key")) {
      throw RpcError(kInvalidParams, "params: pass exactly one of address or key");
    }
    Bytes key = params.has("address") ? keys::account(params.required_address("address")) : params.required_hex("key");
    auto height = params.optional_uint("height");

    std::optional<Bytes> value;
    state::StateProof proof;
    uint64_t at_height = 0;
    check(chain_->state_proof(key, height, &value, &proof, &at_height));

    json siblings = json::array();
    for (const auto& sibling : proof.siblings) siblings.push_back(to_hex(sibling));
    json encoded_proof = {
        {"key_hash", to_hex(proof.key_hash)},
        {"leaf_key_hash", proof.leaf_key_hash ? json(to_hex(*proof.leaf_key_hash)) : json(nullptr)},
        {"leaf_value_hash", proof.leaf_value_hash ? json(to_hex(*proof.leaf_value_hash)) : json(nullptr)},
        {"siblings", siblings},
    };
    return {
        {"height", at_height},
        {"key", to_hex(key)},
        {"value", value ? json(to_hex(*value)) : json(nullptr)},
        {"exists", value.has_value()},
        {"root", to_hex(root_at(at_height))},
        {"proof", encoded_proof},
    };
  }

  // The state root after block `height`: from its header, or the chain
  // status for height 0 (genesis) while no block exists.
  Hash32 root_at(uint64_t height) {
    if (height == 0) {
      auto status = chain_->status();
      if (status.height == 0) return status.state_root;
      throw RpcError(kNotFound, "the genesis state root is not recorded in any block header; pass a height of 1 or more");
    }
    v1::Block block;
    check(chain_->block_by_height(height, &block));
    v1::BlockHeader header;
    auto root = header.ParseFromString(block.header_bytes()) ? to_array<32>(as_view(header.state_root())) : std::nullopt;
    if (!root) throw RpcError(kInternalError, fmt::format("block {} has no valid state root", height));
    return *root;
  }

  const execution::ChainQuery* chain_;
  mempool::Mempool* mempool_;
  const NodeInfo& info_;
  Metrics* metrics_;
  std::shared_ptr<spdlog::logger> log_ = logger("rpc");
};

}  // namespace

std::string Handler::submit_tx_bytes(std::string_view tx) {
  Call call;
  call.method = "tx_submit";
  if (tx.empty()) {
    call.error.emplace(kInvalidRequest, "invalid request: the body of POST /v1/txs is empty; send the signed tx bytes");
  } else {
    Dispatcher(chain_, mempool_, info_, metrics_).run_submit(call, Bytes(tx.begin(), tx.end()));
  }
  return serialize(response_of(call));
}

std::string Handler::handle(std::string_view body) {
  json parsed;
  try {
    parsed = json::parse(body);
  } catch (const json::parse_error& error) {
    logger("rpc")->debug("request body is not valid JSON: {}", error.what());
    return error_body(kParseError, fmt::format("parse error: invalid JSON at byte {}", error.byte));
  }

  bool batch = parsed.is_array();
  std::vector<Call> calls;
  if (batch) {
    if (parsed.empty()) return error_body(kInvalidRequest, "invalid request: empty batch");
    if (parsed.size() > kMaxBatchSize) {
      return error_body(kInvalidRequest, fmt::format("invalid request: batch of {} requests exceeds the limit of {}",
                                                     parsed.size(), kMaxBatchSize));
    }
    calls.reserve(parsed.size());
    for (const auto& request : parsed) calls.push_back(parse_call(request));
  } else {
    calls.push_back(parse_call(parsed));
  }

  Dispatcher(chain_, mempool_, info_, metrics_).run(calls);

  if (!batch) {
    if (!answered(calls[0])) return {};
    return serialize(response_of(calls[0]));
  }
  json responses = json::array();
  for (const auto& call : calls) {
    if (answered(call)) responses.push_back(response_of(call));
  }
  if (responses.empty()) return {};
  return serialize(responses);
}

}  // namespace automata::rpc
