#include "automata/cli/code_tree.h"

#include "automata/cli/code_cache.h"
#include "automata/crypto/merkle.h"
#include "automata/crypto/sha256.h"
#include "automata/v1/code.pb.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <system_error>

namespace automata::cli {

namespace fs = std::filesystem;

std::string check_code_path(std::string_view path, uint64_t max_path_bytes) {
  if (path.empty()) return "a path must not be empty";
  if (path.size() > max_path_bytes) {
    return "a path is at most " + std::to_string(max_path_bytes) + " bytes, this one has " +
           std::to_string(path.size());
  }
  if (path.front() == '/') return "a path must be relative (no leading '/')";
  if (path.find('\\') != std::string_view::npos) return "a path must not contain a backslash";
  if (path.find('\0') != std::string_view::npos) return "a path must not contain a NUL byte";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment.empty()) return "a path must not contain an empty segment ('//' or a trailing '/')";
    if (segment == "." || segment == "..") return "a path must not contain a '.' or '..' segment";
    start = end + 1;
  }
  return "";
}

bool is_skipped_dir_name(std::string_view name) {
  return name == ".git" || name == "build" || name.rfind("cmake-build-", 0) == 0;
}

Status read_file_bytes(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error("cannot open " + path.string() + " for reading");
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return Status::io_error("cannot read the size of " + path.string());
  in.seekg(0, std::ios::beg);
  out->resize(static_cast<size_t>(size));
  if (size > 0 && !in.read(out->data(), size)) return Status::io_error("cannot read " + path.string());
  return Status::ok();
}

int64_t coarse_clock_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

namespace {

FileStat file_stat_of(const struct stat& st) {
  FileStat stat;
  stat.size = static_cast<uint64_t>(st.st_size);
  stat.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  stat.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  stat.inode = static_cast<uint64_t>(st.st_ino);
  stat.device = static_cast<uint64_t>(st.st_dev);
  stat.mode = (st.st_mode & 0111) != 0 ? kModeExecutable : kModeRegular;
  return stat;
}

// The path of entry relative to root with '/' separators. The directory
// iterator builds each entry's path as root / name..., so the prefix is cut
// off as a string instead of through lexically_relative, which splits both
// paths into components for each of thousands of files.
std::string relative_path(const fs::path& root, const fs::path& entry) {
  const std::string& full = entry.native();
  const std::string& prefix = root.native();
  if (!prefix.empty() && full.size() > prefix.size() && full.compare(0, prefix.size(), prefix) == 0) {
    if (prefix.back() == '/') return full.substr(prefix.size());
    if (full[prefix.size()] == '/') return full.substr(prefix.size() + 1);
  }
  return entry.lexically_relative(root).generic_string();
}

// Adds one regular file to the scan: checks its path and size, then takes
// its hash from the cache when its stat matches, and reads and hashes it
// otherwise. scan_start_ns is coarse_clock_ns() before the first stat.
Status add_file(const fs::path& root, const fs::directory_entry& entry, const CodeTreeLimits& limits,
                const CodeCache* cache, int64_t scan_start_ns, crypto::Sha256& hasher, std::string& buffer,
                CodeScan* out) {
  std::string path = relative_path(root, entry.path());
  std::string rule = check_code_path(path, limits.max_path_bytes);
  if (!rule.empty()) return Status::invalid_argument("invalid path '" + path + "': " + rule);

  struct stat st{};
  if (::stat(entry.path().c_str(), &st) != 0) {
    return Status::io_error("cannot stat " + entry.path().string() + ": " + std::strerror(errno));
  }
  FileStat stat = file_stat_of(st);

  CodeFile file;
  file.path = std::move(path);
  file.mode = stat.mode;
  file.source = entry.path();
  const CodeCacheEntry* cached = nullptr;
  if (cache != nullptr) {
    auto it = cache->entries.find(file.path);
    if (it != cache->entries.end() && it->second.stat_valid && it->second.stat == stat) cached = &it->second;
  }
  if (cached != nullptr) {
    file.blob_hash = cached->blob_hash;
    file.size = stat.size;
    ++out->files_cached;
  } else {
    Status s = read_file_bytes(entry.path(), &buffer);
    if (!s.is_ok()) return s;
    file.blob_hash = hasher.update(as_view(buffer)).finish();
    file.size = buffer.size();
    ++out->files_read;
  }
  if (file.size > limits.max_blob_bytes) {
    return Status::invalid_argument("file '" + file.path + "' has " + std::to_string(file.size) +
                                    " bytes, above the max blob size of " + std::to_string(limits.max_blob_bytes) +
                                    " bytes");
  }
  // A write after the stat gives a newer mtime, unless the stat was taken in
  // the same timestamp tick as an earlier write. Only a stat older than the
  // scan rules that out.
  if (file.size == stat.size && stat.mtime_ns < scan_start_ns && stat.ctime_ns < scan_start_ns) file.stat = stat;
  out->total_bytes += file.size;
  out->files.push_back(std::move(file));
  return Status::ok();
}

}  // namespace

