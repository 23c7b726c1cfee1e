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
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace automata::cli {

using nlohmann::json;

namespace {

// Fragment uploads in flight, each on its own connection, so the node
// checks one fragment while the next ones are on the wire.
constexpr size_t kUploadConnections = 4;
// Fragment downloads in flight when the node serves fragment bytes, each on
// its own connection. Workers stay at most kFetchWindow fragments ahead of
// the in-order writer, so at most that many plaintext fragments (2 MiB each
// at most) wait in memory.
constexpr size_t kFetchConnections = 4;
constexpr uint64_t kFetchWindow = 2 * kFetchConnections;

// Header of the audit path on the fragment bytes routes (docs/rpc.md).
constexpr char kProofHeader[] = "X-Automata-Proof";

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

std::string fragment_target(const Hash32& model_id, uint64_t index) {
  return "/v1/models/" + to_hex(model_id) + "/fragments/" + std::to_string(index);
}

// The status for a fragment bytes response that is not 200, with the
// message of its JSON-RPC error body when it has one.
Status http_failure(const HttpResponse& response, const std::string& operation) {
  std::string message = response.body.substr(0, 200);
  json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    message = doc["error"].value("message", message);
  }
  std::string text = operation + " failed: HTTP " + std::to_string(response.status) + ": " + message;
  if (response.status == 404) return Status::not_found(text);
  if (response.status == 400 || response.status == 413) return Status::invalid_argument(text);
  return Status::io_error(text);
}

// Splits the comma-separated hex hashes of an X-Automata-Proof header.
bool parse_proof_header(const std::string& text, std::vector<Hash32>* proof) {
  proof->clear();
  size_t position = 0;
  while (position < text.size()) {
    size_t comma = text.find(',', position);
    std::string item = text.substr(position, comma == std::string::npos ? std::string::npos : comma - position);
    auto bytes = item.size() == 64 ? from_hex(item) : std::nullopt;
    if (!bytes || bytes->size() != 32) return false;
    proof->push_back(*to_array<32>(*bytes));
    if (comma == std::string::npos) break;
    position = comma + 1;
  }
  return true;
}

// Uploads one fragment as raw bytes with PUT.
Status put_fragment_bytes(RpcClient& client, const ModelSpool& spool, uint64_t index, const Bytes& sealed,
                          const std::vector<Hash32>& proof, bool* stored) {
  HttpRequest request;
  request.method = "PUT";
  request.target = fragment_target(spool.model_id, index);
  request.headers.emplace_back("Content-Type", "application/octet-stream");
  std::string proof_text;
  for (const Hash32& node : proof) {
    if (!proof_text.empty()) proof_text.push_back(',');
    proof_text += to_hex(node);
  }
  request.headers.emplace_back(kProofHeader, proof_text);
  request.body.assign(sealed.begin(), sealed.end());
  HttpResponse response;
  std::string operation = "upload of " + fragment_name(index, spool.model_id);
  Status s = client.request(request, &response);
  if (!s.is_ok()) return with_prefix(s, operation + " failed: ");
  if (response.status != 200) return http_failure(response, operation);
  json result = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!result.is_object() || !result.contains("stored") || !result["stored"].is_boolean()) {
    return Status::io_error(operation + ": the node's response has no boolean \"stored\": " +
                            response.body.substr(0, 200));
  }
  *stored = result["stored"].get<bool>();
  return Status::ok();
}

