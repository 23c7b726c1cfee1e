#include "automata/cli/code_client.h"

#include "automata/crypto/bech32.h"
#include "automata/crypto/sha256.h"
#include "automata/v1/code.pb.h"
#include "cli/context.h"
#include "cli/tx_common.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <set>
#include <thread>

namespace automata::cli {

using nlohmann::json;

namespace {

// tx_results polls read no block, so they are cheap. A dev node commits a
// tx about 15 ms after it arrives, so the polls of the first
// kFirstPollPeriod come every 1 ms, then every 10 ms until kFastPollPeriod,
// then every 100 ms, for a remote or busy node.
constexpr std::chrono::milliseconds kFirstPollInterval{1};
constexpr std::chrono::milliseconds kFirstPollPeriod{100};
constexpr std::chrono::milliseconds kFastPollInterval{10};
constexpr std::chrono::milliseconds kSlowPollInterval{100};
constexpr std::chrono::seconds kFastPollPeriod{2};
// JSON-RPC "method not found", returned by nodes older than tx_results.
constexpr int kMethodNotFound = -32601;
// Hashes per tx_results request, the node's maximum.
constexpr size_t kMaxResultQueries = 1000;
// Upload txs submitted before waiting for the oldest one, well below the
// mempool's default max nonce gap of 64.
constexpr size_t kUploadWindow = 32;
// Blobs per upload tx, so that the per-blob gas stays well inside
// max_gas_per_tx.
constexpr size_t kMaxBlobsPerUpload = 1500;
// Hashes per blobs_missing request, the node's maximum. A version has at
// most 10,000 files, so one request covers it.
constexpr size_t kMissingQueryBatch = 10'000;

}  // namespace

struct CodeSigner::State {
  Context* ctx = nullptr;
  CodeTxOptions options;
  std::optional<crypto::PrivateKey> key;
  Address address{};
  std::string chain_id;
  uint64_t min_gas_price = 0;
  std::optional<Amount> fixed_fee;
  uint64_t next_nonce = 0;
  // Set when the node has no tx_results method, so that waits use tx_get.
  bool legacy_tx_get = false;
  CodeTreeLimits tree_limits;
};

CodeSigner::CodeSigner(std::unique_ptr<State> state) : state_(std::move(state)) {}
CodeSigner::~CodeSigner() = default;

const Address& CodeSigner::address() const { return state_->address; }
const CodeTxOptions& CodeSigner::options() const { return state_->options; }
const CodeTreeLimits& CodeSigner::tree_limits() const { return state_->tree_limits; }

uint64_t CodeSigner::next_nonce() const { return state_->next_nonce; }

Status CodeSigner::open(Context& ctx, const CodeTxOptions& options, std::unique_ptr<CodeSigner>* out) {
  if (options.from.empty()) return Status::invalid_argument("missing --from KEY: name the key that signs the tx");
  auto state = std::make_unique<State>();
  state->ctx = &ctx;
  state->options = options;
  if (!options.fee.empty()) {
    Amount fee = 0;
    Status s = parse_fee(options.fee, &fee);
    if (!s.is_ok()) return s;
    state->fixed_fee = fee;
  }
  Status s = ctx.load_key(options.from, &state->key);
  if (!s.is_ok()) return s;
  state->address = crypto::address_of(state->key->public_key());

  json status;
  s = ctx.call("node_status", json::object(), &status);
  if (!s.is_ok()) return s;
  state->chain_id = status.value("chain_id", std::string());
  s = json_uint(status, "min_gas_price", &state->min_gas_price);
  if (!s.is_ok()) return s;
  // Nodes that predate the limits field report none; a zero keeps the default.
  const json limits = status.value("limits", json::object());
  auto limit = [&limits](const char* name, uint64_t* value) {
    auto it = limits.find(name);
    if (it != limits.end() && it->is_number_unsigned() && it->get<uint64_t>() > 0) *value = it->get<uint64_t>();
  };
  limit("max_blob_bytes", &state->tree_limits.max_blob_bytes);
  // The chain rejects larger txs anyway, so its bound wins over a larger
  // --max-tx-bytes.
  uint64_t chain_max_tx_bytes = 0;
  limit("max_tx_bytes", &chain_max_tx_bytes);
  if (chain_max_tx_bytes > 0) state->options.max_tx_bytes = std::min(state->options.max_tx_bytes, chain_max_tx_bytes);
  limit("max_files_per_version", &state->tree_limits.max_files);
  limit("max_path_bytes", &state->tree_limits.max_path_bytes);

  json account;
  s = ctx.call("account_get", {{"address", crypto::encode_address(state->address)}}, &account);
  if (s.is_ok()) {
    // pending_nonce counts the account's txs still in the mempool; nodes
    // before it report only the committed nonce.
    s = json_uint(account, account.contains("pending_nonce") ? "pending_nonce" : "nonce", &state->next_nonce);
    if (!s.is_ok()) return s;
  } else if (!s.is_not_found()) {
    return s;
  }
  out->reset(new CodeSigner(std::move(state)));
  return Status::ok();
}

Status CodeSigner::sign(std::vector<EncodedOp> ops, const GasHint& hint, uint64_t nonce, SignedTx* tx) const {
  OpsTxRequest request;
  request.chain_id = state_->chain_id;
  request.nonce = nonce;
  request.ops = std::move(ops);

  auto set_gas = [&](uint64_t gas) {
    request.gas_limit = gas;
    if (state_->fixed_fee) {
      request.fee = *state_->fixed_fee;
    } else if (!checked_mul(gas, state_->min_gas_price, request.fee)) {
      return Status::invalid_argument("gas * min_gas_price overflows; pass --fee");
    }
    return Status::ok();
  };
  Status s = set_gas(state_->options.gas.value_or(0));
  // The gas limit depends on the tx size, which depends on the gas and fee
  // varints. The size is computed without building the tx, so a few rounds
  // find a gas limit that covers the final size, and the tx is built once.
  // estimate_ops_gas() adds a quarter as margin, which covers the byte or
  // two a last change of the varints may add.
  for (int round = 0; s.is_ok() && !state_->options.gas && round < 4; ++round) {
    uint64_t gas = estimate_ops_gas(signed_ops_tx_size(request), request.ops.size(), hint);
    if (round > 0 && gas == request.gas_limit) break;
    s = set_gas(gas);
  }
  if (!s.is_ok()) return s;
  s = build_signed_ops_tx(request, *state_->key, tx);
  if (!s.is_ok()) return s;
  if (tx->tx_bytes.size() > state_->options.max_tx_bytes) {
    return Status::invalid_argument("the tx has " + std::to_string(tx->tx_bytes.size()) +
                                    " bytes, above the max tx size of " +
                                    std::to_string(state_->options.max_tx_bytes) + " bytes");
  }
  return Status::ok();
}

Status CodeSigner::send(const SignedTx& tx, Hash32* hash) {
  // The tx travels as bytes, which spares both ends the hex and the JSON
  // parse of a large upload or tree.
  RpcClient* rpc = nullptr;
  Status s = state_->ctx->client(&rpc);
  if (!s.is_ok()) return s;
  json submitted;
  RpcError error;
  s = rpc->submit_tx_bytes(tx.tx_bytes, &submitted, &error);
  if (!s.is_ok()) {
    if (error.code == -32002) return Status::invalid_argument(rejection_text(error));
    return s;
  }
  ++state_->next_nonce;
  *hash = tx.hash;
  return Status::ok();
}

Status CodeSigner::submit(std::vector<EncodedOp> ops, const GasHint& hint, Hash32* hash) {
  SignedTx tx;
  Status s = sign(std::move(ops), hint, state_->next_nonce, &tx);
  if (!s.is_ok()) return s;
  return send(tx, hash);
}

Status CodeSigner::wait(const Hash32& hash, json* committed) {
  std::vector<json> results(1);
  Status s = wait_committed({hash}, 1, &results);
  if (!s.is_ok()) return s;
  *committed = std::move(results[0]);
  return Status::ok();
}

Status CodeSigner::poll_results(const std::vector<Hash32>& hashes, std::vector<json>* committed) {
  std::vector<size_t> pending;
  for (size_t i = 0; i < hashes.size(); ++i) {
    if ((*committed)[i].is_null()) pending.push_back(i);
  }
  for (size_t start = 0; start < pending.size(); start += kMaxResultQueries) {
    size_t end = std::min(pending.size(), start + kMaxResultQueries);
    if (!state_->legacy_tx_get) {
      json list = json::array();
      for (size_t i = start; i < end; ++i) list.push_back(to_hex(hashes[pending[i]]));
      json reply;
      RpcError error;
      Status s = state_->ctx->call("tx_results", {{"hashes", list}}, &reply, &error);
      if (s.is_ok()) {
        const json results = reply.value("results", json::array());
        if (!results.is_array() || results.size() != end - start) {
          return Status::io_error("tx_results returned " + std::to_string(results.size()) + " results for " +
                                  std::to_string(end - start) + " hashes");
        }
        for (size_t i = start; i < end; ++i) {
          const json& result = results[i - start];
          if (result.value("status", std::string()) == "committed") (*committed)[pending[i]] = result;
        }
        continue;
      }
      if (error.code != kMethodNotFound) return s;
      state_->legacy_tx_get = true;
    }
    for (size_t i = start; i < end; ++i) {
      json result;
      Status s = state_->ctx->call("tx_get", {{"hash", to_hex(hashes[pending[i]])}}, &result);
      // A just-submitted tx may not be indexed yet; not_found means pending.
      if (!s.is_ok() && !s.is_not_found()) return s;
      if (s.is_ok() && result.value("status", std::string()) == "committed") (*committed)[pending[i]] = std::move(result);
    }
  }
  return Status::ok();
}

Status CodeSigner::wait_committed(const std::vector<Hash32>& hashes, size_t count, std::vector<json>* committed) {
  auto started = std::chrono::steady_clock::now();
  auto deadline = started + std::chrono::seconds(state_->options.timeout_seconds);
  while (true) {
    Status s = poll_results(hashes, committed);
    if (!s.is_ok()) return s;
    size_t first_pending = 0;
    while (first_pending < count && !(*committed)[first_pending].is_null()) ++first_pending;
    if (first_pending == count) return Status::ok();
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      std::string hex = to_hex(hashes[first_pending]);
      return Status::unavailable("tx " + hex + " was not committed within " +
                                 std::to_string(state_->options.timeout_seconds) +
                                 " s; it may still be included later: check with 'automata query tx " + hex + "'");
    }
    auto waited = now - started;
    std::this_thread::sleep_for(waited < kFirstPollPeriod  ? kFirstPollInterval
                                : waited < kFastPollPeriod ? kFastPollInterval
                                                           : kSlowPollInterval);
  }
}

