#include "rpc/model_methods.h"

namespace automata::rpc {

// TODO: model_get, model_list and model_lineage; until then no method
// matches and the dispatcher answers "method not found".
bool is_model_method(std::string_view) { return false; }

nlohmann::json model_method(const execution::ChainQuery&, const std::string&, const nlohmann::json&) {
  return nullptr;
}

}  // namespace automata::rpc