// Uploads one fragment with its audit path, as raw bytes when binary is
// set and through model_fragment_put otherwise. Stores whether the node
// newly stored it.
Status put_fragment(RpcClient& client, const ModelSpool& spool, uint64_t index, bool binary, bool* stored,
                    uint64_t* bytes) {
  Bytes sealed;
  Status s = read_spool_fragment(spool, index, &sealed);
  if (!s.is_ok()) return s;
  // NOTE: merkle_inclusion_proof hashes O(fragment_count) nodes per call,
  // so an upload costs O(count^2) hashes. That is about 10^6 hashes for a
  // 1 GiB file of 1 MiB fragments, but grows fast for very small fragments.
  if (binary) {
    s = put_fragment_bytes(client, spool, index, sealed, crypto::merkle_inclusion_proof(spool.leaf_hashes, index),
                           stored);
    if (s.is_ok()) *bytes = sealed.size();
    return s;
  }
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
  // The held call above tells whether the node serves fragment bytes.
  RpcClient* main_client = nullptr;
  s = ctx.client(&main_client);
  if (!s.is_ok()) return s;
  const bool binary = main_client->serves_fragment_bytes();

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
      Status put = put_fragment(*client, spool, missing[slot], binary, &stored, &bytes);
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

// Fetches one fragment as raw bytes with GET.
Status fetch_fragment_bytes(RpcClient& client, const ModelRecord& model, uint64_t index, Bytes* sealed,
                            std::vector<Hash32>* proof) {
  HttpRequest request;
  request.method = "GET";
  request.target = fragment_target(model.id, index);
  HttpResponse response;
  std::string operation = "fetch of " + fragment_name(index, model.id);
  Status s = client.request(request, &response);
  if (!s.is_ok()) return with_prefix(s, operation + " failed: ");
  if (response.status != 200) return http_failure(response, operation);
  const std::string* proof_text = response.header(kProofHeader);
  if (proof_text == nullptr || !parse_proof_header(*proof_text, proof)) {
    return Status::corruption("the node returned no valid " + std::string(kProofHeader) + " header for " +
                              fragment_name(index, model.id));
  }
  sealed->assign(response.body.begin(), response.body.end());
  return Status::ok();
}

// Writes fragments in index order to file while hashing them.
struct OrderedSink {
  std::ofstream* file;
  const std::string* path;
  crypto::Sha256* hasher;
  ProgressBar* progress;

  Status write(const Bytes& plaintext) {
    hasher->update(plaintext);
    file->write(reinterpret_cast<const char*>(plaintext.data()), static_cast<std::streamsize>(plaintext.size()));
    if (!*file) return Status::io_error("cannot write output file " + *path);
    if (progress != nullptr) progress->add(plaintext.size());
    return Status::ok();
  }
};

// Fetches fragments first..count-1 over the fragment bytes routes with
// kFetchConnections requests in flight. Workers verify and decrypt; this
// thread writes in index order, and no worker runs more than kFetchWindow
// fragments ahead of the writer, which bounds memory.
Status fetch_parallel(Context& ctx, const ModelRecord& model, ByteView content_key, uint64_t first,
                      OrderedSink& sink) {
  const v1::ModelManifest& manifest = model.nft().manifest();
  const uint64_t count = manifest.fragment_count();
  std::mutex mutex;
  std::condition_variable changed;
  uint64_t next_claim = first;       // guarded by mutex
  uint64_t written = first;          // guarded by mutex
  std::map<uint64_t, Bytes> ready;   // guarded by mutex
  Status first_error;                // guarded by mutex

  auto fail = [&](Status error) {
    std::lock_guard lock(mutex);
    if (first_error.is_ok()) first_error = std::move(error);
    changed.notify_all();
  };
  auto worker = [&]() {
    std::unique_ptr<RpcClient> client;
    Status created = RpcClient::create(ctx.node_url, RpcClientOptions{}, &client);
    if (!created.is_ok()) return fail(created);
    while (true) {
      uint64_t index = 0;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] {
          return !first_error.is_ok() || next_claim >= count || next_claim < written + kFetchWindow;
        });
        if (!first_error.is_ok() || next_claim >= count) return;
        index = next_claim++;
      }
      Bytes sealed;
      std::vector<Hash32> proof;
      Status s = fetch_fragment_bytes(*client, model, index, &sealed, &proof);
      Bytes plaintext;
      if (s.is_ok()) s = open_fetched_fragment(manifest, model.id, index, sealed, proof, content_key, &plaintext);
      if (!s.is_ok()) return fail(s);
      std::lock_guard lock(mutex);
      ready.emplace(index, std::move(plaintext));
      changed.notify_all();
    }
  };

  std::vector<std::thread> workers;
  size_t connections = static_cast<size_t>(std::min<uint64_t>(kFetchConnections, count - first));
  for (size_t i = 0; i < connections; ++i) workers.emplace_back(worker);
  for (uint64_t index = first; index < count; ++index) {
    Bytes plaintext;
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return !first_error.is_ok() || ready.count(index) != 0; });
      if (!first_error.is_ok()) break;
      auto item = ready.find(index);
      plaintext = std::move(item->second);
      ready.erase(item);
      written = index + 1;
      changed.notify_all();
    }
    Status s = sink.write(plaintext);
    if (!s.is_ok()) {
      fail(s);
      break;
    }
  }
  for (std::thread& thread : workers) thread.join();
  return first_error;
}

Status fetch_into(Context& ctx, const ModelRecord& model, ByteView content_key, const std::string& out_path,
                  ProgressBar* progress) {
  const v1::ModelManifest& manifest = model.nft().manifest();
  std::ofstream file(out_path, std::ios::binary | std::ios::trunc);
  if (!file) return Status::io_error("cannot create output file " + out_path);

  // Fragments are written in index order, so the plaintext is hashed as it
  // is written. Fragment 0 goes through model_fragment, whose response
  // tells whether the node serves fragment bytes for the rest.
  crypto::Sha256 hasher;
  OrderedSink sink{&file, &out_path, &hasher, progress};
  for (uint64_t index = 0; index < manifest.fragment_count(); ++index) {
    Bytes sealed;
    std::vector<Hash32> proof;
    Status s = fetch_fragment(ctx, model, index, &sealed, &proof);
    if (!s.is_ok()) return s;
    Bytes plaintext;
    s = open_fetched_fragment(manifest, model.id, index, sealed, proof, content_key, &plaintext);
    if (!s.is_ok()) return s;
    s = sink.write(plaintext);
    if (!s.is_ok()) return s;

    RpcClient* client = nullptr;
    if (ctx.client(&client).is_ok() && client->serves_fragment_bytes() && index + 1 < manifest.fragment_count()) {
      s = fetch_parallel(ctx, model, content_key, index + 1, sink);
      if (!s.is_ok()) return s;
      break;
    }
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
