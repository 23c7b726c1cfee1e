// automata model register | upload | fetch: the commands that move model
// content. register encrypts a file into the upload spool and mints the
// NFT, upload sends the spool's fragments to a node, fetch downloads,
// checks and decrypts them.
#include "automata/cli/model_commands.h"

#include "automata/cli/code_client.h"
#include "automata/cli/model_content.h"
#include "automata/cli/progress.h"
#include "automata/crypto/aead.h"
#include "automata/crypto/bech32.h"
#include "automata/crypto/model_content.h"
#include "automata/modelfmt/inspect.h"
#include "automata/v1/model.pb.h"
#include "cli/context.h"

#include <CLI/CLI.hpp>

#include <filesystem>

namespace automata::cli {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Field number of ModelRegister in the automata.v1.Op oneof (tx.proto).
constexpr uint32_t kModelRegisterField = 100;
constexpr uint32_t kMaxRoyaltyBps = 10'000;

std::string bytes_of(ByteView bytes) { return to_string(bytes); }

bool progress_enabled(const Context& ctx) { return !ctx.json_output() && stderr_is_terminal(); }

// The current height from node_status, for lease expiry checks.
Status current_height(Context& ctx, uint64_t* height) {
  json status;
  Status s = ctx.call("node_status", json::object(), &status);
  if (!s.is_ok()) return s;
  return json_uint(status, "height", height);
}

// Uploads the spool in dir and deletes it once the node holds every
// fragment. Prints a summary line (text) or fills *summary (json).
Status upload_and_clean(Context& ctx, const ModelSpool& spool, json* summary) {
  ProgressBar progress(ctx.err, progress_enabled(ctx), "upload", spool.offsets.back());
  UploadReport report;
  Status s = upload_spool(ctx, spool, &progress, &report);
  progress.finish();
  if (!s.is_ok()) {
    return Status::unavailable(s.message() + "; the encrypted fragments stay in " + spool.dir +
                               ", run 'automata model upload " + to_hex(spool.model_id) + "' to resume");
  }
  std::error_code ec;
  fs::remove_all(spool.dir, ec);
  (*summary)["fragment_count"] = spool.fragment_count();
  (*summary)["already_held"] = report.already_held;
  (*summary)["sent"] = report.sent;
  (*summary)["stored"] = report.stored;
  if (!ctx.json_output()) {
    *ctx.out << "uploaded model " << to_hex(spool.model_id) << ": " << report.sent << " fragments sent, "
             << report.already_held << " already held, " << spool.fragment_count() << " in all\n";
  }
  if (ec) *ctx.err << "warning: cannot remove the spool " << spool.dir << ": " << ec.message() << "\n";
  return Status::ok();
}

struct RegisterArgs {
  CodeTxOptions options;
  std::string file;
  std::string name;
  std::string license;
  std::vector<std::string> base_models;
  uint32_t royalty_bps = 0;
  bool transferable = true;
  bool burnable = false;
  bool is_mutable = false;
  uint64_t fragment_size = kDefaultFragmentSize;
  bool no_upload = false;
};

Status check_register_args(const RegisterArgs& args, std::vector<Hash32>* bases) {
  if (args.royalty_bps > kMaxRoyaltyBps) {
    return Status::invalid_argument("invalid --royalty-bps " + std::to_string(args.royalty_bps) +
                                    ": it must be at most " + std::to_string(kMaxRoyaltyBps));
  }
  for (const std::string& text : args.base_models) {
    Hash32 id{};
    Status s = parse_model_id(text, &id);
    if (!s.is_ok()) return Status::invalid_argument("invalid --base '" + text + "': expected a 64-hex-digit id");
    bases->push_back(id);
  }
  std::error_code ec;
  if (!fs::is_regular_file(args.file, ec)) {
    return Status::not_found("model file " + args.file + " not found or not a regular file");
  }
  return check_fragment_plan(fs::file_size(args.file, ec), args.fragment_size);
}

Status run_register(Context& ctx, const RegisterArgs& args) {
  std::vector<Hash32> bases;
  Status s = check_register_args(args, &bases);
  if (!s.is_ok()) return s;

  // The header is read before anything is signed or sent, so a file whose
  // header lies is rejected with the parser's message.
  v1::ModelRegister op;
  std::string format;
  s = modelfmt::inspect_file(args.file, &format, op.mutable_metadata());
  if (!s.is_ok()) return s;  // the message names the file, the field and the rule
  op.set_format(format);
  op.set_name(args.name.empty() ? fs::path(args.file).filename().string() : args.name);
  op.set_license(args.license);
  for (const Hash32& base : bases) op.add_base_models(bytes_of(base));
  op.set_royalty_bps(args.royalty_bps);
  op.mutable_flags()->set_transferable(args.transferable);
  op.mutable_flags()->set_burnable(args.burnable);
  op.mutable_flags()->set_mutable_(args.is_mutable);

  crypto::KeyInfo info;
  s = ctx.key_info(args.options.from, &info);
  if (!s.is_ok()) return s;
  std::unique_ptr<CodeSigner> signer;
  s = CodeSigner::open(ctx, args.options, &signer);
  if (!s.is_ok()) return s;

  // The model id binds the encryption, so it is derived from the nonce
  // the register tx will carry. A tx from the same key that commits before
  // this one makes the register tx fail its nonce check, so nothing is
  // minted under an id the content was not encrypted for.
  const Hash32 model_id = crypto::derive_model_id(info.address, signer->next_nonce(), 0);
  const std::string id_hex = to_hex(model_id);

  Bytes content_key = crypto::random_bytes(kContentKeySize);
  ModelSpool spool;
  s = encrypt_to_spool(args.file, model_id, content_key, args.fragment_size,
                       spool_dir_for(ctx.keyring_dir, model_id), &spool);
  if (!s.is_ok()) return s;
  spool.fill_manifest(op.mutable_manifest());
  s = wrap_content_key(info.pubkey, content_key, model_id, op.mutable_owner_envelope());
  if (!s.is_ok()) return s;

  // Register waits for inclusion before it uploads, because the node
  // accepts fragments only for a registered model.
  CodeTxOptions options = args.options;
  bool wait = options.wait || !args.no_upload;
  Hash32 hash{};
  s = signer->submit({EncodedOp{kModelRegisterField, op.SerializeAsString()}}, GasHint{}, &hash);
  if (!s.is_ok()) {
    std::error_code ec;
    fs::remove_all(spool.dir, ec);
    return s;
  }
  json summary = {{"id", id_hex}, {"hash", to_hex(hash)}, {"format", format}, {"name", op.name()},
                  {"total_size", spool.total_size}, {"fragment_count", spool.fragment_count()},
                  {"spool", spool.dir}};
  if (!ctx.json_output()) *ctx.out << "model " << id_hex << "\npending: tx " << to_hex(hash) << std::endl;
  if (!wait) {
    summary["status"] = "pending";
    if (ctx.json_output()) *ctx.out << summary.dump(2) << "\n";
    else *ctx.out << "the encrypted fragments are in " << spool.dir << "; run 'automata model upload " << id_hex
                  << "' once the tx is committed\n";
    return Status::ok();
  }

  json committed;
  s = signer->wait(hash, &committed);
  if (!s.is_ok()) return s;
  uint64_t code = 0;
  json_uint(committed, "code", &code);
  summary["status"] = "committed";
  summary["height"] = committed.value("height", json(0));
  summary["code"] = code;
  summary["result"] = committed.value("name", std::string());
  if (!ctx.json_output()) {
    *ctx.out << "committed: height " << summary["height"].dump() << ", code " << code << " ("
             << committed.value("name", std::string("unknown")) << ")";
    std::string log = committed.value("log", std::string());
    if (!log.empty()) *ctx.out << ": " << log;
    *ctx.out << "\n";
  }
  if (code != 0) {
    std::error_code ec;
    fs::remove_all(spool.dir, ec);
    if (ctx.json_output()) *ctx.out << summary.dump(2) << "\n";
    return Status::invalid_argument("model register tx " + to_hex(hash) + " was included but failed with code " +
                                    std::to_string(code) + " (" + committed.value("name", std::string("unknown")) +
                                    "): " + committed.value("log", std::string()) + "; its fee was charged");
  }

  if (!args.no_upload) {
    json upload;
    s = upload_and_clean(ctx, spool, &upload);
    if (!s.is_ok()) return s;
    summary["upload"] = upload;
  } else if (!ctx.json_output()) {
    *ctx.out << "the encrypted fragments are in " << spool.dir << "; run 'automata model upload " << id_hex
             << "' to send them\n";
  }
  if (ctx.json_output()) *ctx.out << summary.dump(2) << "\n";
  return Status::ok();
}

void add_register(CLI::App* model, Context& ctx) {
  auto args = std::make_shared<RegisterArgs>();
  CLI::App* cmd = model->add_subcommand("register", "Encrypt a model file, mint it as a model NFT and upload it");
  cmd->add_option("FILE", args->file, "Model file (ONNX, safetensors, GGUF or any other file)")->required();
  cmd->add_option("--name", args->name, "Model name (default: the file name)");
  cmd->add_option("--license", args->license, "License, e.g. an SPDX identifier such as MIT");
  cmd->add_option("--base", args->base_models, "Id of a model or code asset this model derives from (repeatable)");
  cmd->add_option("--royalty-bps", args->royalty_bps,
                  "Royalty to the creator on each sale, in basis points (0-10000)")
      ->capture_default_str();
  cmd->add_option("--transferable", args->transferable, "Whether the NFT may change owner (true or false)")
      ->capture_default_str();
  cmd->add_flag("--burnable", args->burnable, "Let the owner burn the NFT");
  cmd->add_flag("--mutable", args->is_mutable, "Let the owner replace the content later");
  cmd->add_option("--fragment-size", args->fragment_size,
                  "Plaintext bytes per fragment, from 65536 to 2097152")
      ->capture_default_str();
  cmd->add_flag("--no-upload", args->no_upload,
                "Keep the encrypted fragments in the spool; send them later with 'automata model upload'");
  cmd->add_option("--from", args->options.from, "Name of the signing key; it becomes creator and owner")->required();
  cmd->add_option("--fee", args->options.fee,
                  "Fee in atm, as 500 or 500atm (default: gas * min_gas_price of the node)");
  cmd->add_option("--gas", args->options.gas, "Gas limit (default: estimated from the tx size)");
  cmd->add_flag("--wait", args->options.wait,
                "With --no-upload, wait until the tx is committed (register always waits before uploading)");
  cmd->add_option("--timeout", args->options.timeout_seconds, "Seconds to wait for the tx to commit")
      ->check(CLI::Range(uint64_t{0}, kMaxWaitSeconds))
      ->capture_default_str();
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status { return run_register(ctx, *args); };
  });
}

