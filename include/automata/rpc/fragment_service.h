// The node's fragment store as the JSON-RPC methods model_fragment,
// model_fragment_put, model_fragments_held and model_placement see it. The
// rpc layer parses parameters and shapes JSON; an implementation (the
// node's) checks fragments against committed state and keeps them.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <vector>

namespace automata::rpc {

// One encrypted fragment with its audit path up to the manifest root.
struct FragmentReply {
  Bytes data;
  std::vector<Hash32> proof;  // from the leaf upward
  Hash32 root{};              // the manifest's fragments_root
  uint64_t count = 0;         // the manifest's fragment_count
};

// The placement of one fragment: its holders and those that attested it.
struct FragmentPlacement {
  uint32_t index = 0;
  std::vector<Address> holders;   // placed nodes, highest score first
  std::vector<Address> attested;  // placed nodes whose holding at the epoch shows it
};

struct PlacementReport {
  uint64_t epoch = 0;
  uint32_t replication = 0;
  bool available = false;
  std::vector<FragmentPlacement> fragments;  // by index
};

// Implementations must be thread-safe: the RPC server calls from several
// threads at once. Every method returns not_found naming the model when it
// is not in committed state.
class FragmentService {
 public:
  virtual ~FragmentService() = default;

  // Fragment index of model, from this node's store or, when it lacks it,
  // from peers (bounded wait). Returns invalid_argument for an index past
  // the end and not_found when neither this node nor a peer returned a
  // fragment that verifies in time.
  virtual Status fragment(const Hash32& model, uint64_t index, FragmentReply* out) = 0;

  // Verifies and stores one fragment. Returns invalid_argument naming the
  // fragment and the rule it breaks (index past the end, wrong size, proof
  // not leading to the manifest root). stored is false when the fragment
  // was already held.
  virtual Status put_fragment(const Hash32& model, uint64_t index, Bytes data, std::vector<Hash32> proof,
                              bool* stored) = 0;

  // The indices of model this node holds, ascending; count receives the
  // manifest's fragment_count.
  virtual Status held(const Hash32& model, uint64_t* count, std::vector<uint32_t>* indices) = 0;

  // The placement of every fragment at the model's current epoch.
  virtual Status placement(const Hash32& model, PlacementReport* out) = 0;
};

}  // namespace automata::rpc
