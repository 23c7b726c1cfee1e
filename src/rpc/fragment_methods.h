// JSON-RPC methods over the node's fragment store: model_fragment,
// model_fragment_put, model_fragments_held and model_placement.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace automata::rpc {

class FragmentService;

// True for the methods fragment_method() serves.
bool is_fragment_method(std::string_view method);

// Runs one of those methods on service. Raises RpcError with
// kInvalidParams naming a bad parameter, kNotFound for a missing model or
// fragment, and kInternalError when service is null or fails.
nlohmann::json fragment_method(FragmentService* service, const std::string& method, const nlohmann::json& params);

}  // namespace automata::rpc
