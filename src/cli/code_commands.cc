// automata code publish | commit | merge | propose | branch | rules | review
// | compose | decompose | transfer | grant | offer | accept | cancel-offer
#include "automata/cli/code_commands.h"

#include "automata/cli/code_cache.h"
#include "automata/cli/code_client.h"
#include "automata/crypto/bech32.h"
#include "automata/v1/code.pb.h"
#include "automata/v1/objects.pb.h"
#include "cli/context.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <set>

namespace automata::cli {

namespace {

using nlohmann::json;

std::string bytes_of(const Hash32& id) { return std::string(id.begin(), id.end()); }
std::string bytes_of(const Address& address) { return std::string(address.begin(), address.end()); }

void add_signing_options(CLI::App* cmd, CodeTxOptions& options) {
  cmd->add_option("--from", options.from, "Name of the signing key")->required();
  cmd->add_option("--fee", options.fee, "Fee in atm, as 500 or 500atm (default: gas * min_gas_price of the node)");
  cmd->add_option("--gas", options.gas, "Gas limit per tx (default: estimated from the tx size and op count)");
  cmd->add_flag("--wait", options.wait, "Wait until the tx is committed, then print its result and created ids");
  cmd->add_option("--timeout", options.timeout_seconds, "Seconds to wait for each tx to commit")
      ->check(CLI::Range(uint64_t{0}, kMaxWaitSeconds))
      ->capture_default_str();
}

void add_tree_options(CLI::App* cmd, CodeTxOptions& options) {
  add_signing_options(cmd, options);
  cmd->add_option("--max-tx-bytes", options.max_tx_bytes,
                  "Max size of one tx in bytes (the chain's max_tx_bytes); blob uploads are split under it")
      ->capture_default_str();
  cmd->add_option("--upload-tx-bytes", options.upload_tx_bytes, "Target size in bytes of one blob upload tx")
      ->capture_default_str();
}

void print_warnings(Context& ctx, const CodeScan& scan) {
  for (const auto& warning : scan.warnings) *ctx.err << "warning: " << warning << "\n";
}

// Prints the scan's warnings and rejects an empty tree.
Status check_scan(Context& ctx, const std::string& dir, const CodeScan* scan) {
  print_warnings(ctx, *scan);
  if (scan->files.empty()) return Status::invalid_argument("directory " + dir + " has no files to publish");
  return Status::ok();
}

// True when path is dir or lies inside it, so that a cache written there
// would become part of the tree.
bool is_inside(const std::filesystem::path& path, const std::string& dir) {
  std::error_code ec;
  std::string inner = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec).generic_string();
  std::string outer = std::filesystem::weakly_canonical(std::filesystem::absolute(dir, ec), ec).generic_string();
  if (outer.empty() || inner.size() < outer.size() || inner.compare(0, outer.size(), outer) != 0) return false;
  return inner.size() == outer.size() || inner[outer.size()] == '/' || outer.back() == '/';
}

// Returns the stat cache of a tree op, encoded but for the version, or
// nullopt when there is no cache directory or it lies inside dir.
std::optional<PreparedCodeCache> prepare_stat_cache(const std::string& asset_hex, const std::string& dir,
                                                    const CodeScan& scan) {
  std::filesystem::path cache_dir = code_cache_dir();
  if (cache_dir.empty() || is_inside(cache_dir, dir)) return std::nullopt;
  return prepare_code_cache(asset_hex, dir, scan);
}

// Stores the stat cache of a successful tree op. A failure only warns,
// because the next scan then hashes every file.
void save_stat_cache(Context& ctx, const std::optional<PreparedCodeCache>& prepared, const std::string& version_hex) {
  if (!prepared) return;
  Status s = save_code_cache(code_cache_dir(), *prepared, version_hex);
  if (!s.is_ok()) *ctx.err << "warning: " << s.message() << "; the next commit hashes every file\n";
}

template <typename Message>
void fill_tree(const CodeScan& scan, Message* message) {
  for (const CodeFile& file : scan.files) {
    v1::TreeEntry* entry = message->add_tree();
    entry->set_path(file.path);
    entry->set_blob_hash(bytes_of(file.blob_hash));
    entry->set_mode(file.mode);
  }
}

// Returns a check_signer for run_op that reads the asset with code_get and
// rejects a tx that would fail on chain because the asset is wrapped or
// the signer does not own it.
std::function<Status(const CodeSigner&)> owner_check(Context& ctx, const Hash32& asset, const std::string& action) {
  return [&ctx, asset, action](const CodeSigner& signer) {
    json result;
    Status s = ctx.call("code_get", {{"id", to_hex(asset)}}, &result);
    if (!s.is_ok()) return s;
    return check_asset_owner(result, to_hex(asset), signer, action);
  };
}

// Signs and submits one op, then reports it. When the op creates an object
// whose id the CLI can derive (op 0 of the tx), prints "<label> <id>",
// marked pending without --wait.
Status run_op(Context& ctx, const CodeTxOptions& options, EncodedOp op, const std::string& created_label = "",
              const std::function<Status(const CodeSigner&)>& check_signer = nullptr) {
  std::unique_ptr<CodeSigner> signer;
  Status s = CodeSigner::open(ctx, options, &signer);
  if (!s.is_ok()) return s;
  if (check_signer) {
    s = check_signer(*signer);
    if (!s.is_ok()) return s;
  }
  Hash32 hash{};
  s = signer->submit({std::move(op)}, GasHint{}, &hash);
  if (!s.is_ok()) return s;
  json committed;
  std::optional<ExpectedObject> expected;
  if (!created_label.empty()) expected = ExpectedObject{created_label, 0};
  s = finish_tx(ctx, *signer, hash, &committed, expected);
  if (!s.is_ok()) return s;
  if (!created_label.empty() && !ctx.json_output() && ctx.failure_exit_code == 0) {
    std::string id = to_hex(object_id(hash, 0));
    *ctx.out << created_label << " " << id << (options.wait ? "" : " (pending)") << "\n";
  }
  return Status::ok();
}

// Limits for a scan that runs before node_status reports the chain's: a
// blob must fit in one tx, and the rest is checked after the scan.
CodeTreeLimits scan_limits(const CodeTxOptions& options) {
  CodeTreeLimits limits;
  limits.max_blob_bytes = std::max(limits.max_blob_bytes, options.max_tx_bytes);
  limits.max_files = std::max<uint64_t>(limits.max_files, 1'000'000);
  limits.max_path_bytes = std::max<uint64_t>(limits.max_path_bytes, 4096);
  return limits;
}

// The asset and parent version under which run_tree_op uses the stat cache.
struct TreeOpCache {
  std::string asset_hex;   // empty for publish: the cache is only written
  std::string parent_hex;  // head the new version follows, or empty
  // When set, looks up parent_hex on the main thread while the scan runs.
  std::function<Status(std::string* parent_hex)> resolve_parent = nullptr;
  // Rejects a tree with the same files as parent_hex, as git refuses an
  // empty commit.
  bool reject_unchanged = false;
  // When set, checks the signer once its key is loaded, before anything
  // is sent. Runs after resolve_parent.
  std::function<Status(const CodeSigner& signer)> check_signer = nullptr;
};

// Sets *same when the scanned files are exactly the tree of version_hex:
// from the stat cache when it records that version, else by comparing
// tree hashes with the node's code_log entry for it.
Status same_tree_as(Context& ctx, const std::string& asset_hex, const std::string& version_hex,
                    const CodeCache& cache, const CodeScan& scan, bool* same) {
  *same = false;
  // The cache leaves out paths with a newline, so with one in the scan
  // only the tree hashes can tell.
  bool cache_complete = std::none_of(scan.files.begin(), scan.files.end(),
                                     [](const CodeFile& file) { return file.path.find('\n') != std::string::npos; });
  if (cache.version_hex == version_hex && cache_complete) {
    if (cache.entries.size() != scan.files.size()) return Status::ok();
    for (const CodeFile& file : scan.files) {
      auto entry = cache.entries.find(file.path);
      if (entry == cache.entries.end() || entry->second.blob_hash != file.blob_hash ||
          entry->second.stat.mode != file.mode) {
        return Status::ok();
      }
    }
    *same = true;
    return Status::ok();
  }
  json log;
  Status s = ctx.call("code_log", {{"id", asset_hex}, {"version", version_hex}, {"limit", 1}}, &log);
  if (!s.is_ok()) return s;
  if (!log.is_object()) return Status::ok();
  const json versions = log.value("versions", json::array());
  if (versions.empty() || !versions[0].is_object()) return Status::ok();
  *same = versions[0].value("tree_hash", std::string()) == to_hex(code_tree_hash(scan.files));
  return Status::ok();
}

// Scans dir, uploads the blobs the chain lacks, then submits the op that
// make_op builds from the scan. Blobs that fit go in the op's own tx. The
// stat cache of asset and dir lets the scan skip unchanged files, and when
// it records the parent version, blobs_missing is asked only about hashes
// outside the parent's tree.
Status run_tree_op(Context& ctx, const CodeTxOptions& options, const std::string& dir,
                   const std::function<EncodedOp(const CodeScan&)>& make_op, const TreeOpCache& cache_key,
                   const std::string& created_label = "") {
  // One thread loads the stat cache while another lists the directory, and
  // both run while this thread loads the key and reads the node status and
  // account, which wait on scrypt and the node. Files are hashed once both
  // the list and the cache are there.
  CodeCache cache;
  std::string cache_warning;
  CodeScan scan;
  const CodeTreeLimits limits = scan_limits(options);
  std::future<Status> cache_loaded;
  if (!cache_key.asset_hex.empty()) {
    cache_loaded = std::async(std::launch::async, [&] {
      return load_code_cache(code_cache_dir(), cache_key.asset_hex, dir, &cache, &cache_warning);
    });
  }
  std::future<Status> scanned = std::async(std::launch::async, [&] {
    Status listed = list_code_dir(dir, limits, &scan);
    Status loaded = cache_loaded.valid() ? cache_loaded.get() : Status::ok();
    if (!listed.is_ok()) return listed;
    if (!loaded.is_ok()) return loaded;
    return hash_code_files(limits, &cache, &scan);
  });
  std::string parent_hex = cache_key.parent_hex;
  if (cache_key.resolve_parent) {
    Status resolved = cache_key.resolve_parent(&parent_hex);
    if (!resolved.is_ok()) {
      scanned.wait();
      return resolved;
    }
  }
  std::unique_ptr<CodeSigner> signer;
  Status open_status = CodeSigner::open(ctx, options, &signer);
  Status s = scanned.get();
  if (!cache_warning.empty()) *ctx.err << "warning: " << cache_warning << "\n";
  if (!s.is_ok()) return s;
  s = check_scan(ctx, dir, &scan);
  if (!s.is_ok()) return s;
  if (!open_status.is_ok()) return open_status;
  if (cache_key.check_signer) {
    s = cache_key.check_signer(*signer);
    if (!s.is_ok()) return s;
  }
  s = check_scan_limits(dir, scan, signer->tree_limits());
  if (!s.is_ok()) return s;
  if (cache_key.reject_unchanged && !parent_hex.empty()) {
    bool same = false;
    s = same_tree_as(ctx, cache_key.asset_hex, parent_hex, cache, scan, &same);
    if (!s.is_ok()) return s;
    if (same) {
      return Status::invalid_argument("nothing to commit: " + dir + " has the same files as version " + parent_hex +
                                      ", the head of the branch; pass --allow-empty to commit it anyway");
    }
  }
  if (!cache.entries.empty()) {
    *ctx.err << "scanned " << scan.files.size() << " files: " << scan.files_read << " read, " << scan.files_cached
             << " unchanged since the stat cache" << std::endl;
  }
  std::set<Hash32> on_chain;
  if (!parent_hex.empty() && cache.version_hex == parent_hex) {
    for (const auto& [path, entry] : cache.entries) on_chain.insert(entry.blob_hash);
  }
  EncodedOp version_op = make_op(scan);
  const uint64_t version_op_bytes = encode_op(version_op).size();
  // Checked before any blob is uploaded, so that a tree too large for one
  // tx costs no upload fees.
  const uint64_t max_tx_bytes = signer->options().max_tx_bytes;
  if (version_op_bytes + kTxOverheadBytes > max_tx_bytes) {
    return Status::invalid_argument(
        "the tree of " + dir + " (" + std::to_string(scan.files.size()) + " files) takes " +
        std::to_string(version_op_bytes) + " bytes of paths and hashes, and with the tx's other fields that is more " +
        "than the max tx size of " + std::to_string(max_tx_bytes) +
        " bytes; commit fewer files or shorter paths, for example by splitting the directory into several assets");
  }
  std::optional<InlineUpload> inline_upload;
  s = upload_missing_blobs(ctx, *signer, scan, version_op_bytes, &inline_upload, on_chain);
  if (!s.is_ok()) return s;

  std::vector<EncodedOp> ops;
  GasHint hint{0, 0, scan.files.size()};
  if (inline_upload) {
    ops.push_back(std::move(inline_upload->op));
    hint.blob_count = inline_upload->hint.blob_count;
    hint.blob_bytes = inline_upload->hint.blob_bytes;
  }
  // The version op comes last, so its index is the op count minus one.
  uint32_t version_op_index = static_cast<uint32_t>(ops.size());
  ops.push_back(std::move(version_op));
  Hash32 hash{};
  s = signer->submit(std::move(ops), hint, &hash);
  if (!s.is_ok()) return s;
  // The stat cache is built and encoded while the tx waits for its block.
  // Only the version line is left for the end, because the block sets it.
  const std::string asset_hex =
      cache_key.asset_hex.empty() ? to_hex(object_id(hash, version_op_index)) : cache_key.asset_hex;
  std::future<std::optional<PreparedCodeCache>> prepared_cache =
      std::async(std::launch::async, [&] { return prepare_stat_cache(asset_hex, dir, scan); });
  json committed;
  std::optional<ExpectedObject> expected;
  if (!created_label.empty()) expected = ExpectedObject{created_label, version_op_index};
  s = finish_tx(ctx, *signer, hash, &committed, expected);
  if (!s.is_ok()) return s;
  if (!created_label.empty() && !ctx.json_output() && ctx.failure_exit_code == 0) {
    *ctx.out << created_label << " " << to_hex(object_id(hash, version_op_index)) << (options.wait ? "" : " (pending)")
             << "\n";
  }
  if (ctx.failure_exit_code == 0) {
    save_stat_cache(ctx, prepared_cache.get(), created_id(committed, version_op_index, "version"));
  }
  return Status::ok();
}

// The head of branch in asset, as expected_head for an optimistic commit.
Status branch_head(Context& ctx, const std::string& asset_hex, const std::string& branch, Hash32* head,
                   json* asset_out = nullptr) {
  std::string head_hex;
  Status s = resolve_version(ctx, asset_hex, branch, &head_hex, asset_out);
  if (!s.is_ok()) return s;
  return parse_id(head_hex, "head of branch " + branch, head);
}

Status check_royalty(uint32_t bps) {
  if (bps > 10000) {
    return Status::invalid_argument("invalid --royalty-bps " + std::to_string(bps) +
                                    ": basis points run from 0 to 10000");
  }
  return Status::ok();
}

void add_publish(CLI::App* code, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string dir, name, license, message = "initial version";
    std::vector<std::string> languages;
    uint32_t royalty_bps = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("publish", "Publish a directory as a new code asset");
  cmd->add_option("DIR", args->dir, "Directory to publish")->required();
  cmd->add_option("--name", args->name, "Asset name")->required();
  cmd->add_option("--license", args->license, "SPDX license identifier, e.g. Apache-2.0");
  cmd->add_option("--lang", args->languages, "Language tag (repeat for several)");
  cmd->add_option("--royalty-bps", args->royalty_bps, "Royalty to the author on each sale, in basis points (0-10000)")
      ->capture_default_str();
  cmd->add_option("-m,--message", args->message, "Message of the first version")->capture_default_str();
  add_tree_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Status s = check_royalty(args->royalty_bps);
      if (!s.is_ok()) return s;
      auto make_op = [args](const CodeScan& scan) {
        v1::CodePublish op;
        op.set_name(args->name);
        op.set_license(args->license);
        for (const auto& tag : args->languages) op.add_language_tags(tag);
        op.set_message(args->message);
        op.set_royalty_bps(args->royalty_bps);
        fill_tree(scan, &op);
        return EncodedOp{op_field::kCodePublish, op.SerializeAsString()};
      };
      return run_tree_op(ctx, args->options, args->dir, make_op, TreeOpCache{}, "asset");
    };
  });
}