Status scan_code_dir(const fs::path& dir, const CodeTreeLimits& limits, CodeScan* out, const CodeCache* cache) {
  *out = CodeScan{};
  out->started_ns = coarse_clock_ns();
  std::error_code ec;
  fs::file_status root_status = fs::status(dir, ec);
  if (ec || !fs::exists(root_status)) return Status::not_found("directory " + dir.string() + " does not exist");
  if (!fs::is_directory(root_status)) return Status::invalid_argument(dir.string() + " is not a directory");

  crypto::Sha256 hasher;
  std::string buffer;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) return Status::io_error("cannot read directory " + dir.string() + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::io_error("cannot read directory " + dir.string() + ": " + ec.message());
    const fs::directory_entry& entry = *it;
    if (entry.is_symlink(ec)) {
      out->warnings.push_back("skipped symlink " + relative_path(dir, entry.path()));
      continue;
    }
    if (entry.is_directory(ec)) {
      if (is_skipped_dir_name(entry.path().filename().string())) it.disable_recursion_pending();
      continue;
    }
    if (!entry.is_regular_file(ec)) {
      out->warnings.push_back("skipped " + relative_path(dir, entry.path()) + ": not a regular file");
      continue;
    }
    if (out->files.size() >= limits.max_files) {
      return Status::invalid_argument(dir.string() + " has more than the max of " + std::to_string(limits.max_files) +
                                      " files per version");
    }
    Status s = add_file(dir, entry, limits, cache, out->started_ns, hasher, buffer, out);
    if (!s.is_ok()) return s;
  }
  if (ec) return Status::io_error("cannot read directory " + dir.string() + ": " + ec.message());

  std::sort(out->files.begin(), out->files.end(),
            [](const CodeFile& a, const CodeFile& b) { return a.path < b.path; });
  return Status::ok();
}

Status check_scan_limits(const std::string& dir, const CodeScan& scan, const CodeTreeLimits& limits) {
  if (scan.files.size() > limits.max_files) {
    return Status::invalid_argument(dir + " has " + std::to_string(scan.files.size()) + " files, more than the max of " +
                                    std::to_string(limits.max_files) + " files per version");
  }
  for (const CodeFile& file : scan.files) {
    std::string rule = check_code_path(file.path, limits.max_path_bytes);
    if (!rule.empty()) return Status::invalid_argument("invalid path '" + file.path + "': " + rule);
    if (file.size > limits.max_blob_bytes) {
      return Status::invalid_argument("file '" + file.path + "' has " + std::to_string(file.size) +
                                      " bytes, above the max blob size of " + std::to_string(limits.max_blob_bytes) +
                                      " bytes");
    }
  }
  return Status::ok();
}

std::string serialize_tree_entry(const CodeFile& file) {
  v1::TreeEntry entry;
  entry.set_path(file.path);
  entry.set_blob_hash(std::string(file.blob_hash.begin(), file.blob_hash.end()));
  entry.set_mode(file.mode);
  return entry.SerializeAsString();
}

Hash32 code_tree_hash(const std::vector<CodeFile>& files) {
  std::vector<const CodeFile*> sorted;
  sorted.reserve(files.size());
  for (const auto& file : files) sorted.push_back(&file);
  std::sort(sorted.begin(), sorted.end(), [](const CodeFile* a, const CodeFile* b) { return a->path < b->path; });
  std::vector<Hash32> leaves;
  leaves.reserve(sorted.size());
  for (const CodeFile* file : sorted) leaves.push_back(crypto::merkle_leaf_hash(as_view(serialize_tree_entry(*file))));
  return crypto::merkle_root_from_leaves(leaves);
}

}  // namespace automata::cli
