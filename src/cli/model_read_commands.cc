// automata model show | list: read-only views of model NFTs.
#include "automata/cli/model_commands.h"

#include "automata/cli/model_content.h"
#include "automata/crypto/bech32.h"
#include "automata/v1/model.pb.h"
#include "cli/context.h"

#include <CLI/CLI.hpp>

namespace automata::cli {

namespace {

using nlohmann::json;

std::string address_text(const std::string& bytes) {
  auto address = to_array<20>(as_view(bytes));
  return address ? crypto::encode_address(*address) : to_hex(as_view(bytes));
}

std::string yes_no(bool value) { return value ? "yes" : "no"; }

void print_tensors(std::ostream& out, const char* label, const google::protobuf::RepeatedPtrField<v1::TensorInfo>& list) {
  for (const v1::TensorInfo& tensor : list) {
    out << "  " << label << ": " << tensor.name() << " " << tensor.elem_type() << " [";
    for (int i = 0; i < tensor.dims_size(); ++i) out << (i > 0 ? ", " : "") << tensor.dims(i);
    out << "]\n";
  }
}

void print_model(std::ostream& out, const ModelRecord& model) {
  const v1::ModelNft& nft = model.nft();
  const v1::ModelMetadata& metadata = nft.metadata();
  const v1::ModelManifest& manifest = nft.manifest();
  out << "model " << to_hex(model.id) << "\n";
  out << "name: " << nft.name() << "\n";
  out << "format: " << nft.format() << "\n";
  out << "owner: " << crypto::encode_address(model.owner) << "\n";
  out << "creator: " << address_text(nft.creator()) << "\n";
  if (!nft.license().empty()) out << "license: " << nft.license() << "\n";
  out << "royalty: " << nft.royalty_bps() << " bps\n";
  out << "flags: transferable " << yes_no(nft.flags().transferable()) << ", burnable "
      << yes_no(nft.flags().burnable()) << ", mutable " << yes_no(nft.flags().mutable_()) << "\n";
  for (const std::string& base : nft.base_models()) out << "base model: " << to_hex(as_view(base)) << "\n";

  out << "metadata:\n";
  out << "  parameters: " << metadata.parameter_count() << "\n";
  out << "  tensors: " << metadata.tensor_count() << "\n";
  if (metadata.ir_version() != 0) out << "  ir_version: " << metadata.ir_version() << "\n";
  for (const v1::OpsetImport& opset : metadata.opsets()) {
    out << "  opset: " << (opset.domain().empty() ? "ai.onnx" : opset.domain()) << " " << opset.version() << "\n";
  }
  if (!metadata.producer_name().empty()) {
    out << "  producer: " << metadata.producer_name() << " " << metadata.producer_version() << "\n";
  }
  print_tensors(out, "input", metadata.inputs());
  print_tensors(out, "output", metadata.outputs());
  if (!metadata.dtypes().empty()) {
    out << "  dtypes:";
    for (const std::string& dtype : metadata.dtypes()) out << " " << dtype;
    out << "\n";
  }
  if (metadata.gguf_version() != 0) out << "  gguf_version: " << metadata.gguf_version() << "\n";
  if (!metadata.architecture().empty()) out << "  architecture: " << metadata.architecture() << "\n";
  if (!metadata.model_name().empty()) out << "  model_name: " << metadata.model_name() << "\n";

  out << "content: " << manifest.total_size() << " bytes in " << manifest.fragment_count() << " fragments of "
      << manifest.fragment_size() << " bytes\n";
  out << "  plaintext_sha256: " << to_hex(as_view(manifest.plaintext_sha256())) << "\n";
  out << "  fragments_root: " << to_hex(as_view(manifest.fragments_root())) << "\n";
  out << "  cipher_suite: " << manifest.cipher_suite() << "\n";
  out << "available: " << yes_no(nft.available()) << " (placement epoch " << nft.epoch() << ")\n";
  for (const v1::KeyEnvelope& envelope : nft.envelopes()) {
    out << "key envelope: " << address_text(envelope.recipient()) << "\n";
  }
  for (const ModelLeaseInfo& lease : model.leases) {
    out << "lease: " << crypto::encode_address(lease.grantee) << " until height " << lease.expiry_height << "\n";
  }
  if (!nft.key_pending_from().empty()) {
    out << "key pending from: " << address_text(nft.key_pending_from()) << " (the buyer has no key yet)\n";
  }
  out << "version " << model.version << ", created at height " << model.created_height << ", updated at height "
      << model.updated_height << "\n";
}

void add_show(CLI::App* model, Context& ctx) {
  auto id_text = std::make_shared<std::string>();
  CLI::App* cmd = model->add_subcommand("show", "Show a model NFT: metadata, manifest, owner, envelopes and leases");
  cmd->add_option("ID", *id_text, "Model id (64 hex digits)")->required();
  cmd->callback([&ctx, id_text] {
    ctx.action = [&ctx, id_text]() -> Status {
      Hash32 id{};
      Status s = parse_model_id(*id_text, &id);
      if (!s.is_ok()) return s;
      ModelRecord record;
      s = load_model(ctx, id, &record);
      if (!s.is_ok()) return s;
      if (ctx.json_output()) {
        *ctx.out << record.raw->dump(2) << "\n";
      } else {
        print_model(*ctx.out, record);
      }
      return Status::ok();
    };
  });
}

struct ListArgs {
  std::string owner;
  std::string creator;
  uint64_t limit = 50;
  std::string after;
};

Status run_list(Context& ctx, const ListArgs& args) {
  if (!args.owner.empty() && !args.creator.empty()) {
    return Status::invalid_argument("pass at most one of --owner and --creator");
  }
  if (args.limit == 0) return Status::invalid_argument("invalid --limit 0: it must be at least 1");
  json params = json::object();
  params["limit"] = args.limit;
  for (const auto& [field, text] : {std::pair<const char*, const std::string*>{"owner", &args.owner},
                                    std::pair<const char*, const std::string*>{"creator", &args.creator}}) {
    if (text->empty()) continue;
    Address address{};
    Status s = ctx.resolve_address(*text, &address);
    if (!s.is_ok()) return s;
    params[field] = crypto::encode_address(address);
  }
  if (!args.after.empty()) params["after"] = args.after;

  json result;
  Status s = ctx.call("model_list", params, &result);
  if (!s.is_ok()) return s;
  if (ctx.json_output()) {
    *ctx.out << result.dump(2) << "\n";
    return Status::ok();
  }
  const json models = result.value("models", json::array());
  if (models.empty()) *ctx.out << "no models\n";
  for (const auto& item : models) {
    uint64_t total_size = 0;
    json_uint(item, "total_size", &total_size);
    *ctx.out << item.value("id", std::string()) << "  " << item.value("format", std::string()) << "  "
             << total_size << " bytes  " << (item.value("available", false) ? "available" : "not available") << "  "
             << item.value("name", std::string()) << "  owner " << item.value("owner", std::string()) << "\n";
  }
  const json next = result.value("next", json());
  if (next.is_string()) *ctx.out << "more: run again with --after " << next.get<std::string>() << "\n";
  return Status::ok();
}

void add_list(CLI::App* model, Context& ctx) {
  auto args = std::make_shared<ListArgs>();
  CLI::App* cmd = model->add_subcommand("list", "List model NFTs by owner or creator");
  cmd->add_option("--owner", args->owner, "Only models owned by this atm1 address or key name");
  cmd->add_option("--creator", args->creator, "Only models registered by this atm1 address or key name");
  cmd->add_option("--limit", args->limit, "Max models to list")->capture_default_str();
  cmd->add_option("--after", args->after, "Cursor from the previous page ('next')");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status { return run_list(ctx, *args); };
  });
}

}  // namespace

void add_model_read_commands(CLI::App* model, Context& ctx) {
  add_show(model, ctx);
  add_list(model, ctx);
}

}  // namespace automata::cli