void add_commit(CLI::App* code, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string asset, dir, message, branch = "main";
    bool allow_empty = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("commit", "Commit a directory as the next version of a branch");
  cmd->add_flag("--allow-empty", args->allow_empty, "Commit even when DIR has the same files as the branch head");
  cmd->add_option("ASSET", args->asset, "Asset id (hex)")->required();
  cmd->add_option("DIR", args->dir, "Directory holding the new content")->required();
  cmd->add_option("-m,--message", args->message, "Commit message")->required();
  cmd->add_option("--branch", args->branch, "Branch to commit to")->capture_default_str();
  add_tree_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 asset{};
      Status s = parse_id(args->asset, "asset id", &asset);
      if (!s.is_ok()) return s;
      // The branch head is read while the directory is scanned, and the
      // same code_get result shows whether the signer may commit.
      auto head = std::make_shared<Hash32>();
      auto asset_json = std::make_shared<json>();
      auto resolve = [&ctx, args, asset, head, asset_json](std::string* parent_hex) {
        Status resolved = branch_head(ctx, to_hex(asset), args->branch, head.get(), asset_json.get());
        if (resolved.is_ok()) *parent_hex = to_hex(*head);
        return resolved;
      };
      auto make_op = [args, asset, head](const CodeScan& scan) {
        v1::CodeCommit op;
        op.set_asset_id(bytes_of(asset));
        op.set_branch(args->branch);
        op.set_message(args->message);
        op.set_expected_head(bytes_of(*head));
        fill_tree(scan, &op);
        return EncodedOp{op_field::kCodeCommit, op.SerializeAsString()};
      };
      TreeOpCache cache_key{to_hex(asset), "", resolve};
      cache_key.reject_unchanged = !args->allow_empty;
      cache_key.check_signer = [asset, asset_json](const CodeSigner& signer) {
        return check_asset_owner(*asset_json, to_hex(asset), signer, "commit to it");
      };
      return run_tree_op(ctx, args->options, args->dir, make_op, cache_key);
    };
  });
}

