// Fragment bytes over plain HTTP on the RPC port, beside JSON-RPC:
//   GET /v1/models/<id hex>/fragments/<index>
//     200: body = the sealed fragment (application/octet-stream); the
//     headers X-Automata-Proof (the audit path from the leaf upward, as
//     comma-separated 64-character hex hashes, empty for a one-fragment
//     model), X-Automata-Root and X-Automata-Count.
//   PUT /v1/models/<id hex>/fragments/<index>
//     body = the sealed fragment, X-Automata-Proof as above (a missing
//     header is an empty audit path). 200: {"index":N,"stored":BOOL}.
// Both go through the same FragmentService checks as model_fragment and
// model_fragment_put. Errors carry a JSON-RPC error body with a null id:
// 400 for an invalid id, index, proof or fragment, 404 when the model or
// fragment is not found, 501 when the node keeps no fragment store.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace automata::rpc {

class FragmentService;

inline constexpr std::string_view kFragmentTargetPrefix = "/v1/models/";
inline constexpr std::string_view kProofHeader = "X-Automata-Proof";
inline constexpr std::string_view kRootHeader = "X-Automata-Root";
inline constexpr std::string_view kCountHeader = "X-Automata-Count";

// One HTTP response, independent of the transport.
struct FragmentHttpReply {
  unsigned status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string_view, std::string>> headers;
};

// True when target starts with /v1/models/, so the fragment routes own it.
bool is_fragment_target(std::string_view target);

// Serves GET target through service (which may be null: 501).
FragmentHttpReply get_fragment_http(FragmentService* service, std::string_view target);

// Serves PUT target with body through service (which may be null: 501).
// proof_header is the X-Automata-Proof value, empty when missing.
FragmentHttpReply put_fragment_http(FragmentService* service, std::string_view target, std::string_view proof_header,
                                    std::string_view body);

}  // namespace automata::rpc
