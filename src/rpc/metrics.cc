#include "automata/rpc/metrics.h"

#include <fmt/format.h>

namespace automata::rpc {

namespace {

size_t method_slot(std::string_view method) {
  for (size_t i = 0; i < Metrics::kMethods.size(); ++i) {
    if (Metrics::kMethods[i] == method) return i;
  }
  return Metrics::kMethods.size();
}

}  // namespace

void Metrics::count_request(std::string_view method) {
  requests_[method_slot(method)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_rejected_tx(execution::ResultCode code) {
  std::lock_guard<std::mutex> lock(rejected_mutex_);
  ++rejected_[static_cast<uint32_t>(code)];
}

void Metrics::add_committed_txs(uint64_t count) { committed_txs_.fetch_add(count, std::memory_order_relaxed); }

uint64_t Metrics::requests(std::string_view method) const {
  return requests_[method_slot(method)].load(std::memory_order_relaxed);
}

uint64_t Metrics::rejected_txs(execution::ResultCode code) const {
  std::lock_guard<std::mutex> lock(rejected_mutex_);
  auto it = rejected_.find(static_cast<uint32_t>(code));
  return it == rejected_.end() ? 0 : it->second;
}

uint64_t Metrics::committed_txs() const { return committed_txs_.load(std::memory_order_relaxed); }

std::string Metrics::render(const Gauges& gauges) const {
  std::string out;
  auto append = [&out](std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };

  append("automata_block_height", "gauge", "Height of the last committed block.");
  out += fmt::format("automata_block_height {}\n", gauges.block_height);

  append("automata_txs_committed_total", "counter", "Transactions committed in blocks by this process.");
  out += fmt::format("automata_txs_committed_total {}\n", committed_txs());

  append("automata_mempool_txs", "gauge", "Transactions waiting in the mempool.");
  out += fmt::format("automata_mempool_txs {}\n", gauges.mempool_txs);

  append("automata_mempool_bytes", "gauge", "Total size of the transactions in the mempool.");
  out += fmt::format("automata_mempool_bytes {}\n", gauges.mempool_bytes);

  append("automata_rpc_requests_total", "counter", "JSON-RPC requests received, by method.");
  for (size_t i = 0; i < kMethods.size(); ++i) {
    out += fmt::format("automata_rpc_requests_total{{method=\"{}\"}} {}\n", kMethods[i],
                       requests_[i].load(std::memory_order_relaxed));
  }
  out += fmt::format("automata_rpc_requests_total{{method=\"other\"}} {}\n",
                     requests_[kMethods.size()].load(std::memory_order_relaxed));

  append("automata_tx_rejected_total", "counter", "Transactions rejected at submission, by result code name.");
  std::lock_guard<std::mutex> lock(rejected_mutex_);
  for (const auto& [code, count] : rejected_) {
    auto name = execution::result_code_name(static_cast<execution::ResultCode>(code));
    out += fmt::format("automata_tx_rejected_total{{code=\"{}\"}} {}\n", name, count);
  }
  return out;
}

}  // namespace automata::rpc
