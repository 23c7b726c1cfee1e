#include "rpc/fragment_methods.h"

namespace automata::rpc {

// TODO: the fragment store methods; until then no method matches.
bool is_fragment_method(std::string_view) { return false; }

nlohmann::json fragment_method(FragmentService*, const std::string&, const nlohmann::json&) { return nullptr; }

}  // namespace automata::rpc
