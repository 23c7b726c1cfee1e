// automata code log | diff | checkout | show | list | proposals
#include "automata/cli/code_cache.h"
#include "automata/cli/code_client.h"
#include "automata/cli/code_commands.h"
#include "automata/cli/code_diff.h"
#include "automata/cli/code_graph.h"
#include "automata/crypto/bech32.h"
#include "cli/context.h"

#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <utility>

namespace automata::cli {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr uint64_t kPageLimit = 200;  // the max a list method returns per page
constexpr size_t kShortIdDigits = 12;

std::string short_id(const std::string& hex) { return hex.substr(0, kShortIdDigits); }

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Returns obj[field], or fallback when obj is not an object or the field is
// missing or null. The node sends null for an absent value (a wrapped asset
// has no owner), and json::value() throws on null, so results are read
// through member() and text_of().
json member(const json& obj, const std::string& field, const json& fallback = json(nullptr)) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(field);
  return it == obj.end() || it->is_null() ? fallback : *it;
}

// Returns the string at obj[field], or "" when it is missing, null or not a
// string.
std::string text_of(const json& obj, const std::string& field) {
  const json value = member(obj, field);
  return value.is_string() ? value.get<std::string>() : std::string();
}

Status parse_asset(const std::string& text, std::string* hex) {
  Hash32 id{};
  Status s = parse_id(text, "asset id", &id);
  if (!s.is_ok()) return s;
  *hex = to_hex(id);
  return Status::ok();
}

// Calls a list method page by page until limit items are read or the
// cursor runs out, appending the items of `field`. When cursor is not null,
// reading starts at *cursor (empty: the first page) and *cursor receives
// the node's next_cursor after the last page read, empty when no items
// are left.
Status read_pages(Context& ctx, const std::string& method, json params, const std::string& field, uint64_t limit,
                  json* items, std::string* cursor = nullptr) {
  *items = json::array();
  if (cursor != nullptr && !cursor->empty()) params["cursor"] = *cursor;
  std::string next;
  while (items->size() < limit) {
    params["limit"] = std::min<uint64_t>(kPageLimit, limit - items->size());
    json page;
    Status s = ctx.call(method, params, &page);
    if (!s.is_ok()) return s;
    for (const auto& item : member(page, field, json::array())) items->push_back(item);
    const json page_cursor = member(page, "next_cursor", json(nullptr));
    next = page_cursor.is_string() ? page_cursor.get<std::string>() : "";
    if (next.empty()) break;
    params["cursor"] = next;
  }
  if (cursor != nullptr) *cursor = next;
  return Status::ok();
}

// Explains a not-found failure on a composite asset, which has children but
// no versions, so the node reports a missing branch or version. Returns an
// error that names the composite and the next step (`action` is "log" or
// "check out"), or failure unchanged for any other asset or error.
Status explain_composite(Context& ctx, const std::string& asset, const std::string& action, const Status& failure) {
  if (!failure.is_not_found()) return failure;
  json result;
  if (!ctx.call("code_get", {{"id", asset}}, &result).is_ok() || text_of(result, "kind") != "composite") {
    return failure;
  }
  return Status::invalid_argument("asset " + asset + " is a composite, which has no versions to " + action + "; " +
                                  action + " one of its children instead (`automata code show " + asset +
                                  "` lists them)");
}

