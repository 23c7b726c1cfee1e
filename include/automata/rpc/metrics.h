// Counters the node exports on GET /metrics in the Prometheus text format.
#pragma once

#include "automata/execution/result_code.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace automata::rpc {

// Values read at scrape time rather than counted.
struct Gauges {
  uint64_t block_height = 0;
  uint64_t mempool_txs = 0;
  uint64_t mempool_bytes = 0;
};

// Process-lifetime counters; they restart from zero with the process, as
// Prometheus counters may. Thread-safe.
class Metrics {
 public:
  // The methods counted under their own label. Any other method name is
  // counted as "other", so a client cannot grow the label set.
  static constexpr std::array<std::string_view, 6> kMethods = {
      "node_status", "block_get", "tx_submit", "tx_get", "account_get", "state_proof"};

  void count_request(std::string_view method);
  void count_rejected_tx(execution::ResultCode code);
  void add_committed_txs(uint64_t count);

  uint64_t requests(std::string_view method) const;
  uint64_t rejected_txs(execution::ResultCode code) const;
  uint64_t committed_txs() const;

  // The exposition text: automata_block_height, automata_txs_committed_total,
  // automata_mempool_txs, automata_mempool_bytes,
  // automata_rpc_requests_total{method} and automata_tx_rejected_total{code}.
  std::string render(const Gauges& gauges) const;

 private:
  std::array<std::atomic<uint64_t>, kMethods.size() + 1> requests_{};  // last slot: "other"
  std::atomic<uint64_t> committed_txs_{0};
  mutable std::mutex rejected_mutex_;
  std::map<uint32_t, uint64_t> rejected_;  // guarded by rejected_mutex_; result code -> count
};

}  // namespace automata::rpc
