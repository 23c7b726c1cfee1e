// automata model transfer | lease | offer | accept | cancel | deliver | burn
// | rekey: the commands that move, lend, sell and re-key a model NFT. The
// executor enforces every ownership rule. These commands open the signer's
// key envelope, wrap the content key to the new holder, and sign the op. A
// failed tx is shown with the executor's log.
#include "automata/cli/code_client.h"
#include "automata/cli/coins.h"
#include "automata/cli/model_commands.h"
#include "automata/cli/model_content.h"
#include "automata/crypto/aead.h"
#include "automata/crypto/bech32.h"
#include "automata/v1/model.pb.h"
#include "automata/v1/objects.pb.h"
#include "cli/context.h"

#include <CLI/CLI.hpp>

#include <stdlib.h>

#include <filesystem>

namespace automata::cli {

namespace {

using nlohmann::json;

// Op fields of the model ops in the automata.v1.Op oneof (tx.proto).
constexpr uint32_t kModelTransferField = 101;
constexpr uint32_t kModelLeaseField = 102;
constexpr uint32_t kModelDeliverKeyField = 103;
constexpr uint32_t kModelBurnField = 104;
constexpr uint32_t kModelRekeyField = 106;

std::string bytes_of(const Hash32& id) { return std::string(id.begin(), id.end()); }
std::string bytes_of(const Address& address) { return std::string(address.begin(), address.end()); }

void add_signing_options(CLI::App* cmd, CodeTxOptions& options) {
  cmd->add_option("--from", options.from, "Name of the signing key")->required();
  cmd->add_option("--fee", options.fee, "Fee in atm, as 500 or 500atm (default: gas * min_gas_price of the node)");
  cmd->add_option("--gas", options.gas, "Gas limit (default: estimated from the tx size and op count)");
  cmd->add_flag("--wait", options.wait, "Wait until the tx is committed, then print its result and created ids");
  cmd->add_option("--timeout", options.timeout_seconds, "Seconds to wait for the tx to commit")
      ->check(CLI::Range(uint64_t{0}, kMaxWaitSeconds))
      ->capture_default_str();
}

// Signs and submits one op, then prints the outcome. *committed is the
// committed result under --wait, else null.
Status submit_op(Context& ctx, CodeSigner& signer, EncodedOp op, Hash32* hash, json* committed) {
  Status s = signer.submit({std::move(op)}, GasHint{}, hash);
  if (!s.is_ok()) return s;
  return finish_tx(ctx, signer, *hash, committed);
}

Status run_op(Context& ctx, const CodeTxOptions& options, EncodedOp op) {
  std::unique_ptr<CodeSigner> signer;
  Status s = CodeSigner::open(ctx, options, &signer);
  if (!s.is_ok()) return s;
  Hash32 hash{};
  json committed;
  return submit_op(ctx, *signer, std::move(op), &hash, &committed);
}

// Loads the --from key for opening envelopes.
// NOTE: CodeSigner loads the key again to sign, so a key with a passphrase
// and no --passphrase-file or $AUTOMATA_PASSPHRASE is prompted for twice.
Status load_signing_key(Context& ctx, const CodeTxOptions& options, std::optional<crypto::PrivateKey>* key) {
  if (options.from.empty()) return Status::invalid_argument("missing --from KEY: name the key that signs the tx");
  return ctx.load_key(options.from, key);
}

// A status of the same kind as s with another message.
Status with_message(const Status& s, std::string message) {
  switch (s.kind()) {
    case Status::Kind::kOk:
      return Status::ok();
    case Status::Kind::kNotFound:
      return Status::not_found(std::move(message));
    case Status::Kind::kCorruption:
      return Status::corruption(std::move(message));
    case Status::Kind::kInvalidArgument:
      return Status::invalid_argument(std::move(message));
    case Status::Kind::kIoError:
      return Status::io_error(std::move(message));
    case Status::Kind::kUnavailable:
      return Status::unavailable(std::move(message));
  }
  return Status::invalid_argument(std::move(message));
}

// The height of the node's last committed block.
Status current_height(Context& ctx, uint64_t* height) {
  json status;
  Status s = ctx.call("node_status", json::object(), &status);
  if (!s.is_ok()) return s;
  return json_uint(status, "height", height);
}

// A model read by a holder of its key: the record at the node's current
// height, the signer's key and the content key its envelope opens to.
struct KeyedModel {
  ModelRecord model;
  uint64_t height = 0;
  std::optional<crypto::PrivateKey> key;
  Bytes content_key;
};

Status open_keyed_model(Context& ctx, const CodeTxOptions& options, const Hash32& id, KeyedModel* out) {
  Status s = load_signing_key(ctx, options, &out->key);
  if (!s.is_ok()) return s;
  s = current_height(ctx, &out->height);
  if (!s.is_ok()) return s;
  s = load_model(ctx, id, &out->model);
  if (!s.is_ok()) return s;
  return open_content_key(out->model, *out->key, out->height, &out->content_key);
}

// A directory under the system temp directory that only this user can
// read, removed with everything in it when the object goes out of scope.
// It contains decrypted model content between fetch and re-encryption.
class PrivateTempDir {
 public:
  Status create() {
    std::string pattern = (std::filesystem::temp_directory_path() / "automata-rekey-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return Status::io_error("cannot create a temporary directory from " + pattern);
    }
    path_ = pattern;
    return Status::ok();
  }
  ~PrivateTempDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The new content of a re-key: the spool to upload once the tx commits and
// the ModelRekey that commits to it.
struct RekeyPlan {
  ModelSpool spool;
  v1::ModelRekey op;
};

// Re-encrypts the model's plaintext under a fresh content key into the
// model's upload spool, and wraps the new key to owner_pubkey and to every lessee
// whose lease is still active at the next height. The plaintext comes from
// plaintext_path when it is non-empty (checked against the manifest's
// SHA-256 and size), else from the fragments on the node, decrypted with
// the current key.
Status plan_rekey(Context& ctx, const KeyedModel& keyed, const std::string& plaintext_path,
                  const crypto::PublicKey& owner_pubkey, RekeyPlan* plan) {
  const ModelRecord& model = keyed.model;
  const v1::ModelManifest& manifest = model.nft().manifest();
  std::string source = plaintext_path;
  PrivateTempDir temp;
  if (source.empty()) {
    Status s = temp.create();
    if (!s.is_ok()) return s;
    source = temp.path() + "/plaintext";
    *ctx.err << "fetching model " << to_hex(model.id) << " (" << manifest.total_size() << " bytes) to re-encrypt it\n";
    s = fetch_content(ctx, model, keyed.content_key, source, nullptr);
    if (!s.is_ok()) return s;
  }

  Bytes new_key = crypto::random_bytes(kContentKeySize);
  std::string dir = spool_dir_for(ctx.keyring_dir, model.id);
  Status s = encrypt_to_spool(source, model.id, new_key, manifest.fragment_size(), dir, &plan->spool);
  if (!s.is_ok()) return s;
  Hash32 expected_sha{};
  std::copy_n(manifest.plaintext_sha256().begin(), std::min<size_t>(32, manifest.plaintext_sha256().size()),
              expected_sha.begin());
  if (plan->spool.plaintext_sha256 != expected_sha || plan->spool.total_size != manifest.total_size()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return Status::invalid_argument("file " + source + " (" + std::to_string(plan->spool.total_size) +
                                    " bytes, SHA-256 " + to_hex(plan->spool.plaintext_sha256) +
                                    ") is not the content of model " + to_hex(model.id) + " (" +
                                    std::to_string(manifest.total_size()) + " bytes, SHA-256 " +
                                    to_hex(expected_sha) + "); a re-key keeps the plaintext, so pass that file");
  }

  plan->op.Clear();
  plan->spool.fill_manifest(plan->op.mutable_manifest());
  s = wrap_content_key(owner_pubkey, new_key, model.id, plan->op.mutable_owner_envelope());
  if (!s.is_ok()) return s;
  // NOTE: a lease that ends at the next height counts as active here. If
  // the tx lands later than that, the executor rejects the envelope count,
  // so the command must be run again.
  for (const ModelLeaseInfo& lease : model.leases) {
    if (lease.expiry_height <= keyed.height) continue;
    crypto::PublicKey lessee{};
    s = recipient_pubkey(ctx, lease.grantee, "", &lessee);
    if (!s.is_ok()) return s;
    s = wrap_content_key(lessee, new_key, model.id, plan->op.add_lease_envelopes());
    if (!s.is_ok()) return s;
  }
  return Status::ok();
}

// Submits op (which carries plan's manifest), waits for it to commit, then
// uploads plan's spool and deletes it. The fragments can only go up once
// the new manifest is committed, so a re-key always waits.
Status submit_rekey(Context& ctx, CodeTxOptions options, EncodedOp op, const RekeyPlan& plan) {
  options.wait = true;
  std::unique_ptr<CodeSigner> signer;
  Status s = CodeSigner::open(ctx, options, &signer);
  if (!s.is_ok()) return s;
  Hash32 hash{};
  json committed;
  s = submit_op(ctx, *signer, std::move(op), &hash, &committed);
  if (!s.is_ok()) return s;
  if (ctx.failure_exit_code != 0) {
    std::error_code ignored;
    std::filesystem::remove_all(plan.spool.dir, ignored);
    return Status::ok();
  }
  UploadReport report;
  s = upload_spool(ctx, plan.spool, nullptr, &report);
  if (!s.is_ok()) {
    return with_message(s, s.message() + "; the re-encrypted fragments stay in " + plan.spool.dir +
                                ": run 'automata model upload " + to_hex(plan.spool.model_id) + "' to finish");
  }
  *ctx.err << "uploaded " << report.sent << " re-encrypted fragments (" << report.already_held
           << " already held)\n";
  std::error_code ignored;
  std::filesystem::remove_all(plan.spool.dir, ignored);
  return Status::ok();
}

void add_transfer(CLI::App* model, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string id, to, to_pubkey, file;
    bool rekey = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = model->add_subcommand("transfer", "Transfer a model to a new owner and wrap its key to them");
  cmd->add_option("ID", args->id, "Model id (hex)")->required();
  cmd->add_option("TO", args->to, "New owner: an atm1 address or a key name")->required();
  cmd->add_option("--to-pubkey", args->to_pubkey,
                  "New owner's x-only public key in hex, for an account that has not signed a tx yet");
  cmd->add_flag("--rekey", args->rekey,
                "Re-encrypt the content under a fresh key, so the old key no longer opens new copies");
  cmd->add_option("--file", args->file,
                  "With --rekey: the model's plaintext file, instead of fetching and decrypting it from the node")
      ->check(CLI::ExistingFile);
  add_signing_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      if (!args->file.empty() && !args->rekey) return Status::invalid_argument("--file is only used with --rekey");
      Hash32 id{};
      Status s = parse_model_id(args->id, &id);
      if (!s.is_ok()) return s;
      Address to{};
      s = ctx.resolve_address(args->to, &to);
      if (!s.is_ok()) return s;
      crypto::PublicKey to_pubkey{};
      s = recipient_pubkey(ctx, to, args->to_pubkey, &to_pubkey);
      if (!s.is_ok()) return s;
      KeyedModel keyed;
      s = open_keyed_model(ctx, args->options, id, &keyed);
      if (!s.is_ok()) return s;

      v1::ModelTransfer op;
      op.set_model_id(bytes_of(id));
      op.set_to(bytes_of(to));
      if (!args->rekey) {
        s = wrap_content_key(to_pubkey, keyed.content_key, id, op.mutable_new_owner_envelope());
        if (!s.is_ok()) return s;
        return run_op(ctx, args->options, {kModelTransferField, op.SerializeAsString()});
      }
      RekeyPlan plan;
      s = plan_rekey(ctx, keyed, args->file, to_pubkey, &plan);
      if (!s.is_ok()) return s;
      *op.mutable_new_owner_envelope() = plan.op.owner_envelope();
      *op.mutable_rekey() = plan.op;
      return submit_rekey(ctx, args->options, {kModelTransferField, op.SerializeAsString()}, plan);
    };
  });
}