void add_log(CLI::App* code, Context& ctx) {
  struct Args {
    std::string asset, branch, version, cursor;
    uint64_t limit = 50;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("log", "Show the version history of a branch as a graph");
  cmd->add_option("--cursor", args->cursor, "Continue where an earlier log stopped (the next_cursor it printed)");
  cmd->add_option("ASSET", args->asset, "Asset id (hex)")->required();
  cmd->add_option("--branch", args->branch, "Branch whose history to show (default: main)");
  cmd->add_option("--version", args->version, "Show the history of this version instead of a branch head");
  cmd->add_option("--limit", args->limit, "Max versions to show")->capture_default_str();
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      std::string asset;
      Status s = parse_asset(args->asset, &asset);
      if (!s.is_ok()) return s;
      if (!args->branch.empty() && !args->version.empty()) {
        return Status::invalid_argument("give --branch or --version, not both");
      }
      if (args->limit == 0) return Status::invalid_argument("--limit must be at least 1");
      json params = {{"id", asset}};
      if (!args->version.empty()) {
        params["version"] = args->version;
      } else {
        params["branch"] = args->branch.empty() ? "main" : args->branch;
      }
      json versions;
      std::string cursor = args->cursor;
      s = read_pages(ctx, "code_log", params, "versions", args->limit, &versions, &cursor);
      if (!s.is_ok()) return explain_composite(ctx, asset, "log", s);
      if (ctx.json_output()) {
        json out = {{"versions", versions}};
        if (!cursor.empty()) out["next_cursor"] = cursor;
        *ctx.out << out.dump(2) << "\n";
        return Status::ok();
      }
      std::vector<GraphNode> nodes;
      for (const auto& version : versions) {
        GraphNode node;
        node.id = text_of(version, "id");
        for (const auto& parent : member(version, "parents", json::array())) {
          if (parent.is_string()) node.parents.push_back(parent.get<std::string>());
        }
        node.label = short_id(node.id) + " " + first_line(text_of(version, "message")) + " (height " +
                     member(version, "height", json(0)).dump() + ")";
        nodes.push_back(std::move(node));
      }
      for (const auto& line : render_graph(nodes)) *ctx.out << line << "\n";
      if (!cursor.empty()) *ctx.out << "(more history: add --cursor " << cursor << ")\n";
      return Status::ok();
    };
  });
}

// A diff side: "ASSET:BRANCH" or a version id.
Status resolve_side(Context& ctx, const std::string& text, std::string* version_hex) {
  size_t colon = text.find(':');
  if (colon == std::string::npos) {
    Hash32 id{};
    Status s = parse_id(text, "version (or ASSET:BRANCH)", &id);
    if (!s.is_ok()) return s;
    *version_hex = to_hex(id);
    return Status::ok();
  }
  std::string asset;
  Status s = parse_asset(text.substr(0, colon), &asset);
  if (!s.is_ok()) return s;
  std::string branch = text.substr(colon + 1);
  if (branch.empty()) return Status::invalid_argument("invalid '" + text + "': the branch after ':' is empty");
  return resolve_version(ctx, asset, branch, version_hex);
}

std::string mode_text(uint32_t mode) { return mode == kModeExecutable ? "100755" : "100644"; }

// Prints the unified diff of one path, or "binary files differ".
Status print_file_diff(Context& ctx, const std::string& path, const CodeFile* before, const CodeFile* after) {
  std::string old_text;
  std::string new_text;
  if (before != nullptr) {
    Status s = fetch_blob(ctx, before->blob_hash, &old_text);
    if (!s.is_ok()) return s;
  }
  if (after != nullptr) {
    Status s = fetch_blob(ctx, after->blob_hash, &new_text);
    if (!s.is_ok()) return s;
  }
  *ctx.out << "diff a/" << path << " b/" << path << "\n";
  if (before != nullptr && after != nullptr && before->mode != after->mode) {
    *ctx.out << "old mode " << mode_text(before->mode) << "\nnew mode " << mode_text(after->mode) << "\n";
  }
  if (is_binary_content(old_text) || is_binary_content(new_text)) {
    if (old_text != new_text) *ctx.out << "binary files differ\n";
    return Status::ok();
  }
  std::string a_label = before != nullptr ? "a/" + path : "/dev/null";
  std::string b_label = after != nullptr ? "b/" + path : "/dev/null";
  *ctx.out << unified_diff(old_text, new_text, a_label, b_label);
  return Status::ok();
}