std::string created_id(const json& committed, uint32_t op_index, const std::string& kind) {
  if (!committed.is_object()) return "";
  for (const auto& entry : committed.value("created", json::array())) {
    uint64_t index = 0;
    if (!json_uint(entry, "op_index", &index).is_ok() || index != op_index) continue;
    if (!kind.empty() && entry.value("kind", std::string()) != kind) continue;
    return entry.value("id", std::string());
  }
  return "";
}

Status finish_tx(Context& ctx, CodeSigner& signer, const Hash32& hash, json* committed_out,
                 const std::optional<ExpectedObject>& expected) {
  std::string hex = to_hex(hash);
  if (committed_out != nullptr) *committed_out = nullptr;
  if (!signer.options().wait) {
    if (ctx.json_output()) {
      json pending{{"hash", hex}, {"status", "pending"}};
      if (expected) {
        pending["created"] = json::array({json{{"op_index", expected->op_index},
                                               {"kind", expected->kind},
                                               {"id", to_hex(object_id(hash, expected->op_index))}}});
      }
      *ctx.out << pending.dump(2) << "\n";
    } else {
      *ctx.out << "pending: tx " << hex << " accepted into the mempool; run with --wait to see the result\n";
    }
    return Status::ok();
  }
  if (!ctx.json_output()) *ctx.out << "pending: tx " << hex << std::endl;
  json committed;
  Status s = signer.wait(hash, &committed);
  if (!s.is_ok()) return s;
  // The JSON output is tx_get's full result with the tx body, but waiting
  // read only the result.
  if (ctx.json_output() && !committed.contains("tx")) {
    s = ctx.call("tx_get", {{"hash", hex}}, &committed);
    if (!s.is_ok()) return s;
  }
  uint64_t code = 0;
  json_uint(committed, "code", &code);
  std::string name = committed.value("name", std::string("unknown"));
  if (ctx.json_output()) {
    *ctx.out << committed.dump(2) << "\n";
  } else {
    *ctx.out << "committed: height " << committed.value("height", json(0)).dump() << ", code " << code << " (" << name
             << ")";
    std::string log = committed.value("log", std::string());
    if (!log.empty()) *ctx.out << ": " << log;
    *ctx.out << "\n";
    for (const auto& entry : committed.value("created", json::array())) {
      *ctx.out << "created " << entry.value("kind", std::string("object")) << " " << entry.value("id", std::string())
               << "\n";
    }
  }
  if (code != 0) {
    *ctx.err << "error: tx " << hex << " was included but failed with code " << code << " (" << name
             << "); its fee was charged\n";
    ctx.failure_exit_code = 1;
  }
  if (committed_out != nullptr) *committed_out = std::move(committed);
  return Status::ok();
}

