// The JSON-RPC 2.0 method dispatcher, independent of the HTTP transport so
// that tests and fuzz targets can drive it with plain strings.
#pragma once

#include "automata/types/bytes.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace automata::execution {
class ChainQuery;
}  // namespace automata::execution

namespace automata::mempool {
class Mempool;
}  // namespace automata::mempool

namespace automata::rpc {

class FragmentService;
class Metrics;

// JSON-RPC error codes used by every method.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kNotFound = -32001;
inline constexpr int kTxRejected = -32002;

// Maximum number of requests in one batch.
inline constexpr size_t kMaxBatchSize = 1000;

// A connected peer, as node_status lists it.
struct PeerSummary {
  std::string id;       // node public key, hex
  std::string address;  // remote ip:port
  bool outbound = false;
};

// The consensus position and sync state for node_status.
struct ConsensusSummary {
  uint64_t height = 0;
  int64_t round = 0;
  std::string step;
  bool catching_up = false;
  std::vector<PeerSummary> peers;
};

// One signed vote inside evidence; hashes and keys in hex, a nil block
// hash as an empty string.
struct VoteSummary {
  std::string type;  // "prevote" or "precommit"
  uint64_t height = 0;
  int64_t round = 0;
  std::string block_hash;
  std::string validator;
  std::string signature;
};

// Double-sign evidence for evidence_list.
struct EvidenceSummary {
  uint64_t height = 0;
  int64_t round = 0;
  std::string type;       // "duplicate_vote"
  std::string validator;  // public key, hex
  VoteSummary vote_a;
  VoteSummary vote_b;
  uint64_t included_height = 0;  // 0 while pending
};

// Size limits of the chain's genesis params that node_status reports, so
// that clients check a tx or a code tree before they build and send it.
// Zero when unknown.
struct ChainLimits {
  uint64_t max_tx_bytes = 0;
  uint64_t max_blob_bytes = 0;
  uint64_t max_files_per_version = 0;
  uint64_t max_path_bytes = 0;
};

// Facts about the node that node_status reports beside chain data. The
// providers are optional (null in tests without consensus) and must be
// thread-safe.
struct NodeInfo {
  std::string version;
  Address validator_address{};
  uint64_t min_gas_price = 0;
  ChainLimits limits;
  std::function<ConsensusSummary()> consensus;
  // The evidence whose fault is at height, or all when nullopt.
  std::function<std::vector<EvidenceSummary>(std::optional<uint64_t> height)> evidence;
  // The node's fragment store for the model_fragment* methods; null where
  // the node keeps none. Not owned; must outlive the handler.
  FragmentService* fragments = nullptr;
};

// Thread-safe: handle() may run on every server thread at once. Does not own
// chain, mempool or metrics, which must outlive it.
class Handler {
 public:
  Handler(const execution::ChainQuery* chain, mempool::Mempool* mempool, NodeInfo info, Metrics* metrics);

  // Handles one POST body, a single request or a batch, and returns the
  // response body. Returns an empty string when the body held only
  // notifications (requests without an id), which get no response.
  std::string handle(std::string_view body);

  // Submits the signed tx bytes of a POST /v1/txs body, as tx_submit does
  // with the hex of the same bytes. Returns a JSON-RPC 2.0 response body
  // with a null id that contains the tx_submit result or its error: -32002
  // with the result code for a rejected tx, -32600 for an empty body.
  std::string submit_tx_bytes(std::string_view tx);

  // Body of an error response with a null id, for transport-level failures
  // such as an oversized body.
  static std::string error_body(int code, const std::string& message);

  // Body of GET /health: {"status":"ok","height":N}.
  std::string health() const;

  // Body of GET /metrics.
  std::string metrics_text() const;

 private:
  const execution::ChainQuery* chain_;
  mempool::Mempool* mempool_;
  NodeInfo info_;
  Metrics* metrics_;
};

}  // namespace automata::rpc