void add_diff(CLI::App* code, Context& ctx) {
  auto a = std::make_shared<std::string>();
  auto b = std::make_shared<std::string>();
  auto name_only = std::make_shared<bool>(false);
  CLI::App* cmd = code->add_subcommand("diff", "Compare two versions: changed paths, then a unified diff");
  cmd->add_option("A", *a, "Old side: a version id or ASSET:BRANCH")->required();
  cmd->add_option("B", *b, "New side: a version id or ASSET:BRANCH")->required();
  cmd->add_flag("--name-only", *name_only, "List the changed paths only");
  cmd->callback([&ctx, a, b, name_only] {
    ctx.action = [&ctx, a, b, name_only]() -> Status {
      std::string a_version;
      std::string b_version;
      Status s = resolve_side(ctx, *a, &a_version);
      if (!s.is_ok()) return s;
      s = resolve_side(ctx, *b, &b_version);
      if (!s.is_ok()) return s;
      std::vector<CodeFile> a_files;
      std::vector<CodeFile> b_files;
      s = fetch_tree(ctx, a_version, &a_files);
      if (!s.is_ok()) return s;
      s = fetch_tree(ctx, b_version, &b_files);
      if (!s.is_ok()) return s;

      std::map<std::string, const CodeFile*> before;
      std::map<std::string, const CodeFile*> after;
      for (const auto& file : a_files) before[file.path] = &file;
      for (const auto& file : b_files) after[file.path] = &file;
      std::set<std::string> paths;
      for (const auto& [path, file] : before) paths.insert(path);
      for (const auto& [path, file] : after) paths.insert(path);

      json changes = json::array();
      std::vector<std::pair<std::string, std::string>> listed;  // path, status
      for (const auto& path : paths) {
        auto old_it = before.find(path);
        auto new_it = after.find(path);
        std::string status;
        if (old_it == before.end()) {
          status = "added";
        } else if (new_it == after.end()) {
          status = "removed";
        } else if (old_it->second->blob_hash != new_it->second->blob_hash ||
                   old_it->second->mode != new_it->second->mode) {
          status = "changed";
        } else {
          continue;
        }
        listed.emplace_back(path, status);
        changes.push_back({{"path", path}, {"status", status}});
      }
      if (ctx.json_output()) {
        *ctx.out << json{{"a", a_version}, {"b", b_version}, {"changes", changes}}.dump(2) << "\n";
        return Status::ok();
      }
      for (const auto& [path, status] : listed) *ctx.out << status << ": " << path << "\n";
      if (listed.empty()) *ctx.out << "no differences\n";
      if (*name_only) return Status::ok();
      for (const auto& [path, status] : listed) {
        auto old_it = before.find(path);
        auto new_it = after.find(path);
        s = print_file_diff(ctx, path, old_it == before.end() ? nullptr : old_it->second,
                            new_it == after.end() ? nullptr : new_it->second);
        if (!s.is_ok()) return s;
      }
      return Status::ok();
    };
  });
}

// An open file descriptor, closed when the object goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::string errno_text(int err) { return std::strerror(err); }

// Opens directory `name` inside parent_fd, creating it when missing,
// without following a symlink. With force a symlink in the way is removed
// (the link, not its target) and replaced by a directory. Without force it
// is an error. Messages name the directory as display_path.
Status open_checkout_dir(int parent_fd, const std::string& name, const std::string& display_path, bool force,
                         Fd* out) {
  // The entry is checked again after each change, in case another process
  // changes it meanwhile.
  for (int round = 0; round < 4; ++round) {
    int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      out->reset(fd);
      return Status::ok();
    }
    int err = errno;
    if (err == ENOENT) {
      if (::mkdirat(parent_fd, name.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::io_error("cannot create directory " + display_path + ": " + errno_text(errno));
      }
      continue;
    }
    if (err != ENOTDIR && err != ELOOP) {
      return Status::io_error("cannot open directory " + display_path + ": " + errno_text(err));
    }
    struct stat st{};
    if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISLNK(st.st_mode)) {
      return Status::invalid_argument("cannot create directory " + display_path +
                                      ": a file of that name is in the way; remove it or check out into another "
                                      "directory");
    }
    if (!force) {
      return Status::invalid_argument("cannot create directory " + display_path +
                                      ": it is a symbolic link; pass --force to replace the link by a directory");
    }
    if (::unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      return Status::io_error("cannot remove the symbolic link " + display_path + ": " + errno_text(errno));
    }
  }
  return Status::io_error("cannot open directory " + display_path + ": it changed while the checkout was creating it");
}

