// The upload spool: a model file encrypted fragment by fragment on disk,
// with the manifest fields computed in the same pass.
#include "automata/cli/model_content.h"

#include "automata/crypto/merkle.h"
#include "automata/crypto/model_content.h"
#include "automata/crypto/sha256.h"
#include "automata/v1/model.pb.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <system_error>

namespace automata::cli {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kDataFile = "fragments.bin";
constexpr const char* kIndexFile = "index.json";
constexpr int kSpoolFormat = 1;

std::string bytes_of(ByteView bytes) { return to_string(bytes); }

Status write_index(const ModelSpool& spool) {
  json leaves = json::array();
  for (const Hash32& leaf : spool.leaf_hashes) leaves.push_back(to_hex(leaf));
  json index = {
      {"format", kSpoolFormat},
      {"model_id", to_hex(spool.model_id)},
      {"fragment_size", spool.fragment_size},
      {"total_size", spool.total_size},
      {"plaintext_sha256", to_hex(spool.plaintext_sha256)},
      {"fragments_root", to_hex(spool.fragments_root)},
      {"leaf_hashes", leaves},
      {"offsets", spool.offsets},
  };
  // Written to a temporary name and renamed, so a spool directory either
  // has a complete index or none.
  const fs::path final_path = fs::path(spool.dir) / kIndexFile;
  const fs::path temp_path = fs::path(spool.dir) / (std::string(kIndexFile) + ".tmp");
  {
    std::ofstream file(temp_path, std::ios::binary | std::ios::trunc);
    file << index.dump(1) << "\n";
    if (!file.flush()) return Status::io_error("cannot write " + temp_path.string());
  }
  std::error_code ec;
  fs::rename(temp_path, final_path, ec);
  if (ec) return Status::io_error("cannot rename " + temp_path.string() + ": " + ec.message());
  return Status::ok();
}

Status parse_hash(const json& index, const char* field, const std::string& path, Hash32* out) {
  auto bytes = from_hex(index.value(field, std::string()));
  if (!bytes || bytes->size() != 32) {
    return Status::corruption(path + ": field '" + field + "' is not a 32-byte hex value");
  }
  *out = *to_array<32>(*bytes);
  return Status::ok();
}

}  // namespace

void ModelSpool::fill_manifest(v1::ModelManifest* manifest) const {
  manifest->set_fragment_size(fragment_size);
  manifest->set_fragment_count(fragment_count());
  manifest->set_total_size(total_size);
  manifest->set_fragments_root(bytes_of(fragments_root));
  manifest->set_plaintext_sha256(bytes_of(plaintext_sha256));
  manifest->set_cipher_suite(std::string(crypto::kModelCipherSuite));
}

std::string spool_dir_for(const std::string& keyring_dir, const Hash32& model_id) {
  fs::path keyring = fs::path(keyring_dir);
  // "dir/keyring/" has an empty file name, and its parent is "dir/keyring".
  if (!keyring.has_filename()) keyring = keyring.parent_path();
  return (keyring.parent_path() / "uploads" / to_hex(model_id)).string();
}

Status check_fragment_plan(uint64_t total_size, uint64_t fragment_size) {
  if (fragment_size < kMinFragmentSize || fragment_size > kMaxFragmentSize) {
    return Status::invalid_argument("invalid --fragment-size " + std::to_string(fragment_size) +
                                    ": it must be between " + std::to_string(kMinFragmentSize) + " and " +
                                    std::to_string(kMaxFragmentSize) + " bytes");
  }
  if (total_size == 0) return Status::invalid_argument("the model file is empty; a model needs at least one byte");
  uint64_t count = total_size / fragment_size + (total_size % fragment_size != 0 ? 1 : 0);
  if (count > kMaxFragmentCount) {
    return Status::invalid_argument("a file of " + std::to_string(total_size) + " bytes makes " +
                                    std::to_string(count) + " fragments of " + std::to_string(fragment_size) +
                                    " bytes, above the max of " + std::to_string(kMaxFragmentCount) +
                                    "; pass a larger --fragment-size");
  }
  return Status::ok();
}

Status encrypt_to_spool(const std::string& path, const Hash32& model_id, ByteView content_key,
                        uint64_t fragment_size, const std::string& dir, ModelSpool* out) {
  if (content_key.size() != kContentKeySize) {
    return Status::invalid_argument("the content key has " + std::to_string(content_key.size()) +
                                    " bytes, expected " + std::to_string(kContentKeySize));
  }
  std::error_code ec;
  uint64_t total_size = fs::file_size(path, ec);
  if (ec) return Status::io_error("cannot read model file " + path + ": " + ec.message());
  Status s = check_fragment_plan(total_size, fragment_size);
  if (!s.is_ok()) return s;

  std::ifstream input(path, std::ios::binary);
  if (!input) return Status::io_error("cannot open model file " + path);
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return Status::io_error("cannot create spool directory " + dir + ": " + ec.message());
  const fs::path data_path = fs::path(dir) / kDataFile;
  std::ofstream output(data_path, std::ios::binary | std::ios::trunc);
  if (!output) return Status::io_error("cannot create " + data_path.string());

  ModelSpool spool;
  spool.dir = dir;
  spool.model_id = model_id;
  spool.fragment_size = fragment_size;
  spool.total_size = total_size;
  spool.offsets.push_back(0);

  crypto::Sha256 plaintext_hash;
  Bytes buffer(fragment_size);
  uint64_t remaining = total_size;
  for (uint64_t index = 0; remaining > 0; ++index) {
    size_t length = static_cast<size_t>(std::min(remaining, fragment_size));
    input.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(length));
    if (static_cast<size_t>(input.gcount()) != length) {
      return Status::io_error("model file " + path + " ended early at byte " +
                              std::to_string(total_size - remaining + static_cast<uint64_t>(input.gcount())) +
                              "; was it changed while being read?");
    }
    ByteView plaintext(buffer.data(), length);
    plaintext_hash.update(plaintext);
    Bytes sealed = crypto::seal_fragment(content_key, ByteView(model_id), index, plaintext);
    spool.leaf_hashes.push_back(crypto::merkle_leaf_hash(sealed));
    output.write(reinterpret_cast<const char*>(sealed.data()), static_cast<std::streamsize>(sealed.size()));
    if (!output) return Status::io_error("cannot write " + data_path.string());
    spool.offsets.push_back(spool.offsets.back() + sealed.size());
    remaining -= length;
  }
  output.close();
  if (!output) return Status::io_error("cannot write " + data_path.string());

  spool.plaintext_sha256 = plaintext_hash.finish();
  spool.fragments_root = crypto::merkle_root_from_leaves(spool.leaf_hashes);
  s = write_index(spool);
  if (!s.is_ok()) return s;
  *out = std::move(spool);
  return Status::ok();
}

