// Placement of model fragments on storage nodes by rendezvous hashing. The
// storage nodes are the validators in state; each fragment of a model goes
// to the nodes with the highest scores for (model id, epoch, index), so
// every node computes the same placement from state alone. Part of
// consensus: ModelAttest checks attestations against it.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/execution/overlay.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <vector>

namespace automata::model {

// Nodes that keep each fragment. The effective replication is
// min(kReplicationFactor, number of storage nodes).
inline constexpr uint32_t kReplicationFactor = 2;

// Maximum fragments of one model (ModelManifest.fragment_count).
inline constexpr uint64_t kMaxFragmentCount = 1'048'576;

// min(kReplicationFactor, node_count).
uint32_t effective_replication(size_t node_count);

// Score of node for one fragment: SHA-256("automata/placement" || model_id
// || big-endian u64 epoch || big-endian u32 index || node x-only pubkey(32)).
Hash32 placement_score(ByteView model_id, uint64_t epoch, uint32_t index, const crypto::PublicKey& node);

// Indices into nodes of the `replication` highest scores (score bytes
// compared lexicographically, highest first), in that order. Ties, which
// need equal pubkeys, go to the lower index. Returns fewer than replication
// indices when nodes has fewer entries.
std::vector<size_t> place_fragment(ByteView model_id, uint64_t epoch, uint32_t index,
                                   const std::vector<crypto::PublicKey>& nodes, uint32_t replication);

// Reads the storage nodes: the distinct validator pubkeys in state
// (keys::validators()), sorted by pubkey bytes ascending. An absent
// validator set gives an empty list. Returns corruption for a set that does
// not parse or a pubkey that is not 32 bytes, and the storage error when
// the read fails.
Status storage_nodes(execution::StateReader& state, std::vector<crypto::PublicKey>* nodes);

// The fragment indices in [0, fragment_count), ascending, that placement
// assigns to node at epoch with effective_replication(nodes.size()). Empty
// when node is not among nodes. A fragment_count above kMaxFragmentCount
// counts as kMaxFragmentCount. Costs fragment_count * nodes.size() hashes.
std::vector<uint32_t> indices_placed_on(ByteView model_id, uint64_t epoch, uint64_t fragment_count,
                                        const std::vector<crypto::PublicKey>& nodes,
                                        const crypto::PublicKey& node);

}  // namespace automata::model