namespace {

// The scan's distinct blob hashes the chain lacks, each with its first file.
// Hashes in on_chain are not asked about.
Status find_missing_blobs(Context& ctx, const CodeScan& scan, const std::set<Hash32>& on_chain,
                          std::vector<const CodeFile*>* missing) {
  std::vector<const CodeFile*> unique;
  std::set<Hash32> seen = on_chain;
  for (const CodeFile& file : scan.files) {
    if (seen.insert(file.blob_hash).second) unique.push_back(&file);
  }
  std::set<std::string> missing_hex;
  for (size_t start = 0; start < unique.size(); start += kMissingQueryBatch) {
    json hashes = json::array();
    for (size_t i = start; i < unique.size() && i < start + kMissingQueryBatch; ++i) {
      hashes.push_back(to_hex(unique[i]->blob_hash));
    }
    json result;
    Status s = ctx.call("blobs_missing", {{"hashes", hashes}}, &result);
    if (!s.is_ok()) return s;
    for (const auto& hash : result.value("missing", json::array())) {
      if (hash.is_string()) missing_hex.insert(hash.get<std::string>());
    }
  }
  for (const CodeFile* file : unique) {
    if (missing_hex.count(to_hex(file->blob_hash)) > 0) missing->push_back(file);
  }
  return Status::ok();
}

Status check_committed_ok(const json& committed, const std::string& what) {
  uint64_t code = 0;
  json_uint(committed, "code", &code);
  if (code == 0) return Status::ok();
  std::string text = what + " failed with code " + std::to_string(code) + " (" +
                     committed.value("name", std::string("unknown")) + ")";
  std::string log = committed.value("log", std::string());
  if (!log.empty()) text += ": " + log;
  return Status::invalid_argument(text);
}

}  // namespace