// Writes data to the tree path rel_path under the checkout directory
// root_fd, which messages name as out_dir. Each directory is opened with
// O_NOFOLLOW, so no write goes through a symlink. The file is written under
// a new temporary name and renamed over the path, which replaces a symlink
// or hard link there instead of writing to its target. Without force an
// existing entry is an error.
Status write_checkout_file(int root_fd, const fs::path& out_dir, const std::string& rel_path, const std::string& data,
                           uint32_t mode, bool force) {
  Fd dir;
  int dir_fd = root_fd;
  fs::path display_path = out_dir;
  size_t start = 0;
  for (size_t slash = rel_path.find('/'); slash != std::string::npos; slash = rel_path.find('/', start)) {
    std::string name = rel_path.substr(start, slash - start);
    display_path /= name;
    Fd next;
    Status s = open_checkout_dir(dir_fd, name, display_path.string(), force, &next);
    if (!s.is_ok()) return s;
    dir.reset(next.release());
    dir_fd = dir.get();
    start = slash + 1;
  }
  const std::string name = rel_path.substr(start);
  display_path /= name;

  struct stat st{};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return Status::invalid_argument("cannot write " + display_path.string() +
                                      ": it is a directory; remove it or check out into another directory");
    }
    if (!force) {
      return Status::invalid_argument("cannot write " + display_path.string() +
                                      ": it already exists; pass --force to replace it");
    }
  }

  std::string temp;
  Fd file;
  for (int n = 0; file.get() < 0; ++n) {
    temp = ".automata-checkout-" + std::to_string(::getpid()) + "-" + std::to_string(n);
    int fd = ::openat(dir_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      file.reset(fd);
    } else if (errno != EEXIST || n >= 1000) {
      return Status::io_error("cannot create a temporary file in " + display_path.parent_path().string() +
                              " to write " + display_path.string() + ": " + errno_text(errno));
    }
  }
  auto fail = [&](const std::string& what, int err) {
    file.reset();
    ::unlinkat(dir_fd, temp.c_str(), 0);
    return Status::io_error("cannot " + what + " " + display_path.string() + ": " + errno_text(err));
  };
  for (size_t done = 0; done < data.size();) {
    ssize_t n = ::write(file.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write", errno);
    done += static_cast<size_t>(n);
  }
  if (::fchmod(file.get(), mode == kModeExecutable ? 0755 : 0644) != 0) return fail("set the mode of", errno);
  if (::close(file.release()) != 0) return fail("write", errno);
  if (::renameat(dir_fd, temp.c_str(), dir_fd, name.c_str()) != 0) {
    int err = errno;
    ::unlinkat(dir_fd, temp.c_str(), 0);
    if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
      return Status::invalid_argument("cannot write " + display_path.string() +
                                      ": it is a directory; remove it or check out into another directory");
    }
    return Status::io_error("cannot write " + display_path.string() + ": " + errno_text(err));
  }
  return Status::ok();
}