void add_rekey(CLI::App* model, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string id, file;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = model->add_subcommand(
      "rekey", "Re-encrypt a model you own under a fresh key for you and your active lessees, then upload it");
  cmd->add_option("ID", args->id, "Model id (hex)")->required();
  cmd->add_option("--file", args->file,
                  "The model's plaintext file, instead of fetching and decrypting it from the node")
      ->check(CLI::ExistingFile);
  add_signing_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 id{};
      Status s = parse_model_id(args->id, &id);
      if (!s.is_ok()) return s;
      KeyedModel keyed;
      s = open_keyed_model(ctx, args->options, id, &keyed);
      if (!s.is_ok()) return s;
      crypto::PublicKey owner_pubkey = keyed.key->public_key();
      RekeyPlan plan;
      s = plan_rekey(ctx, keyed, args->file, owner_pubkey, &plan);
      if (!s.is_ok()) return s;
      // The standalone op names its model; embedded in a transfer it must not.
      plan.op.set_model_id(id.data(), id.size());
      return submit_rekey(ctx, args->options, {kModelRekeyField, plan.op.SerializeAsString()}, plan);
    };
  });
}

void add_lease(CLI::App* model, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string id, grantee, grantee_pubkey;
    uint64_t until = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = model->add_subcommand("lease", "Let an account use a model and hold its key until a height");
  cmd->add_option("ID", args->id, "Model id (hex)")->required();
  cmd->add_option("GRANTEE", args->grantee, "Lessee: an atm1 address or a key name")->required();
  cmd->add_option("--until", args->until, "Last height (inclusive) of the lease")->required();
  cmd->add_option("--to-pubkey", args->grantee_pubkey,
                  "Lessee's x-only public key in hex, for an account that has not signed a tx yet");
  add_signing_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 id{};
      Status s = parse_model_id(args->id, &id);
      if (!s.is_ok()) return s;
      Address grantee{};
      s = ctx.resolve_address(args->grantee, &grantee);
      if (!s.is_ok()) return s;
      crypto::PublicKey grantee_pubkey{};
      s = recipient_pubkey(ctx, grantee, args->grantee_pubkey, &grantee_pubkey);
      if (!s.is_ok()) return s;
      KeyedModel keyed;
      s = open_keyed_model(ctx, args->options, id, &keyed);
      if (!s.is_ok()) return s;
      v1::ModelLease op;
      op.set_model_id(bytes_of(id));
      op.set_grantee(bytes_of(grantee));
      op.set_expiry_height(args->until);
      s = wrap_content_key(grantee_pubkey, keyed.content_key, id, op.mutable_envelope());
      if (!s.is_ok()) return s;
      return run_op(ctx, args->options, {kModelLeaseField, op.SerializeAsString()});
    };
  });
}

