#include "automata/storage/database.h"

#include "automata/types/logging.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <array>
#include <vector>

namespace automata::storage {

struct WriteBatch::Impl {
  // Column ids inside are Column values (see ColumnIdHandle).
  rocksdb::WriteBatch batch;
};


namespace {

constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "default", "meta", "blocks", "block_hashes", "results",
    "tx_index", "state_nodes", "state_values", "state_meta",
};

rocksdb::Slice to_slice(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

ByteView to_view(const rocksdb::Slice& slice) {
  return {reinterpret_cast<const uint8_t*>(slice.data()), slice.size()};
}

// Column families read mostly by exact key get a bloom filter, so a lookup
// of an absent key rarely touches disk. Height-keyed families are scanned in
// order as often as they are probed, so they skip it.
bool wants_bloom_filter(Column column) {
  switch (column) {
    case Column::kBlockHashes:
    case Column::kTxIndex:
    case Column::kStateNodes:
    case Column::kStateValues:
      return true;
    default:
      return false;
  }
}

rocksdb::ColumnFamilyOptions column_options(Column column, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.format_version = 5;
  if (wants_bloom_filter(column)) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.whole_key_filtering = true;
  }
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // State nodes are mostly hashes, which LZ4 cannot shrink.
  options.compression =
      column == Column::kStateNodes ? rocksdb::kNoCompression : rocksdb::kLZ4Compression;
  options.level_compaction_dynamic_level_bytes = true;
  // Every block rewrites thousands of state nodes, values and stale index
  // records. Bigger memtables, and more of them, mean fewer flushes, and a
  // block's write does not wait for a flush unless 3 memtables are full.
  if (column == Column::kStateNodes || column == Column::kStateValues || column == Column::kStateMeta) {
    options.write_buffer_size = size_t{128} << 20;
    options.max_write_buffer_number = 4;
  }
  // A block's batch inserts state nodes in rising path order within each
  // version and depth (the first 10 key bytes), so the memtable can start
  // each skiplist search at the previous insert of the same prefix.
  if (column == Column::kStateNodes) {
    options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(10));
  }
  return options;
}

std::string describe(const std::string& path, Column column) {
  return std::string(column_name(column)) + " in " + path;
}

// Converts a RocksDB status, prefixing its text with context (the failed
// operation and the path or column).
Status from_rocksdb(const rocksdb::Status& s, const std::string& context) {
  if (s.ok()) return Status::ok();
  std::string message = context + ": " + s.ToString();
  if (s.IsNotFound()) return Status::not_found(message);
  if (s.IsCorruption()) return Status::corruption(message);
  if (s.IsInvalidArgument()) return Status::invalid_argument(message);
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Status::unavailable(message);
  return Status::io_error(message);
}

// A stand-in column family handle whose id is the Column value. A batch is
// built before it meets a database, so it records Column values as ids and
// the database maps them to its real ids at write time.
class ColumnIdHandle final : public rocksdb::ColumnFamilyHandle {
 public:
  explicit ColumnIdHandle(Column column)
      : id_(static_cast<uint32_t>(column)), name_(column_name(column)) {}
  const std::string& GetName() const override { return name_; }
  uint32_t GetID() const override { return id_; }
  rocksdb::Status GetDescriptor(rocksdb::ColumnFamilyDescriptor*) override {
    return rocksdb::Status::NotSupported("column id handle has no descriptor");
  }
  const rocksdb::Comparator* GetComparator() const override { return rocksdb::BytewiseComparator(); }

 private:
  uint32_t id_;
  std::string name_;
};

ColumnIdHandle* column_id_handle(Column column) {
  static const std::array<ColumnIdHandle*, kColumnCount> handles = [] {
    std::array<ColumnIdHandle*, kColumnCount> out{};
    for (int i = 0; i < kColumnCount; ++i) out[static_cast<size_t>(i)] = new ColumnIdHandle(static_cast<Column>(i));
    return out;
  }();
  return handles[static_cast<size_t>(column)];
}