void add_merge(CLI::App* code, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string asset, other, dir, message, branch = "main";
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("merge", "Merge another version into a branch with content from a directory");
  cmd->add_option("ASSET", args->asset, "Asset id (hex)")->required();
  cmd->add_option("OTHER_VERSION", args->other, "Version to merge: a version id or a branch name")->required();
  cmd->add_option("DIR", args->dir, "Directory holding the merged content")->required();
  cmd->add_option("-m,--message", args->message, "Merge message")->required();
  cmd->add_option("--branch", args->branch, "Branch that receives the merge")->capture_default_str();
  add_tree_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 asset{};
      Status s = parse_id(args->asset, "asset id", &asset);
      if (!s.is_ok()) return s;
      std::string other_hex;
      s = resolve_version(ctx, to_hex(asset), args->other, &other_hex);
      if (!s.is_ok()) return s;
      Hash32 other{};
      s = parse_id(other_hex, "other version", &other);
      if (!s.is_ok()) return s;
      auto make_op = [args, asset, other](const CodeScan& scan) {
        v1::CodeMerge op;
        op.set_asset_id(bytes_of(asset));
        op.set_branch(args->branch);
        op.set_other_version(bytes_of(other));
        op.set_message(args->message);
        fill_tree(scan, &op);
        return EncodedOp{op_field::kCodeMerge, op.SerializeAsString()};
      };
      return run_tree_op(ctx, args->options, args->dir, make_op, TreeOpCache{to_hex(asset), ""});
    };
  });
}