void add_deliver(CLI::App* model, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string id, to_pubkey;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = model->add_subcommand("deliver", "After a sale by offer, wrap the model's key to its new owner");
  cmd->add_option("ID", args->id, "Model id (hex)")->required();
  cmd->add_option("--to-pubkey", args->to_pubkey,
                  "New owner's x-only public key in hex, for an account that has not signed a tx yet");
  add_signing_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 id{};
      Status s = parse_model_id(args->id, &id);
      if (!s.is_ok()) return s;
      std::optional<crypto::PrivateKey> key;
      s = load_signing_key(ctx, args->options, &key);
      if (!s.is_ok()) return s;
      ModelRecord current;
      s = load_model(ctx, id, &current);
      if (!s.is_ok()) return s;
      const std::string& pending = current.nft().key_pending_from();
      Address signer = crypto::address_of(key->public_key());
      if (pending.empty()) {
        return Status::invalid_argument("no key delivery is pending for model " + to_hex(id) +
                                        ": its owner already holds its key, or it was never sold by offer");
      }
      if (pending != bytes_of(signer)) {
        auto seller = to_array<20>(as_view(pending));
        return Status::invalid_argument("the key delivery of model " + to_hex(id) + " is pending from the seller " +
                                        (seller ? crypto::encode_address(*seller) : to_hex(as_view(pending))) +
                                        ", not from " + crypto::encode_address(signer) + " (--from " +
                                        args->options.from + ")");
      }
      crypto::PublicKey owner_pubkey{};
      s = recipient_pubkey(ctx, current.owner, args->to_pubkey, &owner_pubkey);
      if (!s.is_ok()) return s;
      // A sale leaves the seller's envelope in place until this delivery,
      // so the current record opens to the content key.
      uint64_t height = 0;
      s = current_height(ctx, &height);
      if (!s.is_ok()) return s;
      Bytes content_key;
      s = open_content_key(current, *key, height, &content_key);
      if (!s.is_ok()) return s;
      v1::ModelDeliverKey op;
      op.set_model_id(bytes_of(id));
      s = wrap_content_key(owner_pubkey, content_key, id, op.mutable_envelope());
      if (!s.is_ok()) return s;
      return run_op(ctx, args->options, {kModelDeliverKeyField, op.SerializeAsString()});
    };
  });
}

