#include "automata/node/fragment_store.h"

#include "automata/storage/database.h"
#include "automata/types/logging.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace automata::node {

namespace {

constexpr storage::Column kColumn = storage::Column::kDefault;
constexpr size_t kKeySize = 32 + 4;
// An audit path of a tree with at most 2^20 leaves has at most 20 hashes.
// The bound leaves headroom, and a stored value past it is damaged.
constexpr uint32_t kMaxProofHashes = 64;

std::string short_id(const Hash32& id) { return to_hex(id).substr(0, 16); }

void put_u32(Bytes& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

uint32_t get_u32(const uint8_t* in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | uint32_t{in[3]};
}

// Value layout: big-endian u32 proof length || proof hashes || data.
Bytes encode_value(const StoredFragment& fragment) {
  Bytes out;
  out.reserve(4 + 32 * fragment.proof.size() + fragment.data.size());
  put_u32(out, static_cast<uint32_t>(fragment.proof.size()));
  for (const auto& hash : fragment.proof) out.insert(out.end(), hash.begin(), hash.end());
  out.insert(out.end(), fragment.data.begin(), fragment.data.end());
  return out;
}

bool decode_value(ByteView value, StoredFragment* out) {
  if (value.size() < 4) return false;
  uint32_t count = get_u32(value.data());
  if (count > kMaxProofHashes || value.size() < 4 + size_t{32} * count) return false;
  out->proof.assign(count, Hash32{});
  const uint8_t* cursor = value.data() + 4;
  for (uint32_t i = 0; i < count; ++i, cursor += 32) std::copy_n(cursor, 32, out->proof[i].begin());
  out->data.assign(cursor, value.data() + value.size());
  return true;
}

Bytes model_prefix(const Hash32& model) { return Bytes(model.begin(), model.end()); }

bool starts_with(ByteView key, ByteView prefix) {
  return key.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), key.begin());
}

}  // namespace

Bytes fragment_key(const Hash32& model, uint32_t index) {
  Bytes key(model.begin(), model.end());
  put_u32(key, index);
  return key;
}

FragmentStore::FragmentStore(std::string path, std::unique_ptr<storage::Database> db)
    : path_(std::move(path)), db_(std::move(db)) {}

Status FragmentStore::open(const std::string& path, std::unique_ptr<FragmentStore>* out) {
  storage::DatabaseOptions options;
  // Fragment reads are large and rarely repeated, so a small cache will do.
  options.block_cache_bytes = size_t{32} << 20;
  options.max_open_files = 256;
  options.background_jobs = 1;
  std::unique_ptr<storage::Database> db;
  Status status = storage::Database::open(path, options, &db);
  if (!status.is_ok()) {
    logger("fragments")->error("cannot open the fragment store at {}: {}", path, status.to_string());
    return status;
  }
  out->reset(new FragmentStore(path, std::move(db)));
  logger("fragments")->info("fragment store opened at {}", path);
  return Status::ok();
}

FragmentStore::~FragmentStore() {
  Status status = db_->flush();
  if (!status.is_ok()) logger("fragments")->error("flushing the fragment store at {} failed: {}", path_, status.to_string());
  db_.reset();
  logger("fragments")->info("fragment store at {} closed", path_);
}

Status FragmentStore::put(const Hash32& model, uint32_t index, const StoredFragment& fragment, bool* stored) {
  Bytes key = fragment_key(model, index);
  std::lock_guard lock(put_mutex_);
  Bytes existing;
  Status status = db_->get(kColumn, key, &existing);
  if (status.is_ok()) {
    *stored = false;
    return Status::ok();
  }
  if (!status.is_not_found()) {
    logger("fragments")->error("reading fragment {} of model {} failed: {}", index, short_id(model), status.to_string());
    return status;
  }
  storage::WriteBatch batch;
  batch.put(kColumn, key, encode_value(fragment));
  // Not synced: no fsync per fragment, because a fragment lost in a crash
  // can be uploaded again or fetched from peers, and held() then omits it.
  status = db_->write(batch, false);
  if (!status.is_ok()) {
    logger("fragments")->error("writing fragment {} of model {} failed: {}", index, short_id(model), status.to_string());
    return status;
  }
  *stored = true;
  return Status::ok();
}