// Stores the stat cache of a checkout: hashes the written files again and
// keeps those that still match the version's tree, so that every entry's
// blob is on chain. A failure only warns.
void save_checkout_cache(Context& ctx, const std::string& asset, const std::string& version, const fs::path& out_dir,
                         const std::vector<CodeFile>& files) {
  fs::path cache_dir = code_cache_dir();
  if (cache_dir.empty()) return;
  std::error_code ec;
  fs::path outer = fs::weakly_canonical(fs::absolute(out_dir, ec), ec);
  fs::path inner = fs::weakly_canonical(fs::absolute(cache_dir, ec), ec);
  auto [outer_end, inner_it] = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
  if (outer_end == outer.end()) return;  // the cache would be written into the checkout

  // The scan trusts only stats older than its start, so it first waits
  // (at most 100 ms) until the coarse clock passes the newest timestamp of
  // the files just written. That clock was seen lagging fine-grained file
  // timestamps by more than one of its steps.
  int64_t newest_ns = 0;
  for (const CodeFile& file : files) {
    struct stat st{};
    if (::stat((out_dir / file.path).c_str(), &st) != 0) continue;
    newest_ns = std::max({newest_ns, static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                          static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec});
  }
  for (int i = 0; i < 100 && coarse_clock_ns() <= newest_ns; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CodeScan scan;
  Status s = scan_code_dir(out_dir, CodeTreeLimits{}, &scan);
  if (s.is_ok()) {
    std::map<std::string, Hash32> tree;
    for (const CodeFile& file : files) tree[file.path] = file.blob_hash;
    std::erase_if(scan.files, [&](const CodeFile& file) {
      auto it = tree.find(file.path);
      return it == tree.end() || it->second != file.blob_hash;
    });
    s = save_code_cache(cache_dir, make_code_cache(asset, out_dir, scan, version));
  }
  if (!s.is_ok()) *ctx.err << "warning: cannot write the stat cache: " << s.message() << "\n";
}

void add_checkout(CLI::App* code, Context& ctx) {
  struct Args {
    std::string asset, version, out;
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("checkout", "Write the files of a version into a directory");
  cmd->add_option("ASSET", args->asset, "Asset id (hex)")->required();
  cmd->add_option("VERSION", args->version, "Version id or branch name (default: main)");
  cmd->add_option("--out", args->out, "Directory to write into")->required();
  cmd->add_flag("--force", args->force, "Write into a non-empty directory, replacing files of the same path");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      std::string asset;
      Status s = parse_asset(args->asset, &asset);
      if (!s.is_ok()) return s;
      fs::path out_dir(args->out);
      std::error_code ec;
      if (fs::exists(out_dir, ec)) {
        if (!fs::is_directory(out_dir, ec)) return Status::invalid_argument(args->out + " is not a directory");
        if (!fs::is_empty(out_dir, ec) && !args->force) {
          return Status::invalid_argument("directory " + args->out + " is not empty; pass --force to write into it");
        }
      }
      std::string version;
      s = resolve_version(ctx, asset, args->version.empty() ? "main" : args->version, &version);
      if (!s.is_ok()) return explain_composite(ctx, asset, "check out", s);
      std::vector<CodeFile> files;
      s = fetch_tree(ctx, version, &files);
      if (!s.is_ok()) return s;

      // The tree the node sent must hash to the version's tree hash.
      json log;
      s = ctx.call("code_log", {{"id", asset}, {"version", version}, {"limit", 1}}, &log);
      if (!s.is_ok()) return explain_composite(ctx, asset, "check out", s);
      const json versions = member(log, "versions", json::array());
      if (versions.empty() || text_of(versions[0], "id") != version) {
        return Status::not_found("version " + version + " is not in the history of asset " + asset);
      }
      std::string expected = text_of(versions[0], "tree_hash");
      std::string actual = to_hex(code_tree_hash(files));
      if (expected != actual) {
        return Status::io_error("the tree of version " + version + " hashes to " + actual +
                                " but the version records " + expected);
      }

      fs::create_directories(out_dir, ec);
      if (ec) return Status::io_error("cannot create directory " + args->out + ": " + ec.message());
      // The --out path itself may be a symlink that the user chose. Below it,
      // write_checkout_file follows none.
      Fd root(::open(out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (root.get() < 0) return Status::io_error("cannot open directory " + args->out + ": " + errno_text(errno));
      std::string data;
      uint64_t bytes = 0;
      for (const CodeFile& file : files) {
        s = fetch_blob(ctx, file.blob_hash, &data);
        if (!s.is_ok()) return s;
        s = write_checkout_file(root.get(), out_dir, file.path, data, file.mode, args->force);
        if (!s.is_ok()) return s;
        bytes += data.size();
      }
      save_checkout_cache(ctx, asset, version, out_dir, files);
      if (ctx.json_output()) {
        *ctx.out << json{{"version", version}, {"files", files.size()}, {"bytes", bytes}, {"out", args->out}}.dump(2)
                 << "\n";
      } else {
        *ctx.out << "checked out version " << version << ": " << files.size() << " files, " << bytes << " bytes into "
                 << args->out << "\n";
      }
      return Status::ok();
    };
  });
}

void print_asset(Context& ctx, const json& asset) {
  std::ostream& out = *ctx.out;
  for (const char* field : {"id", "kind", "name", "owner", "author", "license", "royalty_bps", "created_height",
                            "updated_height"}) {
    if (!asset.contains(field)) continue;
    const json& value = asset[field];
    out << field << ": " << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
  const json wrapped = member(asset, "wrapped_by", json(nullptr));
  out << "wrapped_by: " << (wrapped.is_string() ? wrapped.get<std::string>() : std::string("none")) << "\n";
  out << "language_tags: " << member(asset, "language_tags", json::array()).dump() << "\n";
  out << "branches:\n";
  // items() refers to its json, so the values must outlive the loops.
  const json branches = member(asset, "branches", json::object());
  for (const auto& [name, head] : branches.items()) {
    out << "  " << name << " " << (head.is_string() ? head.get<std::string>() : head.dump()) << "\n";
  }
  const json all_rules = member(asset, "rules", json::object());
  for (const auto& [branch, rules] : all_rules.items()) {
    out << "rules " << branch << ": " << member(rules, "required_approvals", json(0)).dump() << " of "
        << member(rules, "reviewers", json::array()).dump() << ", max_change_bytes "
        << member(rules, "max_change_bytes", json(0)).dump() << ", licenses "
        << member(rules, "license_allow_list", json::array()).dump() << "\n";
  }
  const json children = member(asset, "children", json::array());
  if (!children.empty()) out << "children:\n";
  for (const auto& child : children) {
    out << "  " << text_of(child, "asset_id") << "@" << text_of(child, "version") << "\n";
  }
  for (const auto& grant : member(asset, "grants", json::array())) {
    out << "grant " << text_of(grant, "grantee") << " until height "
        << member(grant, "expiry_height", json(0)).dump() << "\n";
  }
}

void add_show(CLI::App* code, Context& ctx) {
  auto asset_text = std::make_shared<std::string>();
  CLI::App* cmd = code->add_subcommand("show", "Show an asset: owner, branches, rules, children and grants");
  cmd->add_option("ASSET", *asset_text, "Asset or composite id (hex)")->required();
  cmd->callback([&ctx, asset_text] {
    ctx.action = [&ctx, asset_text]() -> Status {
      std::string asset;
      Status s = parse_asset(*asset_text, &asset);
      if (!s.is_ok()) return s;
      json result;
      s = ctx.call("code_get", {{"id", asset}}, &result);
      if (!s.is_ok()) return s;
      if (ctx.json_output()) {
        *ctx.out << result.dump(2) << "\n";
      } else {
        print_asset(ctx, result);
      }
      return Status::ok();
    };
  });
}

// Returns the owner column of a listed asset. A wrapped asset has no owner
// because the composite that wraps it owns it, and code_list names that
// composite in wrapped_by (nodes before that field show "none").
std::string owner_text(const json& asset) {
  std::string owner = text_of(asset, "owner");
  if (!owner.empty()) return "owner " + owner;
  std::string wrapper = text_of(asset, "wrapped_by");
  if (!wrapper.empty()) return "owner (wrapped in " + wrapper + ")";
  return "owner none (wrapped)";
}

void add_list(CLI::App* code, Context& ctx) {
  struct Args {
    std::string owner, author, cursor;
    uint64_t limit = 200;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = code->add_subcommand("list", "List code assets");
  cmd->add_option("--owner", args->owner, "Only assets owned by this atm1 address or key name");
  cmd->add_option("--author", args->author, "Only assets authored by this atm1 address or key name");
  cmd->add_option("--limit", args->limit, "Max assets to list")->capture_default_str();
  cmd->add_option("--cursor", args->cursor, "Continue where an earlier list stopped (the next_cursor it printed)");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      if (args->limit == 0) return Status::invalid_argument("--limit must be at least 1");
      json params = json::object();
      for (auto [field, text] : {std::pair<const char*, std::string*>{"owner", &args->owner},
                                 std::pair<const char*, std::string*>{"author", &args->author}}) {
        if (text->empty()) continue;
        Address address{};
        Status s = ctx.resolve_address(*text, &address);
        if (!s.is_ok()) return s;
        params[field] = crypto::encode_address(address);
      }
      json assets;
      std::string cursor = args->cursor;
      Status s = read_pages(ctx, "code_list", params, "assets", args->limit, &assets, &cursor);
      if (!s.is_ok()) return s;
      if (ctx.json_output()) {
        // As in the node's result, next_cursor is null when no assets are left.
        json out = {{"assets", assets}, {"next_cursor", cursor.empty() ? json(nullptr) : json(cursor)}};
        *ctx.out << out.dump(2) << "\n";
        return Status::ok();
      }
      if (assets.empty()) *ctx.out << "no assets\n";
      for (const auto& asset : assets) {
        *ctx.out << text_of(asset, "id") << " " << text_of(asset, "kind") << " " << text_of(asset, "name") << " "
                 << owner_text(asset) << "\n";
      }
      if (!cursor.empty()) *ctx.out << "(more assets: add --cursor " << cursor << ")\n";
      return Status::ok();
    };
  });
}