void add_offer(CLI::App* model, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string id, price, buyer;
    uint64_t expiry_height = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = model->add_subcommand("offer", "Offer a model for sale; the buyer gets its key from 'model deliver'");
  cmd->add_option("ID", args->id, "Model id (hex)")->required();
  cmd->add_option("--price", args->price, "Price, such as 1000atm")->required();
  cmd->add_option("--buyer", args->buyer, "Only this buyer may accept: an atm1 address or a key name");
  cmd->add_option("--expiry", args->expiry_height, "Last height at which the offer may be accepted; 0: none")
      ->capture_default_str();
  add_signing_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 id{};
      Status s = parse_model_id(args->id, &id);
      if (!s.is_ok()) return s;
      Coin price;
      s = parse_coin(args->price, &price);
      if (!s.is_ok()) return s;
      v1::OfferCreate op;
      op.set_object_id(bytes_of(id));
      op.mutable_price()->set_denom(price.denom);
      op.mutable_price()->set_amount(amount_to_string(price.amount));
      if (!args->buyer.empty()) {
        Address buyer{};
        s = ctx.resolve_address(args->buyer, &buyer);
        if (!s.is_ok()) return s;
        op.set_buyer(bytes_of(buyer));
      }
      op.set_expiry_height(args->expiry_height);

      std::unique_ptr<CodeSigner> signer;
      s = CodeSigner::open(ctx, args->options, &signer);
      if (!s.is_ok()) return s;
      Hash32 hash{};
      json committed;
      s = submit_op(ctx, *signer, {op_field::kOfferCreate, op.SerializeAsString()}, &hash, &committed);
      if (!s.is_ok() || ctx.json_output() || ctx.failure_exit_code != 0) return s;
      // Under --wait the committed result already listed "created offer
      // ID"; without it, the id comes from the tx hash, as the executor
      // derives it.
      if (!args->options.wait) *ctx.out << "offer " << to_hex(object_id(hash, 0)) << " (pending)\n";
      return Status::ok();
    };
  });
}

