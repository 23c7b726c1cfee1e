// The node's rpc::FragmentService: checks fragments against the manifests
// in committed state, keeps them in the FragmentStore, pulls missing ones
// from peers, and computes placement reports.
#pragma once

#include "automata/rpc/fragment_service.h"

#include <chrono>
#include <functional>

namespace automata::execution {
class ChainQuery;
}  // namespace automata::execution

namespace automata::node {

class FragmentExchange;
class FragmentStore;

class NodeFragmentService final : public rpc::FragmentService {
 public:
  // exchange may be null (no peers to ask). on_stored, when set, runs after
  // each newly stored upload (to wake the placement worker); it must be
  // cheap and thread-safe. Does not own chain, store or exchange.
  NodeFragmentService(const execution::ChainQuery* chain, FragmentStore* store, FragmentExchange* exchange,
                      std::function<void()> on_stored = nullptr,
                      std::chrono::milliseconds peer_wait = std::chrono::seconds(10));

  Status fragment(const Hash32& model, uint64_t index, rpc::FragmentReply* out) override;
  Status put_fragment(const Hash32& model, uint64_t index, Bytes data, std::vector<Hash32> proof,
                      bool* stored) override;
  Status held(const Hash32& model, uint64_t* count, std::vector<uint32_t>* indices) override;
  // NOTE: costs fragment_count * nodes hashes and one holding read per
  // node; a model of a million fragments gives a report of megabytes.
  Status placement(const Hash32& model, rpc::PlacementReport* out) override;

 private:
  const execution::ChainQuery* chain_;
  FragmentStore* store_;
  FragmentExchange* exchange_;
  std::function<void()> on_stored_;
  std::chrono::milliseconds peer_wait_;
};

}  // namespace automata::node
