// A directory as a code asset sees it: the file list of one version (path,
// blob hash, mode), read from disk for publish and commit, and the tree hash
// the chain stores for a version.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace automata::cli {

// File modes a tree entry may carry.
inline constexpr uint32_t kModeRegular = 0644;
inline constexpr uint32_t kModeExecutable = 0755;

// Default chain bounds on a version (chain parameters, checked again by the
// node). The CLI checks them first so that a bad tree fails before any fee.
struct CodeTreeLimits {
  uint64_t max_blob_bytes = 256 * 1024;
  uint64_t max_files = 10000;
  uint64_t max_path_bytes = 512;
};

// The stat fields of a file that the stat cache (code_cache.h) compares.
struct FileStat {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  uint32_t mode = kModeRegular;  // kModeRegular or kModeExecutable

  bool operator==(const FileStat&) const = default;
};

// One file of a version.
struct CodeFile {
  std::string path;       // normalized, relative, '/'-separated
  Hash32 blob_hash{};     // SHA-256 of the contents
  uint32_t mode = kModeRegular;
  uint64_t size = 0;
  std::string source;     // file on disk; empty for a tree read from the chain
  // The stat taken before the file was read, when it may go into the stat
  // cache: empty for a tree read from the chain and for a file whose mtime
  // or ctime is not older than the start of the scan, which a write in the
  // same timestamp tick could change without changing its stat. Between
  // list_code_dir() and hash_code_files() every file has its stat here.
  std::optional<FileStat> stat;
};

// A scanned directory: files sorted by path (byte order), and one warning per
// entry that was skipped (symlink, socket, device...).
struct CodeScan {
  std::vector<CodeFile> files;
  std::vector<std::string> warnings;
  uint64_t total_bytes = 0;
  int64_t started_ns = 0;     // coarse_clock_ns() before the first stat
  uint64_t files_read = 0;    // files read and hashed
  uint64_t files_cached = 0;  // files whose hash came from the stat cache
};

struct CodeCache;

// Checks a tree path against the chain's rules: non-empty, at most
// max_path_bytes bytes, relative (no leading '/'), no empty, "." or ".."
// segment, no backslash, no NUL, and valid UTF-8. Returns an empty string
// when valid, else the rule it breaks.
std::string check_code_path(std::string_view path, uint64_t max_path_bytes = CodeTreeLimits{}.max_path_bytes);

// True for directory names that scan_code_dir skips: ".git", "build" and
// "cmake-build-*" (build output, not source).
bool is_skipped_dir_name(std::string_view name);

// Walks dir recursively and hashes every regular file: list_code_dir()
// and then hash_code_files(). Skips the directories is_skipped_dir_name()
// names, .git silently and the build directories with a warning, and skips
// symlinks and other non-regular entries with a warning. A file with any
// execute bit gets kModeExecutable, others kModeRegular.
// Returns invalid_argument naming the file and the bound when a path breaks
// check_code_path, a file is larger than max_blob_bytes or there are more
// than max_files files. Returns io_error naming the directory or file that
// cannot be read, and not_found when dir does not exist.
//
// With a cache, a file whose stat matches a cache entry with a valid stat
// takes that entry's hash and is not read.
Status scan_code_dir(const std::filesystem::path& dir, const CodeTreeLimits& limits, CodeScan* out,
                     const CodeCache* cache = nullptr);

// The first step of scan_code_dir: lists the regular files under dir,
// sorted by path, each with its stat in `stat` and its stat size in `size`,
// without reading any. Sets out->started_ns before the first stat. Same
// errors as scan_code_dir except the size bound, which needs the contents.
Status list_code_dir(const std::filesystem::path& dir, const CodeTreeLimits& limits, CodeScan* out);

// The second step: fills in each listed file's blob hash, from the cache
// when the file's stat matches a valid cache entry, else by reading the
// file. Keeps a file's stat only when the stat cache may trust it (see
// CodeFile::stat). Returns io_error naming an unreadable file, or
// invalid_argument for a file above max_blob_bytes.
Status hash_code_files(const CodeTreeLimits& limits, const CodeCache* cache, CodeScan* scan);

// Checks a finished scan against limits (the chain's, which may differ from
// the limits the scan ran with): the file count, each path's length and
// each file's size. invalid_argument naming the file, the value and the
// bound, or ok.
Status check_scan_limits(const std::string& dir, const CodeScan& scan, const CodeTreeLimits& limits);

// Reads the coarse realtime clock, from which Linux takes file timestamps,
// in nanoseconds since the epoch. A file written after this call gets an
// mtime and a ctime not older than the value returned.
int64_t coarse_clock_ns();

// Reads a whole file. Returns io_error naming the path on failure.
Status read_file_bytes(const std::filesystem::path& path, std::string* out);

// Serialized automata.v1.TreeEntry {path, blob_hash, mode}.
std::string serialize_tree_entry(const CodeFile& file);

// The tree hash of a version: the RFC 6962 Merkle root over the serialized
// TreeEntry list sorted by path. Sorts a copy, so files may come in any order.
Hash32 code_tree_hash(const std::vector<CodeFile>& files);

}  // namespace automata::cli