// Adds a command that takes one id and submits one op built from it.
// A check run before signing; a non-ok status stops the command.
using PreCheck = std::function<Status(Context&, const CodeTxOptions&, const Hash32&)>;

void add_id_command(CLI::App* model, Context& ctx, const std::string& name, const std::string& help,
                    const std::string& id_name, std::function<EncodedOp(const Hash32&)> make_op,
                    PreCheck check = nullptr) {
  auto options = std::make_shared<CodeTxOptions>();
  auto id_text = std::make_shared<std::string>();
  CLI::App* cmd = model->add_subcommand(name, help);
  cmd->add_option(id_name, *id_text, id_name + " id (hex)")->required();
  add_signing_options(cmd, *options);
  cmd->callback([&ctx, options, id_text, id_name, make_op, check] {
    ctx.action = [&ctx, options, id_text, id_name, make_op, check]() -> Status {
      Hash32 id{};
      Status s = parse_id(*id_text, id_name == "ID" ? "model id" : "offer id", &id);
      if (!s.is_ok()) return s;
      if (check) {
        s = check(ctx, *options, id);
        if (!s.is_ok()) return s;
      }
      return run_op(ctx, *options, make_op(id));
    };
  });
}

// Rejects accepting an offer reserved for another buyer before anything is
// signed, so the caller pays no fee for a tx the executor would fail. The
// executor still enforces the rule.
Status check_reserved_buyer(Context& ctx, const CodeTxOptions& options, const Hash32& offer_id) {
  json offer;
  Status s = ctx.call("offer_get", {{"id", to_hex(offer_id)}}, &offer);
  if (!s.is_ok()) return s;
  if (!offer.contains("buyer") || offer["buyer"].is_null()) return Status::ok();
  crypto::KeyInfo info;
  s = ctx.key_info(options.from, &info);
  if (!s.is_ok()) return s;
  const std::string signer = crypto::encode_address(info.address);
  const std::string buyer = offer["buyer"].get<std::string>();
  if (buyer == signer) return Status::ok();
  return Status::invalid_argument("offer " + to_hex(offer_id) + " is reserved for " + buyer + "; key '" +
                                  options.from + "' (" + signer + ") may not accept it");
}

}  // namespace

void add_model_ownership_commands(CLI::App& model, Context& ctx) {
  add_transfer(&model, ctx);
  add_lease(&model, ctx);
  add_offer(&model, ctx);
  add_id_command(&model, ctx, "accept", "Accept a model offer: pay its price and take the model", "OFFER_ID",
                 [](const Hash32& id) {
                   v1::OfferAccept op;
                   op.set_offer_id(bytes_of(id));
                   return EncodedOp{op_field::kOfferAccept, op.SerializeAsString()};
                 },
                 check_reserved_buyer);
  add_id_command(&model, ctx, "cancel", "Withdraw a model offer you made", "OFFER_ID", [](const Hash32& id) {
    v1::OfferCancel op;
    op.set_offer_id(bytes_of(id));
    return EncodedOp{op_field::kOfferCancel, op.SerializeAsString()};
  });
  add_deliver(&model, ctx);
  add_id_command(&model, ctx, "burn", "Destroy a model you own (only when it was minted burnable)", "ID",
                 [](const Hash32& id) {
                   v1::ModelBurn op;
                   op.set_model_id(bytes_of(id));
                   return EncodedOp{kModelBurnField, op.SerializeAsString()};
                 });
  add_rekey(&model, ctx);
}

}  // namespace automata::cli