void add_propose(CLI::App* code, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string asset, dir, message, branch = "main", other;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("propose", "Propose a directory as the next version of a protected branch");
  cmd->add_option("ASSET", args->asset, "Asset id (hex)")->required();
  cmd->add_option("DIR", args->dir, "Directory holding the proposed content")->required();
  cmd->add_option("-m,--message", args->message, "Proposal message")->required();
  cmd->add_option("--branch", args->branch, "Protected branch the proposal targets")->capture_default_str();
  cmd->add_option("--other-version", args->other, "Second parent, for a proposed merge: a version id or branch");
  add_tree_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 asset{};
      Status s = parse_id(args->asset, "asset id", &asset);
      if (!s.is_ok()) return s;
      std::optional<Hash32> other;
      if (!args->other.empty()) {
        std::string other_hex;
        s = resolve_version(ctx, to_hex(asset), args->other, &other_hex);
        if (!s.is_ok()) return s;
        other.emplace();
        s = parse_id(other_hex, "other version", &*other);
        if (!s.is_ok()) return s;
      }
      auto make_op = [args, asset, other](const CodeScan& scan) {
        v1::CodePropose op;
        op.set_asset_id(bytes_of(asset));
        op.set_branch(args->branch);
        op.set_message(args->message);
        if (other) op.set_other_version(bytes_of(*other));
        fill_tree(scan, &op);
        return EncodedOp{op_field::kCodePropose, op.SerializeAsString()};
      };
      return run_tree_op(ctx, args->options, args->dir, make_op, TreeOpCache{to_hex(asset), ""}, "proposal");
    };
  });
}