// Copies a batch recorded with Column values as ids into one that uses the
// database's real column family ids.
class IdTranslator final : public rocksdb::WriteBatch::Handler {
 public:
  IdTranslator(const std::vector<rocksdb::ColumnFamilyHandle*>& handles, rocksdb::WriteBatch* out)
      : handles_(handles), out_(out) {}
  rocksdb::Status PutCF(uint32_t id, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    if (id >= handles_.size()) return rocksdb::Status::InvalidArgument("unknown column id " + std::to_string(id));
    return out_->Put(handles_[id], key, value);
  }
  rocksdb::Status DeleteCF(uint32_t id, const rocksdb::Slice& key) override {
    if (id >= handles_.size()) return rocksdb::Status::InvalidArgument("unknown column id " + std::to_string(id));
    return out_->Delete(handles_[id], key);
  }

 private:
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles_;
  rocksdb::WriteBatch* out_;
};

class RocksIterator final : public Iterator {
 public:
  RocksIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* handle) {
    rocksdb::ReadOptions read_options;
    snapshot_ = db->GetSnapshot();
    read_options.snapshot = snapshot_;
    db_ = db;
    it_.reset(db->NewIterator(read_options, handle));
  }
  ~RocksIterator() override {
    it_.reset();
    db_->ReleaseSnapshot(snapshot_);
  }

  void seek(ByteView key) override { it_->Seek(to_slice(key)); }
  void seek_to_first() override { it_->SeekToFirst(); }
  bool valid() const override { return it_->Valid(); }
  void next() override { it_->Next(); }
  ByteView key() const override { return to_view(it_->key()); }
  ByteView value() const override { return to_view(it_->value()); }
  Status status() const override { return from_rocksdb(it_->status(), "iterator"); }

 private:
  rocksdb::DB* db_ = nullptr;
  const rocksdb::Snapshot* snapshot_ = nullptr;
  std::unique_ptr<rocksdb::Iterator> it_;
};

class RocksDatabase final : public Database {
 public:
  RocksDatabase(std::string path, std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : path_(std::move(path)), db_(std::move(db)), handles_(std::move(handles)) {
    for (size_t i = 0; i < handles_.size(); ++i) {
      if (handles_[i]->GetID() != i) ids_match_columns_ = false;
    }
  }

  ~RocksDatabase() override {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      rocksdb::Status s = db_->DestroyColumnFamilyHandle(handle);
      if (!s.ok()) logger("storage")->error("closing column family in {} failed: {}", path_, s.ToString());
    }
    rocksdb::Status s = db_->Close();
    if (!s.ok()) logger("storage")->error("closing database {} failed: {}", path_, s.ToString());
    logger("storage")->info("closed database {}", path_);
  }

