// Moving encrypted model fragments to and from a node: upload from the
// spool with resume, and fetch with proof checks and decryption.
#include "automata/cli/model_content.h"

#include "automata/cli/code_client.h"
#include "automata/cli/progress.h"
#include "automata/cli/rpc_client.h"
#include "automata/crypto/merkle.h"
#include "automata/crypto/model_content.h"
#include "automata/crypto/sha256.h"
#include "automata/v1/model.pb.h"
#include "cli/context.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

namespace automata::cli {

using nlohmann::json;

namespace {

// model_fragment_put requests in flight, each on its own connection, so
// the node checks one fragment while the next ones are on the wire.
constexpr size_t kUploadConnections = 3;

std::string encode_base64(ByteView bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

std::string fragment_name(uint64_t index, const Hash32& model_id) {
  return "fragment " + std::to_string(index) + " of model " + to_hex(model_id);
}

// The same kind of status with prefix before its message.
Status with_prefix(const Status& status, const std::string& prefix) {
  std::string message = prefix + status.message();
  switch (status.kind()) {
    case Status::Kind::kOk:
      return status;
    case Status::Kind::kNotFound:
      return Status::not_found(message);
    case Status::Kind::kCorruption:
      return Status::corruption(message);
    case Status::Kind::kInvalidArgument:
      return Status::invalid_argument(message);
    case Status::Kind::kIoError:
      return Status::io_error(message);
    case Status::Kind::kUnavailable:
      return Status::unavailable(message);
  }
  return Status::io_error(message);
}

// Uploads one fragment with its audit path. Stores whether the node newly
// stored it.
Status put_fragment(RpcClient& client, const ModelSpool& spool, uint64_t index, bool* stored, uint64_t* bytes) {
  Bytes sealed;
  Status s = read_spool_fragment(spool, index, &sealed);
  if (!s.is_ok()) return s;
  // NOTE: merkle_inclusion_proof hashes O(fragment_count) nodes per call,
  // so an upload costs O(count^2) hashes. That is about 10^6 hashes for a
  // 1 GiB file of 1 MiB fragments, but grows fast for very small fragments.
  json proof = json::array();
  for (const Hash32& node : crypto::merkle_inclusion_proof(spool.leaf_hashes, index)) proof.push_back(to_hex(node));
  json params = {
      {"id", to_hex(spool.model_id)}, {"index", index}, {"data", encode_base64(sealed)}, {"proof", proof}};
  json result;
  s = client.call("model_fragment_put", params, &result);
  if (!s.is_ok()) return with_prefix(s, "upload of " + fragment_name(index, spool.model_id) + " failed: ");
  *stored = result.value("stored", false);
  *bytes = sealed.size();
  return Status::ok();
}

}  // namespace

Status upload_spool(Context& ctx, const ModelSpool& spool, ProgressBar* progress, UploadReport* report) {
  *report = UploadReport{};
  json held_result;
  Status s = ctx.call("model_fragments_held", {{"id", to_hex(spool.model_id)}}, &held_result);
  if (!s.is_ok()) return s;
  std::set<uint64_t> held;
  for (const auto& item : held_result.value("held", json::array())) {
    if (item.is_number_unsigned() && item.get<uint64_t>() < spool.fragment_count()) held.insert(item.get<uint64_t>());
  }
  std::vector<uint64_t> missing;
  for (uint64_t index = 0; index < spool.fragment_count(); ++index) {
    if (held.count(index) != 0) {
      if (progress != nullptr) progress->add(spool.offsets[index + 1] - spool.offsets[index]);
    } else {
      missing.push_back(index);
    }
  }
  report->already_held = held.size();

  std::atomic<size_t> next{0};
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> stored_count{0};
  std::mutex error_mutex;
  Status first_error;  // guarded by error_mutex
  std::atomic<bool> failed{false};

  auto record_error = [&](Status error) {
    std::lock_guard<std::mutex> lock(error_mutex);
    if (first_error.is_ok()) first_error = std::move(error);
    failed = true;
  };
  auto worker = [&]() {
    std::unique_ptr<RpcClient> client;
    Status created = RpcClient::create(ctx.node_url, RpcClientOptions{}, &client);
    if (!created.is_ok()) {
      record_error(created);
      return;
    }
    while (!failed) {
      size_t slot = next.fetch_add(1);
      if (slot >= missing.size()) return;
      bool stored = false;
      uint64_t bytes = 0;
      Status put = put_fragment(*client, spool, missing[slot], &stored, &bytes);
      if (!put.is_ok()) {
        record_error(put);
        return;
      }
      ++sent;
      if (stored) ++stored_count;
      if (progress != nullptr) progress->add(bytes);
    }
  };

  std::vector<std::thread> workers;
  size_t connections = std::min(kUploadConnections, missing.size());
  for (size_t i = 0; i < connections; ++i) workers.emplace_back(worker);
  for (std::thread& thread : workers) thread.join();
  report->sent = sent;
  report->stored = stored_count;
  if (!first_error.is_ok()) return first_error;

  // Every fragment was accepted; check that the node now lists them all.
  s = ctx.call("model_fragments_held", {{"id", to_hex(spool.model_id)}}, &held_result);
  if (!s.is_ok()) return s;
  uint64_t count = 0;
  for (const auto& item : held_result.value("held", json::array())) {
    if (item.is_number_unsigned() && item.get<uint64_t>() < spool.fragment_count()) ++count;
  }
  if (count != spool.fragment_count()) {
    return Status::unavailable("the node lists " + std::to_string(count) + " of " +
                               std::to_string(spool.fragment_count()) + " fragments of model " +
                               to_hex(spool.model_id) + " after the upload; run 'automata model upload " +
                               to_hex(spool.model_id) + "' again");
  }
  return Status::ok();
}

Status open_fetched_fragment(const v1::ModelManifest& manifest, const Hash32& model_id, uint64_t index,
                             ByteView sealed, const std::vector<Hash32>& proof, ByteView content_key,
                             Bytes* plaintext) {
  auto root = to_array<32>(as_view(manifest.fragments_root()));
  if (!root) return Status::corruption("the manifest of model " + to_hex(model_id) + " has no 32-byte fragments_root");
  if (!crypto::merkle_verify_inclusion(crypto::merkle_leaf_hash(sealed), index, manifest.fragment_count(), proof,
                                       *root)) {
    return Status::corruption(fragment_name(index, model_id) +
                              " failed its Merkle proof against the manifest's fragments_root");
  }
  auto opened = crypto::open_fragment(content_key, ByteView(model_id), index, sealed);
  if (!opened) {
    return Status::corruption(fragment_name(index, model_id) + " failed to decrypt: the AES-GCM tag does not verify");
  }
  uint64_t offset = index * manifest.fragment_size();
  uint64_t expected = std::min(manifest.fragment_size(), manifest.total_size() - std::min(offset, manifest.total_size()));
  if (opened->size() != expected) {
    return Status::corruption(fragment_name(index, model_id) + " has " + std::to_string(opened->size()) +
                              " plaintext bytes, expected " + std::to_string(expected));
  }
  *plaintext = std::move(*opened);
  return Status::ok();
}

namespace {

Status fetch_fragment(Context& ctx, const ModelRecord& model, uint64_t index, Bytes* sealed,
                      std::vector<Hash32>* proof) {
  json result;
  Status s = ctx.call("model_fragment", {{"id", to_hex(model.id)}, {"index", index}}, &result);
  if (!s.is_ok()) return with_prefix(s, "fetch of " + fragment_name(index, model.id) + " failed: ");
  std::string data;
  if (!decode_base64(result.value("data", std::string()), &data)) {
    return Status::corruption("the node returned invalid base64 for " + fragment_name(index, model.id));
  }
  *sealed = to_bytes(data);
  proof->clear();
  for (const auto& node : result.value("proof", json::array())) {
    auto bytes = node.is_string() ? from_hex(node.get<std::string>()) : std::nullopt;
    if (!bytes || bytes->size() != 32) {
      return Status::corruption("the node returned a proof node that is not 32-byte hex for " +
                                fragment_name(index, model.id));
    }
    proof->push_back(*to_array<32>(*bytes));
  }
  return Status::ok();
}

Status fetch_into(Context& ctx, const ModelRecord& model, ByteView content_key, const std::string& out_path,
                  ProgressBar* progress) {
  const v1::ModelManifest& manifest = model.nft().manifest();
  std::ofstream file(out_path, std::ios::binary | std::ios::trunc);
  if (!file) return Status::io_error("cannot create output file " + out_path);

  // Fragments arrive in index order, so the plaintext is hashed as it is
  // written.
  crypto::Sha256 hasher;
  for (uint64_t index = 0; index < manifest.fragment_count(); ++index) {
    Bytes sealed;
    std::vector<Hash32> proof;
    Status s = fetch_fragment(ctx, model, index, &sealed, &proof);
    if (!s.is_ok()) return s;
    Bytes plaintext;
    s = open_fetched_fragment(manifest, model.id, index, sealed, proof, content_key, &plaintext);
    if (!s.is_ok()) return s;
    hasher.update(plaintext);
    file.write(reinterpret_cast<const char*>(plaintext.data()), static_cast<std::streamsize>(plaintext.size()));
    if (!file) return Status::io_error("cannot write output file " + out_path);
    if (progress != nullptr) progress->add(plaintext.size());
  }
  file.close();
  if (!file) return Status::io_error("cannot write output file " + out_path);
  Hash32 digest = hasher.finish();
  if (ByteView(digest).size() != manifest.plaintext_sha256().size() ||
      to_string(digest) != manifest.plaintext_sha256()) {
    return Status::corruption("the fetched file's SHA-256 " + to_hex(digest) +
                              " does not match the manifest's plaintext_sha256 " +
                              to_hex(as_view(manifest.plaintext_sha256())));
  }
  return Status::ok();
}

}  // namespace

Status fetch_content(Context& ctx, const ModelRecord& model, ByteView content_key, const std::string& out_path,
                     ProgressBar* progress) {
  const v1::ModelManifest& manifest = model.nft().manifest();
  Status s = check_fragment_plan(manifest.total_size(), manifest.fragment_size());
  if (s.is_ok()) {
    uint64_t count = (manifest.total_size() + manifest.fragment_size() - 1) / manifest.fragment_size();
    if (count != manifest.fragment_count()) {
      s = Status::corruption("the manifest of model " + to_hex(model.id) + " lists " +
                             std::to_string(manifest.fragment_count()) + " fragments, but its sizes make " +
                             std::to_string(count));
    }
  }
  if (s.is_ok()) s = fetch_into(ctx, model, content_key, out_path, progress);
  if (!s.is_ok()) {
    // Never leave a partial or unverified file behind.
    std::error_code ec;
    std::filesystem::remove(out_path, ec);
  }
  return s;
}

}  // namespace automata::cli