void add_branch(CLI::App* code, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string asset, action, name, version;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("branch", "Create, move or delete a branch");
  cmd->add_option("ASSET", args->asset, "Asset id (hex)")->required();
  cmd->add_option("ACTION", args->action, "create, move or delete")
      ->required()
      ->check(CLI::IsMember({"create", "move", "delete"}));
  cmd->add_option("NAME", args->name, "Branch name")->required();
  cmd->add_option("VERSION", args->version,
                  "Target version for create and move: a version id or branch name (default: head of main)");
  add_signing_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 asset{};
      Status s = parse_id(args->asset, "asset id", &asset);
      if (!s.is_ok()) return s;
      v1::CodeBranch op;
      op.set_asset_id(bytes_of(asset));
      op.set_name(args->name);
      if (args->action == "delete") {
        if (!args->version.empty()) return Status::invalid_argument("branch delete takes no VERSION");
        op.set_action(v1::CodeBranch::ACTION_DELETE);
      } else {
        op.set_action(args->action == "create" ? v1::CodeBranch::ACTION_CREATE : v1::CodeBranch::ACTION_MOVE);
        std::string target_hex;
        s = resolve_version(ctx, to_hex(asset), args->version.empty() ? "main" : args->version, &target_hex);
        if (!s.is_ok()) return s;
        Hash32 target{};
        s = parse_id(target_hex, "VERSION", &target);
        if (!s.is_ok()) return s;
        op.set_target_version(bytes_of(target));
      }
      return run_op(ctx, args->options, {op_field::kCodeBranch, op.SerializeAsString()});
    };
  });
}

