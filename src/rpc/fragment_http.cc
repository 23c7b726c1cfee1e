#include "rpc/fragment_http.h"

#include "automata/rpc/fragment_service.h"
#include "automata/rpc/handler.h"
#include "automata/types/logging.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <optional>

namespace automata::rpc {

namespace {

constexpr std::string_view kFragmentsSegment = "/fragments/";
// A tree of at most 2^20 fragments has audit paths of at most 20 hashes.
// The bound leaves headroom and stops a huge header from allocating many.
constexpr size_t kMaxProofHashes = 64;

FragmentHttpReply error_reply(unsigned status, int code, const std::string& message) {
  FragmentHttpReply reply;
  reply.status = status;
  reply.content_type = "application/json";
  reply.body = Handler::error_body(code, message);
  return reply;
}

FragmentHttpReply status_reply(const Status& status) {
  if (status.kind() == Status::Kind::kInvalidArgument) return error_reply(400, kInvalidParams, status.message());
  if (status.is_not_found()) return error_reply(404, kNotFound, status.message());
  logger("rpc")->error("fragment request failed: {}", status.to_string());
  return error_reply(500, kInternalError, status.to_string());
}

struct FragmentTarget {
  Hash32 model{};
  uint64_t index = 0;
};

// Parses /v1/models/<64 hex>/fragments/<decimal index>. On failure stores
// a 400 reply naming the part and the rule.
bool parse_target(std::string_view target, FragmentTarget* out, FragmentHttpReply* error) {
  auto invalid = [&](const std::string& message) {
    *error = error_reply(400, kInvalidParams, fmt::format("invalid fragment path {}: {}", target, message));
    return false;
  };
  std::string_view rest = target.substr(kFragmentTargetPrefix.size());
  size_t split = rest.find(kFragmentsSegment);
  if (split == std::string_view::npos) {
    return invalid("expected /v1/models/<model id as 64 hex characters>/fragments/<index>");
  }
  std::string_view id_text = rest.substr(0, split);
  std::string_view index_text = rest.substr(split + kFragmentsSegment.size());

  std::optional<Bytes> id = id_text.size() == 64 ? from_hex(id_text) : std::nullopt;
  if (!id || id->size() != 32) {
    return invalid(fmt::format("model id \"{}\" must be 32 bytes as 64 hex characters", id_text));
  }
  std::copy(id->begin(), id->end(), out->model.begin());

  auto [end, parse_error] = std::from_chars(index_text.data(), index_text.data() + index_text.size(), out->index);
  if (index_text.empty() || parse_error != std::errc() || end != index_text.data() + index_text.size()) {
    return invalid(fmt::format("fragment index \"{}\" must be a decimal number below 2^64", index_text));
  }
  return true;
}

// Parses comma-separated 64-character hex hashes; empty text is an empty
// audit path.
bool parse_proof(std::string_view text, std::vector<Hash32>* proof, FragmentHttpReply* error) {
  proof->clear();
  size_t position = 0;
  while (position < text.size()) {
    size_t comma = text.find(',', position);
    std::string_view item = text.substr(position, comma == std::string_view::npos ? text.npos : comma - position);
    std::optional<Bytes> bytes = item.size() == 64 ? from_hex(item) : std::nullopt;
    if (!bytes || bytes->size() != 32 || proof->size() == kMaxProofHashes) {
      std::string rule = proof->size() == kMaxProofHashes
                             ? fmt::format("more than {} hashes", kMaxProofHashes)
                             : fmt::format("item {} \"{}\" is not a 32-byte hash as 64 hex characters", proof->size(),
                                           item.substr(0, 80));
      *error = error_reply(400, kInvalidParams, fmt::format("invalid header {}: {}", kProofHeader, rule));
      return false;
    }
    Hash32 hash{};
    std::copy(bytes->begin(), bytes->end(), hash.begin());
    proof->push_back(hash);
    if (comma == std::string_view::npos) break;
    position = comma + 1;
  }
  return true;
}

std::string join_proof(const std::vector<Hash32>& proof) {
  std::string out;
  out.reserve(proof.size() * 65);
  for (const Hash32& hash : proof) {
    if (!out.empty()) out.push_back(',');
    out += to_hex(hash);
  }
  return out;
}

FragmentHttpReply no_service() {
  return error_reply(501, kInvalidRequest, "invalid request: this node keeps no fragment store");
}

}  // namespace

bool is_fragment_target(std::string_view target) { return target.rfind(kFragmentTargetPrefix, 0) == 0; }

FragmentHttpReply get_fragment_http(FragmentService* service, std::string_view target) {
  if (service == nullptr) return no_service();
  FragmentTarget parsed;
  FragmentHttpReply reply;
  if (!parse_target(target, &parsed, &reply)) return reply;
  FragmentReply fragment;
  Status status = service->fragment(parsed.model, parsed.index, &fragment);
  if (!status.is_ok()) return status_reply(status);
  reply.content_type = "application/octet-stream";
  reply.body.assign(fragment.data.begin(), fragment.data.end());
  reply.headers.emplace_back(kProofHeader, join_proof(fragment.proof));
  reply.headers.emplace_back(kRootHeader, to_hex(fragment.root));
  reply.headers.emplace_back(kCountHeader, std::to_string(fragment.count));
  return reply;
}

FragmentHttpReply put_fragment_http(FragmentService* service, std::string_view target, std::string_view proof_header,
                                    std::string_view body) {
  if (service == nullptr) return no_service();
  FragmentTarget parsed;
  FragmentHttpReply reply;
  if (!parse_target(target, &parsed, &reply)) return reply;
  std::vector<Hash32> proof;
  if (!parse_proof(proof_header, &proof, &reply)) return reply;
  bool stored = false;
  Status status = service->put_fragment(parsed.model, parsed.index, Bytes(body.begin(), body.end()), std::move(proof),
                                        &stored);
  if (!status.is_ok()) return status_reply(status);
  reply.content_type = "application/json";
  reply.body = fmt::format("{{\"index\":{},\"stored\":{}}}", parsed.index, stored);
  return reply;
}

}  // namespace automata::rpc
