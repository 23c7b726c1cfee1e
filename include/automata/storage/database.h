// The node's RocksDB database: one column family per kind of record, and
// atomic write batches. No RocksDB header leaks out of this file.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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

// The RocksDB column family name of column ("meta", "state_nodes", ...).
// Names are stable because they are stored on disk.
std::string_view column_name(Column column);

// Tuning for Database::open. The defaults suit a node with a few GiB of RAM.
struct DatabaseOptions {
  // Shared LRU block cache for every column family, in bytes.
  size_t block_cache_bytes = size_t{256} << 20;
  // Upper bound on open SST files (RocksDB max_open_files).
  int max_open_files = 512;
  // Background flush and compaction threads.
  int background_jobs = 2;
};

// Writes that land together or not at all. Not thread-safe.
class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  void put(Column column, ByteView key, ByteView value);
  void erase(Column column, ByteView key);
  // Appends a copy of other's records after this batch's, in their order.
  void append(const WriteBatch& other);
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
  static Status open(const std::string& path, const DatabaseOptions& options,
                     std::unique_ptr<Database>* out);

  virtual ~Database() = default;

  // Reads one value. Returns not_found when the key is absent.
  virtual Status get(Column column, ByteView key, Bytes* value) const = 0;

  // Applies the batch atomically. With sync true the write-ahead log is
  // flushed to disk (fsync) before returning, so a crash right after keeps
  // the whole batch.
  virtual Status write(WriteBatch& batch, bool sync) = 0;

  // Returns an iterator over a consistent snapshot of column, taken now.
  virtual std::unique_ptr<Iterator> new_iterator(Column column) const = 0;

  // Compacts the whole key range of column, so deleted keys stop using disk.
  virtual Status compact(Column column) = 0;

  // RocksDB's estimate of the live data size of column, in bytes (SST files
  // plus memtables).
  virtual uint64_t estimate_size_bytes(Column column) const = 0;

  // Flushes memtables; used on clean shutdown.
  virtual Status flush() = 0;

 protected:
  // Gives implementations access to the batch's RocksDB representation.
  static WriteBatch::Impl& batch_impl(WriteBatch& batch) { return *batch.impl_; }
};

// Big-endian encoding of a height, so keys sort by height.
Bytes encode_height(uint64_t height);
// Decodes the first 8 bytes of bytes as a big-endian height. Returns 0 when
// bytes is shorter than 8.
uint64_t decode_height(ByteView bytes);

}  // namespace automata::storage