void add_rules(CLI::App* code, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string asset, branch;
    std::vector<std::string> reviewers, licenses;
    uint32_t approvals = 0;
    uint64_t max_change_bytes = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("rules", "Set the review rules of a branch (approvals 0 removes protection)");
  cmd->add_option("ASSET", args->asset, "Asset id (hex)")->required();
  cmd->add_option("BRANCH", args->branch, "Branch the rules protect")->required();
  cmd->add_option("--reviewer", args->reviewers, "Reviewer: an atm1 address or a key name (repeat for several)");
  cmd->add_option("--approvals", args->approvals, "Approvals from distinct reviewers a proposal needs")->required();
  cmd->add_option("--max-change-bytes", args->max_change_bytes, "Max bytes a proposal may change; 0: no bound")
      ->capture_default_str();
  cmd->add_option("--license", args->licenses, "Allowed license (repeat for several); none: any license");
  add_signing_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 asset{};
      Status s = parse_id(args->asset, "asset id", &asset);
      if (!s.is_ok()) return s;
      if (args->approvals > args->reviewers.size()) {
        return Status::invalid_argument("--approvals " + std::to_string(args->approvals) + " exceeds the " +
                                        std::to_string(args->reviewers.size()) +
                                        " reviewers given, so no proposal could land");
      }
      v1::CodeSetRules op;
      op.set_asset_id(bytes_of(asset));
      op.set_branch(args->branch);
      for (const auto& reviewer : args->reviewers) {
        Address address{};
        s = ctx.resolve_address(reviewer, &address);
        if (!s.is_ok()) return s;
        op.add_reviewers(bytes_of(address));
      }
      op.set_required_approvals(args->approvals);
      op.set_max_change_bytes(args->max_change_bytes);
      for (const auto& license : args->licenses) op.add_license_allow_list(license);
      return run_op(ctx, args->options, {op_field::kCodeSetRules, op.SerializeAsString()});
    };
  });
}

void add_review(CLI::App* code, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string proposal, comment;
    bool approve = false;
    bool reject = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("review", "Approve or reject a proposal");
  cmd->add_option("PROPOSAL", args->proposal, "Proposal id (hex)")->required();
  auto* approve = cmd->add_flag("--approve", args->approve, "Approve the proposal");
  auto* reject = cmd->add_flag("--reject", args->reject, "Reject the proposal");
  approve->excludes(reject);
  cmd->add_option("-m,--message", args->comment, "Review comment");
  add_signing_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      if (!args->approve && !args->reject) return Status::invalid_argument("give --approve or --reject");
      Hash32 proposal{};
      Status s = parse_id(args->proposal, "proposal id", &proposal);
      if (!s.is_ok()) return s;
      v1::CodeReview op;
      op.set_proposal_id(bytes_of(proposal));
      op.set_approve(args->approve);
      op.set_comment(args->comment);
      return run_op(ctx, args->options, {op_field::kCodeReview, op.SerializeAsString()});
    };
  });
}