Status load_spool(const std::string& dir, ModelSpool* out) {
  const fs::path index_path = fs::path(dir) / kIndexFile;
  const fs::path data_path = fs::path(dir) / kDataFile;
  const std::string index_name = index_path.string();
  std::error_code ec;
  if (!fs::exists(index_path, ec)) return Status::not_found("no upload spool in " + dir);

  json index;
  {
    std::ifstream file(index_path, std::ios::binary);
    index = json::parse(file, nullptr, /*allow_exceptions=*/false);
  }
  if (!index.is_object() || index.value("format", 0) != kSpoolFormat) {
    return Status::corruption(index_name + " is not a spool index of format " + std::to_string(kSpoolFormat));
  }

  ModelSpool spool;
  spool.dir = dir;
  Status s = parse_hash(index, "model_id", index_name, &spool.model_id);
  if (!s.is_ok()) return s;
  s = parse_hash(index, "plaintext_sha256", index_name, &spool.plaintext_sha256);
  if (!s.is_ok()) return s;
  s = parse_hash(index, "fragments_root", index_name, &spool.fragments_root);
  if (!s.is_ok()) return s;
  spool.fragment_size = index.value("fragment_size", uint64_t{0});
  spool.total_size = index.value("total_size", uint64_t{0});
  for (const auto& leaf : index.value("leaf_hashes", json::array())) {
    auto bytes = leaf.is_string() ? from_hex(leaf.get<std::string>()) : std::nullopt;
    if (!bytes || bytes->size() != 32) return Status::corruption(index_name + ": a leaf hash is not 32-byte hex");
    spool.leaf_hashes.push_back(*to_array<32>(*bytes));
  }
  for (const auto& offset : index.value("offsets", json::array())) {
    if (!offset.is_number_unsigned()) return Status::corruption(index_name + ": an offset is not an integer");
    spool.offsets.push_back(offset.get<uint64_t>());
  }

  if (spool.leaf_hashes.empty() || spool.offsets.size() != spool.leaf_hashes.size() + 1) {
    return Status::corruption(index_name + " lists " + std::to_string(spool.leaf_hashes.size()) +
                              " leaf hashes and " + std::to_string(spool.offsets.size()) +
                              " offsets; expected one more offset than leaf hashes");
  }
  for (size_t i = 1; i < spool.offsets.size(); ++i) {
    if (spool.offsets[i] <= spool.offsets[i - 1]) {
      return Status::corruption(index_name + ": offset " + std::to_string(i) + " does not increase");
    }
  }
  if (crypto::merkle_root_from_leaves(spool.leaf_hashes) != spool.fragments_root) {
    return Status::corruption(index_name + ": the leaf hashes do not give fragments_root");
  }
  uint64_t data_size = fs::file_size(data_path, ec);
  if (ec || data_size != spool.offsets.back()) {
    return Status::corruption(data_path.string() + " has " + (ec ? std::string("no") : std::to_string(data_size)) +
                              " bytes, expected " + std::to_string(spool.offsets.back()));
  }
  *out = std::move(spool);
  return Status::ok();
}

Status read_spool_fragment(const ModelSpool& spool, uint64_t index, Bytes* sealed) {
  if (index >= spool.fragment_count()) {
    return Status::invalid_argument("fragment index " + std::to_string(index) + " is out of range: the spool has " +
                                    std::to_string(spool.fragment_count()) + " fragments");
  }
  const fs::path data_path = fs::path(spool.dir) / kDataFile;
  std::ifstream file(data_path, std::ios::binary);
  if (!file) return Status::io_error("cannot open " + data_path.string());
  uint64_t begin = spool.offsets[index];
  uint64_t length = spool.offsets[index + 1] - begin;
  sealed->resize(static_cast<size_t>(length));
  file.seekg(static_cast<std::streamoff>(begin));
  file.read(reinterpret_cast<char*>(sealed->data()), static_cast<std::streamsize>(length));
  if (static_cast<uint64_t>(file.gcount()) != length) {
    return Status::io_error("cannot read fragment " + std::to_string(index) + " from " + data_path.string());
  }
  if (crypto::merkle_leaf_hash(*sealed) != spool.leaf_hashes[index]) {
    return Status::corruption("fragment " + std::to_string(index) + " in " + data_path.string() +
                              " does not match its leaf hash, so the spool is damaged");
  }
  return Status::ok();
}

}  // namespace automata::cli
