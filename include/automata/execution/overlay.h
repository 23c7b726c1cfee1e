// Layered views of the state used while executing a block: a per-tx
// overlay over a per-block overlay over the latest committed tree. Writes
// stay in the top layer until merged down, so discarding a failed op or tx
// is dropping its overlay. Writes live in ordered containers, so the final
// change set is deterministic. Not thread-safe: apply runs on one thread.
#pragma once

#include "automata/state/state_tree.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace automata::execution {

// Orders byte strings as std::less<Bytes> does (unsigned lexicographic),
// and also accepts ByteView, so map lookups need no Bytes copy of the key.
struct BytesLess {
  using is_transparent = void;
  bool operator()(ByteView a, ByteView b) const {
    size_t common = std::min(a.size(), b.size());
    int order = common == 0 ? 0 : std::memcmp(a.data(), b.data(), common);
    return order < 0 || (order == 0 && a.size() < b.size());
  }
};

// Hashes byte strings for unordered containers, accepting ByteView too so
// lookups need no Bytes copy of the key.
struct BytesHash {
  using is_transparent = void;
  size_t operator()(ByteView bytes) const {
    return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
};

// Byte string equality that also accepts ByteView.
struct BytesEqual {
  using is_transparent = void;
  bool operator()(ByteView a, ByteView b) const {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
  }
};

// Buffered writes in key order; nullopt marks a delete.
using WriteMap = std::map<Bytes, std::optional<Bytes>, BytesLess>;

// A readable state. get() sets value to nullopt for an absent key and
// returns a non-ok Status only when the underlying storage fails.
class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual Status get(ByteView key, std::optional<Bytes>* value) = 0;
};

// Reads the latest committed version of a StateTree (flat value index).
// Safe to use from several threads at once, as StateTree reads are.
class TreeReader final : public StateReader {
 public:
  explicit TreeReader(const state::StateTree* tree) : tree_(tree) {}
  Status get(ByteView key, std::optional<Bytes>* value) override;

 private:
  const state::StateTree* tree_;
};

// Caches every value read from a parent that does not change while the
// cache lives (the committed tree during one block's execution). Never
// iterated, so a hash map keeps lookups cheap without affecting results.
class CachingReader final : public StateReader {
 public:
  explicit CachingReader(StateReader* parent) : parent_(parent) {}
  Status get(ByteView key, std::optional<Bytes>* value) override;

  // Records value as the parent's value of key, read earlier (for example
  // by another thread). REQUIRES: value is what parent->get(key) returns.
  // A key already cached keeps its entry.
  void seed(Bytes key, std::optional<Bytes> value) { cache_.try_emplace(std::move(key), std::move(value)); }

  // Makes room for about count entries, to skip rehashing while it fills.
  void reserve(size_t count) { cache_.reserve(count); }

 private:
  StateReader* parent_;
  std::unordered_map<Bytes, std::optional<Bytes>, BytesHash, BytesEqual> cache_;
};

// Buffered writes over a parent reader.
class Overlay final : public StateReader {
 public:
  explicit Overlay(StateReader* parent) : parent_(parent) {}

  // Returns this overlay's write for key if any, else the parent's value.
  Status get(ByteView key, std::optional<Bytes>* value) override;

  void put(Bytes key, Bytes value);
  void erase(Bytes key);

  // Moves every write into parent, which must be the Overlay this one was
  // built on, and leaves this overlay empty.
  void merge_into(Overlay* parent);

  // Drops every write.
  void clear() { writes_.clear(); }

  // Moves every write out, leaving this overlay empty.
  state::ChangeSet take_writes();

  StateReader* parent() const { return parent_; }
  // Writes in key order; nullopt marks a delete.
  const WriteMap& writes() const { return writes_; }

 private:
  StateReader* parent_;
  WriteMap writes_;
};

}  // namespace automata::execution