void add_compose(CLI::App* code, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string name, license;
    std::vector<std::string> children;
    uint32_t royalty_bps = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("compose", "Wrap assets you own into a new composite asset");
  cmd->add_option("NAME", args->name, "Composite name")->required();
  cmd->add_option("CHILDREN", args->children,
                  "Child asset ids; a repository child may pin ID@VERSION (default: head of main)")
      ->required();
  cmd->add_option("--license", args->license, "SPDX license identifier of the composite");
  cmd->add_option("--royalty-bps", args->royalty_bps, "Royalty to the composite's author, in basis points")
      ->capture_default_str();
  add_signing_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Status s = check_royalty(args->royalty_bps);
      if (!s.is_ok()) return s;
      v1::CodeCompose op;
      op.set_name(args->name);
      op.set_license(args->license);
      op.set_royalty_bps(args->royalty_bps);
      for (const auto& child_text : args->children) {
        size_t at = child_text.find('@');
        std::string id_text = child_text.substr(0, at);
        Hash32 child{};
        s = parse_id(id_text, "child asset id", &child);
        if (!s.is_ok()) return s;
        v1::ComposeChild* entry = op.add_children();
        entry->set_asset_id(bytes_of(child));
        // A repository child pins a version; a composite child has none.
        json child_asset;
        s = ctx.call("code_get", {{"id", to_hex(child)}}, &child_asset);
        if (!s.is_ok()) return s;
        if (child_asset.value("kind", std::string()) == "composite") {
          if (at != std::string::npos) {
            return Status::invalid_argument("child " + id_text + " is a composite, which pins no version; drop '@" +
                                            child_text.substr(at + 1) + "'");
          }
          continue;
        }
        std::string version_hex;
        s = resolve_version(ctx, to_hex(child), at == std::string::npos ? "main" : child_text.substr(at + 1),
                            &version_hex);
        if (!s.is_ok()) return s;
        Hash32 version{};
        s = parse_id(version_hex, "child version", &version);
        if (!s.is_ok()) return s;
        entry->set_version(bytes_of(version));
      }
      return run_op(ctx, args->options, {op_field::kCodeCompose, op.SerializeAsString()}, "composite");
    };
  });
}

// Adds a command that takes one object id and submits one op built from it.
void add_id_command(CLI::App* code, Context& ctx, const std::string& name, const std::string& help,
                    const std::string& id_name, std::function<EncodedOp(const Hash32&)> make_op) {
  auto options = std::make_shared<CodeTxOptions>();
  auto id_text = std::make_shared<std::string>();
  CLI::App* cmd = code->add_subcommand(name, help);
  cmd->add_option(id_name, *id_text, id_name + " id (hex)")->required();
  add_signing_options(cmd, *options);
  cmd->callback([&ctx, options, id_text, id_name, make_op] {
    ctx.action = [&ctx, options, id_text, id_name, make_op]() -> Status {
      Hash32 id{};
      Status s = parse_id(*id_text, id_name + " id", &id);
      if (!s.is_ok()) return s;
      return run_op(ctx, *options, make_op(id));
    };
  });
}

void add_transfer(CLI::App* code, Context& ctx) {
  auto options = std::make_shared<CodeTxOptions>();
  auto asset = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  CLI::App* cmd = code->add_subcommand("transfer", "Transfer an asset to a new owner");
  cmd->add_option("ASSET", *asset, "Asset id (hex)")->required();
  cmd->add_option("TO", *to, "New owner: an atm1 address or a key name")->required();
  add_signing_options(cmd, *options);
  cmd->callback([&ctx, options, asset, to] {
    ctx.action = [&ctx, options, asset, to]() -> Status {
      Hash32 id{};
      Status s = parse_id(*asset, "asset id", &id);
      if (!s.is_ok()) return s;
      Address address{};
      s = ctx.resolve_address(*to, &address);
      if (!s.is_ok()) return s;
      v1::ObjectTransfer op;
      op.set_object_id(bytes_of(id));
      op.set_to(bytes_of(address));
      return run_op(ctx, *options, {op_field::kObjectTransfer, op.SerializeAsString()}, "",
                    owner_check(ctx, id, "transfer it"));
    };
  });
}