  Status get(Column column, ByteView key, Bytes* value) const override {
    rocksdb::PinnableSlice slice;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handle(column), to_slice(key), &slice);
    if (s.IsNotFound()) return Status::not_found("key " + to_hex(key) + " in " + describe(path_, column));
    if (!s.ok()) return from_rocksdb(s, "read from " + describe(path_, column) + " failed");
    value->assign(slice.data(), slice.data() + slice.size());
    return Status::ok();
  }

  Status write(WriteBatch& batch, bool sync) override {
    rocksdb::WriteOptions options;
    options.sync = sync;
    rocksdb::Status s;
    if (ids_match_columns_) {
      s = db_->Write(options, &batch_impl(batch).batch);
    } else {
      rocksdb::WriteBatch translated;
      IdTranslator translator(handles_, &translated);
      s = batch_impl(batch).batch.Iterate(&translator);
      if (s.ok()) s = db_->Write(options, &translated);
    }
    if (!s.ok()) {
      logger("storage")->error("write of {} records to {} failed: {}", batch.count(), path_, s.ToString());
      return from_rocksdb(s, "write of " + std::to_string(batch.count()) + " records to " + path_ + " failed");
    }
    return Status::ok();
  }

  std::unique_ptr<Iterator> new_iterator(Column column) const override {
    return std::make_unique<RocksIterator>(db_.get(), handle(column));
  }

  Status flush() override {
    rocksdb::FlushOptions options;
    options.wait = true;
    rocksdb::Status s = db_->Flush(options, handles_);
    return from_rocksdb(s, "flush of " + path_ + " failed");
  }

  Status compact(Column column) override {
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    rocksdb::Status s = db_->CompactRange(options, handle(column), nullptr, nullptr);
    return from_rocksdb(s, "compaction of " + describe(path_, column) + " failed");
  }

  uint64_t estimate_size_bytes(Column column) const override {
    uint64_t live = 0;
    uint64_t memtable = 0;
    db_->GetIntProperty(handle(column), rocksdb::DB::Properties::kLiveSstFilesSize, &live);
    db_->GetIntProperty(handle(column), rocksdb::DB::Properties::kCurSizeAllMemTables, &memtable);
    return live + memtable;
  }

 private:
  rocksdb::ColumnFamilyHandle* handle(Column column) const { return handles_[static_cast<size_t>(column)]; }

  const std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  // Indexed by Column; owned, destroyed before db_ closes.
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  // True when every family's RocksDB id equals its Column value, as in a
  // database this code created; batches then need no id translation.
  bool ids_match_columns_ = true;
};

}  // namespace

WriteBatch::WriteBatch() : impl_(std::make_unique<Impl>()) {}
WriteBatch::~WriteBatch() = default;

void WriteBatch::put(Column column, ByteView key, ByteView value) {
  // Put on an in-memory batch fails only past 4 GiB, which no caller nears.
  impl_->batch.Put(column_id_handle(column), to_slice(key), to_slice(value)).PermitUncheckedError();
}

void WriteBatch::erase(Column column, ByteView key) {
  impl_->batch.Delete(column_id_handle(column), to_slice(key)).PermitUncheckedError();
}

void WriteBatch::append(const WriteBatch& other) {
  // Both batches record Column values as ids, so an identity map copies them.
  static const std::vector<rocksdb::ColumnFamilyHandle*> handles = [] {
    std::vector<rocksdb::ColumnFamilyHandle*> out;
    for (int i = 0; i < kColumnCount; ++i) out.push_back(column_id_handle(static_cast<Column>(i)));
    return out;
  }();
  IdTranslator copier(handles, &impl_->batch);
  // Iterate fails only on a malformed batch, which put() and erase() never build.
  other.impl_->batch.Iterate(&copier).PermitUncheckedError();
}

size_t WriteBatch::count() const { return impl_->batch.Count(); }
size_t WriteBatch::size_bytes() const { return impl_->batch.GetDataSize(); }
void WriteBatch::clear() { impl_->batch.Clear(); }

Status Database::open(const std::string& path, std::unique_ptr<Database>* out) {
  return open(path, DatabaseOptions{}, out);
}

Status Database::open(const std::string& path, const DatabaseOptions& options,
                      std::unique_ptr<Database>* out) {
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_open_files = options.max_open_files;
  db_options.max_background_jobs = options.background_jobs;
  db_options.bytes_per_sync = 1 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kColumnCount; ++i) {
    auto column = static_cast<Column>(i);
    descriptors.emplace_back(std::string(column_name(column)), column_options(column, cache));
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  if (!s.ok()) {
    logger("storage")->error("opening database {} failed: {}", path, s.ToString());
    return from_rocksdb(s, "opening database " + path + " failed");
  }
  *out = std::make_unique<RocksDatabase>(path, std::unique_ptr<rocksdb::DB>(raw), std::move(handles));
  logger("storage")->info("opened database {} with {} column families", path, kColumnCount);
  return Status::ok();
}

std::string_view column_name(Column column) {
  auto index = static_cast<size_t>(column);
  if (index >= kColumnNames.size()) return "unknown";
  return kColumnNames[index];
}

}  // namespace automata::storage
