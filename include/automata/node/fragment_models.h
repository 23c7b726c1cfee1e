// What the fragment store needs to know about models, read from committed
// state through ChainQuery: the manifest of one model, the ids of every
// model, the storage nodes, a node's ModelHolding, and the check that an
// encrypted fragment belongs to a model's manifest.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace automata::execution {
class ChainQuery;
}  // namespace automata::execution

namespace automata::node {

// The committed facts about one model NFT that fragment handling uses.
struct ModelContent {
  Hash32 id{};
  uint64_t fragment_size = 0;
  uint64_t fragment_count = 0;
  uint64_t total_size = 0;  // plaintext bytes of the whole file
  Hash32 fragments_root{};
  uint64_t epoch = 0;
  bool available = false;

  // Bytes of sealed fragment index: its plaintext size plus the 28 bytes of
  // nonce and tag. Only the last fragment may be shorter than fragment_size.
  // REQUIRES: index < fragment_count.
  uint64_t sealed_size(uint64_t index) const;
};

// Reads the model NFT with id from the latest committed state. Returns
// not_found naming the id when no object has it or the object is not a
// "model.nft", and corruption when the stored records do not parse.
Status read_model(const execution::ChainQuery& chain, const Hash32& id, ModelContent* out);

// Ids of every model in committed state (keys::model_index), ascending.
Status list_models(const execution::ChainQuery& chain, std::vector<Hash32>* ids);

// The storage nodes: the validator pubkeys in committed state, sorted, as
// model::storage_nodes reads them.
Status read_storage_nodes(const execution::ChainQuery& chain, std::vector<crypto::PublicKey>* nodes);

// A node's committed ModelHolding for a model: its epoch and the indices
// it attests to hold (ascending). nullopt when the node has no holding.
struct Holding {
  uint64_t epoch = 0;
  std::vector<uint32_t> indices;
};
Status read_holding(const execution::ChainQuery& chain, const Hash32& model, const Address& node,
                    std::optional<Holding>* out);

// Checks that data is fragment index of model: index < fragment_count, the
// size matches sealed_size(index), and the RFC 6962 leaf hash of data with
// proof leads to fragments_root. Returns invalid_argument naming the
// fragment, the model and the rule it breaks.
Status check_fragment(const ModelContent& model, uint64_t index, ByteView data, const std::vector<Hash32>& proof);

}  // namespace automata::node