void add_grant(CLI::App* code, Context& ctx) {
  auto options = std::make_shared<CodeTxOptions>();
  auto asset = std::make_shared<std::string>();
  auto grantee = std::make_shared<std::string>();
  auto expiry = std::make_shared<uint64_t>(0);
  CLI::App* cmd = code->add_subcommand("grant", "Let an address use an asset until a height");
  cmd->add_option("ASSET", *asset, "Asset id (hex)")->required();
  cmd->add_option("GRANTEE", *grantee, "Grantee: an atm1 address or a key name")->required();
  cmd->add_option("--expiry-height", *expiry, "Last height (inclusive) at which the grant holds")->required();
  add_signing_options(cmd, *options);
  cmd->callback([&ctx, options, asset, grantee, expiry] {
    ctx.action = [&ctx, options, asset, grantee, expiry]() -> Status {
      Hash32 id{};
      Status s = parse_id(*asset, "asset id", &id);
      if (!s.is_ok()) return s;
      Address address{};
      s = ctx.resolve_address(*grantee, &address);
      if (!s.is_ok()) return s;
      v1::ObjectGrantUse op;
      op.set_object_id(bytes_of(id));
      op.set_grantee(bytes_of(address));
      op.set_expiry_height(*expiry);
      return run_op(ctx, *options, {op_field::kObjectGrantUse, op.SerializeAsString()});
    };
  });
}

void add_offer(CLI::App* code, Context& ctx) {
  struct Args {
    CodeTxOptions options;
    std::string asset, price, buyer;
    uint64_t expiry_height = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("offer", "Offer an asset for sale");
  cmd->add_option("ASSET", args->asset, "Asset or composite id (hex)")->required();
  cmd->add_option("PRICE", args->price, "Price, such as 1000atm")->required();
  cmd->add_option("--buyer", args->buyer, "Only this buyer may accept: an atm1 address or a key name");
  cmd->add_option("--expiry-height", args->expiry_height, "Last height at which the offer may be accepted; 0: none")
      ->capture_default_str();
  add_signing_options(cmd, args->options);
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      Hash32 id{};
      Status s = parse_id(args->asset, "asset id", &id);
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
      return run_op(ctx, args->options, {op_field::kOfferCreate, op.SerializeAsString()}, "offer",
                    owner_check(ctx, id, "offer it for sale"));
    };
  });
}

}  // namespace

void add_code_tx_commands(CLI::App* code, Context& ctx) {
  add_publish(code, ctx);
  add_commit(code, ctx);
  add_merge(code, ctx);
  add_propose(code, ctx);
  add_branch(code, ctx);
  add_rules(code, ctx);
  add_review(code, ctx);
  add_compose(code, ctx);
  add_id_command(code, ctx, "decompose", "Unwrap a composite; its children return to its owner", "COMPOSITE",
                 [](const Hash32& id) {
                   v1::CodeDecompose op;
                   op.set_composite_id(bytes_of(id));
                   return EncodedOp{op_field::kCodeDecompose, op.SerializeAsString()};
                 });
  add_transfer(code, ctx);
  add_grant(code, ctx);
  add_offer(code, ctx);
  add_id_command(code, ctx, "accept", "Accept an offer: pay its price and take the object", "OFFER",
                 [](const Hash32& id) {
                   v1::OfferAccept op;
                   op.set_offer_id(bytes_of(id));
                   return EncodedOp{op_field::kOfferAccept, op.SerializeAsString()};
                 });
  add_id_command(code, ctx, "cancel-offer", "Withdraw an offer you made", "OFFER", [](const Hash32& id) {
    v1::OfferCancel op;
    op.set_offer_id(bytes_of(id));
    return EncodedOp{op_field::kOfferCancel, op.SerializeAsString()};
  });
}

void add_code_commands(CLI::App& app, Context& ctx) {
  CLI::App* code = app.add_subcommand("code", "Publish, version, review, compose and trade code assets");
  code->require_subcommand(1);
  add_code_tx_commands(code, ctx);
  add_code_read_commands(code, ctx);
}

}  // namespace automata::cli
