// The node's store of encrypted model fragments: a RocksDB of its own (not
// the chain database), keyed by model id(32) || big-endian u32 fragment
// index. Each value keeps the sealed fragment and its RFC 6962 audit path
// up to the manifest's fragments_root, so a read serves both without
// rebuilding the tree. Fragments live outside consensus: what a node keeps
// here is its own business, and only ModelAttest txs reach state.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace automata::storage {
class Database;
}  // namespace automata::storage

namespace automata::node {

// One sealed fragment (nonce || ciphertext || tag) and its audit path,
// ordered from the leaf upward.
struct StoredFragment {
  Bytes data;
  std::vector<Hash32> proof;
};

// Thread-safe: every method may be called from any thread.
class FragmentStore {
 public:
  // Opens (creating if missing) the store at path. Returns the database's
  // I/O error naming the path on failure.
  static Status open(const std::string& path, std::unique_ptr<FragmentStore>* out);

  // Flushes and closes the database, and logs the close.
  ~FragmentStore();
  FragmentStore(const FragmentStore&) = delete;
  FragmentStore& operator=(const FragmentStore&) = delete;

  // Stores fragment index of model unless it is already held. stored is set
  // to false when it was held (the earlier copy is kept), true when written.
  // The caller verifies the fragment first: the store checks nothing.
  Status put(const Hash32& model, uint32_t index, const StoredFragment& fragment, bool* stored);

  // Reads one fragment. Returns not_found naming the model and index when
  // it is not held, and corruption for a stored value that does not decode.
  Status get(const Hash32& model, uint32_t index, StoredFragment* out) const;

  // True when the fragment is held. A failed read is logged and counts as
  // not held.
  bool has(const Hash32& model, uint32_t index) const;

  // The indices held of model, ascending.
  Status held(const Hash32& model, std::vector<uint32_t>* indices) const;

  // The distinct model ids with at least one held fragment, ascending.
  Status models(std::vector<Hash32>* ids) const;

  // Deletes one fragment; deleting one that is not held is ok.
  Status erase(const Hash32& model, uint32_t index);

  // Deletes every fragment of model. erased (optional) receives the count.
  Status erase_model(const Hash32& model, size_t* erased = nullptr);

  const std::string& path() const { return path_; }

 private:
  FragmentStore(std::string path, std::unique_ptr<storage::Database> db);

  std::string path_;
  std::unique_ptr<storage::Database> db_;
  // Serializes put's check-then-write so two concurrent puts of the same
  // fragment report stored=true once. Reads take no lock.
  std::mutex put_mutex_;
};

// Store key of one fragment: model id(32) || big-endian u32 index.
Bytes fragment_key(const Hash32& model, uint32_t index);

}  // namespace automata::node
