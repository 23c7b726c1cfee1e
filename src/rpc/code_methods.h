// JSON-RPC methods over code assets and objects: code_get, code_list,
// code_log, code_tree, code_blob, code_proposals, offer_get and
// blobs_missing, plus the "created" list that tx_get adds to a result.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace automata::execution {
class ChainQuery;
}  // namespace automata::execution

namespace automata::v1 {
class TxResult;
}  // namespace automata::v1

namespace automata::rpc {

// True for the methods code_method() serves.
bool is_code_method(std::string_view method);

// Runs one of those methods on the latest committed state. Raises RpcError
// with kInvalidParams naming a bad parameter, kNotFound for a missing
// object and kInternalError for a state read failure or a stored record
// that does not parse.
nlohmann::json code_method(const execution::ChainQuery& chain, const std::string& method,
                           const nlohmann::json& params);

// [{"op_index","kind","id"}...] of the objects a tx created.
nlohmann::json encode_created(const v1::TxResult& result);

}  // namespace automata::rpc