void add_offer_show(CLI::App* code, Context& ctx) {
  auto offer_text = std::make_shared<std::string>();
  CLI::App* cmd = code->add_subcommand("offer-show", "Show a sale offer: object, seller, price, buyer and expiry");
  cmd->add_option("OFFER", *offer_text, "Offer id (hex)")->required();
  cmd->callback([&ctx, offer_text] {
    ctx.action = [&ctx, offer_text]() -> Status {
      Hash32 id{};
      Status s = parse_id(*offer_text, "offer id", &id);
      if (!s.is_ok()) return s;
      json offer;
      s = ctx.call("offer_get", {{"id", to_hex(id)}}, &offer);
      if (s.is_not_found()) {
        return Status::not_found("no open offer has id " + to_hex(id) +
                                 ": it was accepted or cancelled, or never existed");
      }
      if (!s.is_ok()) return s;
      if (ctx.json_output()) {
        *ctx.out << offer.dump(2) << "\n";
        return Status::ok();
      }
      const json price = member(offer, "price", json::object());
      const json buyer = member(offer, "buyer", json(nullptr));
      std::ostream& out = *ctx.out;
      out << "id: " << text_of(offer, "id") << "\n";
      out << "object: " << text_of(offer, "object_id") << "\n";
      out << "seller: " << text_of(offer, "seller") << "\n";
      out << "price: " << text_of(price, "amount") << text_of(price, "denom") << "\n";
      out << "buyer: " << (buyer.is_string() ? buyer.get<std::string>() : std::string("anyone")) << "\n";
      out << "expiry_height: " << member(offer, "expiry_height", json(0)).dump() << "\n";
      out << "commitment: " << text_of(offer, "commitment") << "\n";
      return Status::ok();
    };
  });
}