Status upload_missing_blobs(Context& ctx, CodeSigner& signer, const CodeScan& scan, uint64_t version_op_bytes,
                            std::optional<InlineUpload>* inline_upload, const std::set<Hash32>& on_chain) {
  inline_upload->reset();
  std::vector<const CodeFile*> missing;
  Status s = find_missing_blobs(ctx, scan, on_chain, &missing);
  if (!s.is_ok()) return s;
  if (missing.empty()) return Status::ok();

  uint64_t max_tx = std::min(signer.options().max_tx_bytes, signer.options().upload_tx_bytes);
  if (max_tx <= kTxOverheadBytes) {
    return Status::invalid_argument("an upload tx of " + std::to_string(max_tx) +
                                    " bytes leaves no room for blobs; allow more than " +
                                    std::to_string(kTxOverheadBytes) + " bytes");
  }
  std::vector<uint64_t> sizes;
  uint64_t total_bytes = 0;
  for (const CodeFile* file : missing) {
    sizes.push_back(file->size);
    total_bytes += file->size;
  }
  // Reads the blobs of one batch into an upload op, checking that no file
  // changed since the scan.
  auto build_upload = [&](const std::vector<size_t>& batch, v1::CodeUploadBlobs* upload, GasHint* hint) {
    std::string data;
    for (size_t index : batch) {
      const CodeFile& file = *missing[index];
      Status read = read_file_bytes(file.source, &data);
      if (!read.is_ok()) return read;
      if (crypto::sha256(as_view(data)) != file.blob_hash) {
        return Status::invalid_argument("file " + file.path + " changed while it was being published; run again");
      }
      upload->add_blobs(data);
      hint->blob_count += 1;
      hint->blob_bytes += file.size;
    }
    return Status::ok();
  };

  // Few missing blobs travel in the version's own tx, which saves a block.
  uint64_t upload_bytes = 0;
  for (uint64_t size : sizes) upload_bytes += upload_entry_bytes(size);
  if (missing.size() <= kMaxBlobsPerUpload && upload_bytes + version_op_bytes + kTxOverheadBytes <= max_tx) {
    std::vector<size_t> all(missing.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    v1::CodeUploadBlobs upload;
    InlineUpload result;
    s = build_upload(all, &upload, &result.hint);
    if (!s.is_ok()) return s;
    result.op = EncodedOp{op_field::kCodeUploadBlobs, upload.SerializeAsString()};
    *inline_upload = std::move(result);
    *ctx.err << "uploading blobs: " << missing.size() << (missing.size() == 1 ? " blob" : " blobs")
             << " missing on chain, " << total_bytes
             << " bytes, sent with the version" << std::endl;
    return Status::ok();
  }

  std::vector<std::vector<size_t>> batches;
  s = plan_upload_batches(sizes, max_tx - kTxOverheadBytes, kMaxBlobsPerUpload, &batches);
  if (!s.is_ok()) return s;

  // Upload tx b, read and signed with nonce first_nonce + b.
  struct SignedUpload {
    Status status;
    SignedTx tx;
    uint64_t blob_bytes = 0;
  };
  const uint64_t first_nonce = signer.next_nonce();
  auto sign_upload = [&](size_t b) {
    SignedUpload out;
    v1::CodeUploadBlobs upload;
    GasHint hint;
    out.status = build_upload(batches[b], &upload, &hint);
    if (!out.status.is_ok()) return out;
    out.blob_bytes = hint.blob_bytes;
    out.status = signer.sign({EncodedOp{op_field::kCodeUploadBlobs, upload.SerializeAsString()}}, hint,
                             first_nonce + b, &out.tx);
    return out;
  };

  std::vector<Hash32> submitted;
  std::vector<json> committed;  // per submitted tx: its result once committed, else null
  size_t checked = 0;           // submitted txs, from the first, whose result code was checked
  uint64_t sent_bytes = 0;
  // While the node decodes and checks tx b, another thread reads and signs
  // tx b + 1. Declared last, so that on an early return the future waits for
  // that thread before the data it uses goes away.
  std::future<SignedUpload> next = std::async(std::launch::async, sign_upload, 0);
  for (size_t b = 0; b < batches.size(); ++b) {
    SignedUpload signed_upload = next.get();
    if (b + 1 < batches.size()) next = std::async(std::launch::async, sign_upload, b + 1);
    s = signed_upload.status;
    Hash32 hash{};
    if (s.is_ok()) s = signer.send(signed_upload.tx, &hash);
    if (!s.is_ok() && s.kind() == Status::Kind::kInvalidArgument) {
      return Status::invalid_argument("upload tx " + std::to_string(b + 1) + ": " + s.message());
    }
    if (!s.is_ok()) return s;
    sent_bytes += signed_upload.blob_bytes;
    submitted.push_back(hash);
    committed.emplace_back(nullptr);
    *ctx.err << "uploading blobs: tx " << (b + 1) << "/" << batches.size() << ", " << sent_bytes << "/"
             << total_bytes << " bytes, " << missing.size() << (missing.size() == 1 ? " blob" : " blobs")
             << " missing on chain" << std::endl;
    // Keep at most kUploadWindow txs uncommitted, and wait for all after
    // the last one. One tx_results poll covers every uncommitted tx.
    bool last = b + 1 == batches.size();
    size_t need = last ? submitted.size() : submitted.size() - std::min(submitted.size(), kUploadWindow);
    if (need > checked) {
      s = signer.wait_committed(submitted, need, &committed);
      if (!s.is_ok()) return s;
    }
    for (; checked < submitted.size() && !committed[checked].is_null(); ++checked) {
      s = check_committed_ok(committed[checked], "upload tx " + to_hex(submitted[checked]));
      if (!s.is_ok()) return s;
    }
  }
  return Status::ok();
}

Status parse_id(const std::string& text, const std::string& what, Hash32* out) {
  auto bytes = from_hex(text);
  if (!bytes || bytes->size() != 32) {
    return Status::invalid_argument("invalid " + what + " '" + text + "': expected 64 hex digits");
  }
  *out = *to_array<32>(*bytes);
  return Status::ok();
}

Status resolve_version(Context& ctx, const std::string& asset_hex, const std::string& text, std::string* version_hex,
                       json* asset_out) {
  Hash32 id{};
  if (text.size() == 64 && parse_id(text, "version", &id).is_ok()) {
    *version_hex = to_hex(id);
    return Status::ok();
  }
  json asset;
  Status s = ctx.call("code_get", {{"id", asset_hex}}, &asset);
  if (!s.is_ok()) return s;
  if (asset_out != nullptr) *asset_out = asset;
  const json branches = asset.value("branches", json::object());
  auto it = branches.find(text);
  if (it == branches.end() || !it->is_string()) {
    std::string names;
    for (const auto& [name, head] : branches.items()) names += (names.empty() ? "" : ", ") + name;
    return Status::not_found("asset " + asset_hex + " has no branch '" + text + "' (branches: " +
                             (names.empty() ? "none" : names) + "); name another branch or a version id, or create it " +
                             "with 'automata code branch " + asset_hex + " create " + text + " VERSION'");
  }
  *version_hex = it->get<std::string>();
  return Status::ok();
}

Status check_asset_owner(const json& asset, const std::string& asset_hex, const CodeSigner& signer,
                         const std::string& action) {
  if (!asset.is_object()) return Status::ok();
  auto wrapper = asset.find("wrapped_by");
  if (wrapper != asset.end() && wrapper->is_string()) {
    const std::string composite = wrapper->get<std::string>();
    return Status::invalid_argument("asset " + asset_hex + " is wrapped in composite " + composite + ", so no one can " +
                                    action + " on its own; decompose the composite first ('automata code " +
                                    "decompose " + composite + "')");
  }
  auto owner = asset.find("owner");
  const std::string signer_address = crypto::encode_address(signer.address());
  if (owner != asset.end() && owner->is_string() && owner->get<std::string>() != signer_address) {
    return Status::invalid_argument("asset " + asset_hex + " is owned by " + owner->get<std::string>() + ", not by " +
                                    signer_address + ", the --from key; only the owner can " + action);
  }
  return Status::ok();
}

Status fetch_tree(Context& ctx, const std::string& version_hex, std::vector<CodeFile>* files) {
  json tree;
  Status s = ctx.call("code_tree", {{"version", version_hex}}, &tree);
  if (!s.is_ok()) return s;
  files->clear();
  for (const auto& entry : tree.value("entries", json::array())) {
    CodeFile file;
    file.path = entry.value("path", std::string());
    std::string rule = check_code_path(file.path);
    if (!rule.empty()) {
      return Status::invalid_argument("the node returned an invalid path '" + file.path + "' in version " +
                                      version_hex + ": " + rule);
    }
    s = parse_id(entry.value("blob_hash", std::string()), "blob hash of " + file.path, &file.blob_hash);
    if (!s.is_ok()) return s;
    uint64_t mode = 0;
    s = json_uint(entry, "mode", &mode);
    if (!s.is_ok()) return s;
    file.mode = static_cast<uint32_t>(mode);
    s = json_uint(entry, "size", &file.size);
    if (!s.is_ok()) return s;
    files->push_back(std::move(file));
  }
  return Status::ok();
}

bool decode_base64(const std::string& text, std::string* out) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out->clear();
  if (text.size() % 4 != 0) return false;
  out->reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int v[4];
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + static_cast<size_t>(j)];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++padding;
        continue;
      }
      if (padding > 0) return false;
      v[j] = value_of(c);
      if (v[j] < 0) return false;
    }
    uint32_t group = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                     (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out->push_back(static_cast<char>(group >> 16));
    if (padding < 2) out->push_back(static_cast<char>((group >> 8) & 0xff));
    if (padding < 1) out->push_back(static_cast<char>(group & 0xff));
  }
  return true;
}

Status fetch_blob(Context& ctx, const Hash32& hash, std::string* data) {
  json blob;
  std::string hex = to_hex(hash);
  Status s = ctx.call("code_blob", {{"hash", hex}}, &blob);
  if (!s.is_ok()) return s;
  if (!decode_base64(blob.value("data_base64", std::string()), data)) {
    return Status::io_error("the node returned invalid base64 for blob " + hex);
  }
  if (crypto::sha256(as_view(*data)) != hash) {
    return Status::io_error("blob " + hex + " from the node does not match its hash");
  }
  return Status::ok();
}

}  // namespace automata::cli
