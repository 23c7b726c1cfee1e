// JSON-RPC methods over model NFTs read from committed state: model_get,
// model_list and model_lineage.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace automata::execution {
class ChainQuery;
}  // namespace automata::execution

namespace automata::rpc {

// True for the methods model_method() serves.
bool is_model_method(std::string_view method);

// Runs one of those methods. Raises RpcError with kInvalidParams naming a
// bad parameter, kNotFound for a missing model and kInternalError for a
// state read failure or a stored record that does not parse.
nlohmann::json model_method(const execution::ChainQuery& chain, const std::string& method,
                            const nlohmann::json& params);

}  // namespace automata::rpc