void add_upload(CLI::App* model, Context& ctx) {
  struct Args {
    std::string id;
    std::string from;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = model->add_subcommand("upload", "Resume the upload of a registered model's encrypted fragments");
  cmd->add_option("ID", args->id, "Model id (64 hex digits)")->required();
  cmd->add_option("--from", args->from, "Accepted for symmetry with register; the upload signs nothing");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 id{};
      Status s = parse_model_id(args->id, &id);
      if (!s.is_ok()) return s;
      const std::string dir = spool_dir_for(ctx.keyring_dir, id);
      ModelSpool spool;
      s = load_spool(dir, &spool);
      if (s.is_not_found()) {
        return Status::not_found("no upload spool for model " + args->id + " in " + dir +
                                 "; it was uploaded already or registered from another machine");
      }
      if (!s.is_ok()) return s;
      if (spool.model_id != id) {
        return Status::corruption("the spool in " + dir + " belongs to model " + to_hex(spool.model_id));
      }
      json summary = {{"id", args->id}};
      s = upload_and_clean(ctx, spool, &summary);
      if (!s.is_ok()) return s;
      if (ctx.json_output()) *ctx.out << summary.dump(2) << "\n";
      return Status::ok();
    };
  });
}

void add_fetch(CLI::App* model, Context& ctx) {
  struct Args {
    std::string id;
    std::string out;
    std::string from;
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = model->add_subcommand("fetch", "Download, verify and decrypt a model's content");
  cmd->add_option("ID", args->id, "Model id (64 hex digits)")->required();
  cmd->add_option("--out", args->out, "Output file; removed again if any check fails")->required();
  cmd->add_flag("--force", args->force, "Replace an existing output file");
  cmd->add_option("--from", args->from, "Name of the key holding a key envelope (owner or lessee)")->required();
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 id{};
      Status s = parse_model_id(args->id, &id);
      if (!s.is_ok()) return s;
      std::error_code ec;
      if (fs::exists(args->out, ec) && !args->force) {
        return Status::invalid_argument("output file " + args->out + " already exists; pass --force to replace it");
      }
      ModelRecord record;
      s = load_model(ctx, id, &record);
      if (!s.is_ok()) return s;
      uint64_t height = 0;
      s = current_height(ctx, &height);
      if (!s.is_ok()) return s;

      // The envelope check comes before the key is decrypted, so a caller
      // without an envelope gets that error without a passphrase prompt.
      crypto::KeyInfo info;
      s = ctx.key_info(args->from, &info);
      if (!s.is_ok()) return s;
      const v1::KeyEnvelope* envelope = nullptr;
      s = find_envelope(record, info.address, height, &envelope);
      if (!s.is_ok()) return s;
      std::optional<crypto::PrivateKey> key;
      s = ctx.load_key(args->from, &key);
      if (!s.is_ok()) return s;
      Bytes content_key;
      s = open_content_key(record, *key, height, &content_key);
      if (!s.is_ok()) return s;

      const v1::ModelManifest& manifest = record.nft().manifest();
      ProgressBar progress(ctx.err, progress_enabled(ctx), "fetch", manifest.total_size());
      s = fetch_content(ctx, record, content_key, args->out, &progress);
      progress.finish();
      if (!s.is_ok()) return s;
      if (ctx.json_output()) {
        *ctx.out << json{{"id", args->id},
                         {"out", args->out},
                         {"total_size", manifest.total_size()},
                         {"fragment_count", manifest.fragment_count()},
                         {"plaintext_sha256", to_hex(as_view(manifest.plaintext_sha256()))}}
                        .dump(2)
                 << "\n";
      } else {
        *ctx.out << "fetched model " << args->id << " to " << args->out << ": " << manifest.total_size()
                 << " bytes in " << manifest.fragment_count() << " fragments, SHA-256 "
                 << to_hex(as_view(manifest.plaintext_sha256())) << " verified\n";
      }
      return Status::ok();
    };
  });
}

}  // namespace

void add_model_content_commands(CLI::App* model, Context& ctx) {
  add_register(model, ctx);
  add_upload(model, ctx);
  add_fetch(model, ctx);
}

void add_model_commands(CLI::App& app, Context& ctx) {
  CLI::App* model = app.add_subcommand("model", "Register, upload, fetch, inspect and trade model NFTs");
  model->require_subcommand(1);
  add_model_content_commands(model, ctx);
  add_model_read_commands(model, ctx);
  add_model_ownership_commands(*model, ctx);
}

}  // namespace automata::cli
