// The node's RocksDB database: one column family per kind of record, and
// atomic write batches. No RocksDB header leaks out of this file.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <memory>
#include <string>

namespace automata::storage {

// Column families. The numeric values are stable; add new ones at the end.
enum class Column : int {
  kDefault = 0,
  kMeta,         // node metadata: latest height, genesis hash, ...
  kBlocks,       // big-endian height -> Block
  kBlockHashes,  // block hash -> big-endian height
  kResults,      // big-endian height -> BlockResults
  kTxIndex,      // tx hash -> TxLocation
  kStateNodes,   // state tree nodes, keyed by version and path
  kStateValues,  // latest value of each state key (flat, for fast reads)
  kStateMeta,    // per-version roots and the stale-node index for pruning
};
inline constexpr int kColumnCount = 9;

// Writes that land together or not at all. Not thread-safe.
class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  void put(Column column, ByteView key, ByteView value);
  void erase(Column column, ByteView key);
  size_t count() const;
  size_t size_bytes() const;
  void clear();

 private:
  friend class Database;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Forward-only iterator over one column family in key order.
class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual void seek(ByteView key) = 0;
  virtual void seek_to_first() = 0;
  virtual bool valid() const = 0;
  virtual void next() = 0;
  virtual ByteView key() const = 0;
  virtual ByteView value() const = 0;
  // Not ok when the underlying read failed; check after valid() turns false.
  virtual Status status() const = 0;
};

// Thread-safe: concurrent reads and writes are allowed, as in RocksDB.
class Database {
 public:
  // Opens (creating if missing) the database at path with every column
  // family. Returns an I/O error naming the path on failure.
  static Status open(const std::string& path, std::unique_ptr<Database>* out);

  virtual ~Database() = default;

  // Reads one value. Returns not_found when the key is absent.
  virtual Status get(Column column, ByteView key, Bytes* value) const = 0;

  // Applies the batch atomically. With sync true the write-ahead log is
  // flushed to disk (fsync) before returning, so a crash right after keeps
  // the whole batch.
  virtual Status write(WriteBatch& batch, bool sync) = 0;

  virtual std::unique_ptr<Iterator> new_iterator(Column column) const = 0;

  // Flushes memtables; used on clean shutdown.
  virtual Status flush() = 0;
};

// Big-endian encoding of a height, so keys sort by height.
Bytes encode_height(uint64_t height);
uint64_t decode_height(ByteView bytes);

}  // namespace automata::storage