void add_proposals(CLI::App* code, Context& ctx) {
  auto asset_text = std::make_shared<std::string>();
  auto status = std::make_shared<std::string>();
  CLI::App* cmd = code->add_subcommand("proposals", "List the proposals of an asset");
  cmd->add_option("ASSET", *asset_text, "Asset id (hex)")->required();
  cmd->add_option("--status", *status, "Only proposals with this status")
      ->check(CLI::IsMember({"open", "landed", "rejected"}));
  cmd->callback([&ctx, asset_text, status] {
    ctx.action = [&ctx, asset_text, status]() -> Status {
      std::string asset;
      Status s = parse_asset(*asset_text, &asset);
      if (!s.is_ok()) return s;
      json params = {{"id", asset}};
      if (!status->empty()) params["status"] = *status;
      json result;
      s = ctx.call("code_proposals", params, &result);
      if (!s.is_ok()) return s;
      if (ctx.json_output()) {
        *ctx.out << result.dump(2) << "\n";
        return Status::ok();
      }
      const json proposals = member(result, "proposals", json::array());
      if (proposals.empty()) *ctx.out << "no proposals\n";
      for (const auto& p : proposals) {
        *ctx.out << text_of(p, "id") << " " << text_of(p, "status") << " branch "
                 << text_of(p, "branch") << ", " << member(p, "approvals", json::array()).size()
                 << " approvals, " << member(p, "rejections", json::array()).size() << " rejections: "
                 << first_line(text_of(p, "message"));
        const json landed = member(p, "landed_version", json(nullptr));
        if (landed.is_string() && !landed.get<std::string>().empty()) {
          *ctx.out << " (landed as " << short_id(landed.get<std::string>()) << ")";
        }
        *ctx.out << "\n";
      }
      return Status::ok();
    };
  });
}

}  // namespace

void add_code_read_commands(CLI::App* code, Context& ctx) {
  add_log(code, ctx);
  add_diff(code, ctx);
  add_checkout(code, ctx);
  add_show(code, ctx);
  add_list(code, ctx);
  add_proposals(code, ctx);
  add_offer_show(code, ctx);
}

}  // namespace automata::cli