Status FragmentStore::get(const Hash32& model, uint32_t index, StoredFragment* out) const {
  Bytes value;
  Status status = db_->get(kColumn, fragment_key(model, index), &value);
  if (status.is_not_found()) {
    return Status::not_found(fmt::format("fragment {} of model {} is not held by this node", index, to_hex(model)));
  }
  if (!status.is_ok()) {
    logger("fragments")->error("reading fragment {} of model {} failed: {}", index, short_id(model), status.to_string());
    return status;
  }
  if (!decode_value(value, out)) {
    logger("fragments")->error("stored fragment {} of model {} does not decode ({} bytes)", index, short_id(model),
                               value.size());
    return Status::corruption(fmt::format("stored fragment {} of model {} does not decode", index, to_hex(model)));
  }
  return Status::ok();
}

bool FragmentStore::has(const Hash32& model, uint32_t index) const {
  Bytes value;
  Status status = db_->get(kColumn, fragment_key(model, index), &value);
  if (!status.is_ok() && !status.is_not_found()) {
    logger("fragments")->error("reading fragment {} of model {} failed: {}", index, short_id(model), status.to_string());
  }
  return status.is_ok();
}

Status FragmentStore::held(const Hash32& model, std::vector<uint32_t>* indices) const {
  indices->clear();
  Bytes prefix = model_prefix(model);
  auto it = db_->new_iterator(kColumn);
  for (it->seek(prefix); it->valid() && starts_with(it->key(), prefix); it->next()) {
    if (it->key().size() != kKeySize) continue;
    indices->push_back(get_u32(it->key().data() + 32));
  }
  Status status = it->status();
  if (!status.is_ok()) {
    logger("fragments")->error("listing fragments of model {} failed: {}", short_id(model), status.to_string());
  }
  return status;
}

Status FragmentStore::models(std::vector<Hash32>* ids) const {
  ids->clear();
  auto it = db_->new_iterator(kColumn);
  it->seek_to_first();
  while (it->valid()) {
    if (it->key().size() != kKeySize) {
      it->next();
      continue;
    }
    Hash32 id{};
    std::copy_n(it->key().data(), 32, id.begin());
    ids->push_back(id);
    // Skip the rest of this model: seek past index 0xFFFFFFFF.
    Bytes next = fragment_key(id, 0xFFFFFFFFu);
    next.push_back(0);
    it->seek(next);
  }
  Status status = it->status();
  if (!status.is_ok()) logger("fragments")->error("listing stored models failed: {}", status.to_string());
  return status;
}

Status FragmentStore::erase(const Hash32& model, uint32_t index) {
  storage::WriteBatch batch;
  batch.erase(kColumn, fragment_key(model, index));
  Status status = db_->write(batch, false);
  if (!status.is_ok()) {
    logger("fragments")->error("deleting fragment {} of model {} failed: {}", index, short_id(model), status.to_string());
  }
  return status;
}

Status FragmentStore::erase_model(const Hash32& model, size_t* erased) {
  std::vector<uint32_t> indices;
  Status status = held(model, &indices);
  if (!status.is_ok()) return status;
  storage::WriteBatch batch;
  for (uint32_t index : indices) batch.erase(kColumn, fragment_key(model, index));
  status = db_->write(batch, false);
  if (!status.is_ok()) {
    logger("fragments")->error("deleting the fragments of model {} failed: {}", short_id(model), status.to_string());
    return status;
  }
  if (erased != nullptr) *erased = indices.size();
  return Status::ok();
}

}  // namespace automata::node
