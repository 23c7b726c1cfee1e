// A stat cache for `automata code` commands, like git's index: per asset and
// directory it stores each file's size, mtime, ctime, inode, device and blob
// hash, so that a later scan hashes only the files whose stat changed. It
// also stores the id of the committed version whose tree the entries form,
// whose blobs the chain therefore stores.
#pragma once

#include "automata/cli/code_tree.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace automata::cli {

// Environment variable that sets the cache directory.
inline constexpr const char* kCodeCacheDirEnv = "AUTOMATA_CODE_CACHE_DIR";

struct CodeCacheEntry {
  Hash32 blob_hash{};
  // False for a file modified too close to the scan to trust its stat (the
  // racy-git case). Its hash still belongs to the version's tree.
  bool stat_valid = false;
  FileStat stat;
};

// One cache file: the entries by tree path.
struct CodeCache {
  std::string asset_hex;
  std::string dir;  // absolute, normalized
  // The committed version whose tree the entries are, or empty when unknown
  // (a tx submitted without --wait).
  std::string version_hex;
  // coarse_clock_ns() when the scan behind the entries started.
  int64_t scanned_ns = 0;
  std::map<std::string, CodeCacheEntry> entries;
};

// The cache directory: $AUTOMATA_CODE_CACHE_DIR, else $XDG_CACHE_HOME/automata/code,
// else $HOME/.cache/automata/code. Empty when none of them is set.
std::filesystem::path code_cache_dir();

// The cache file of asset_hex and dir inside cache_dir.
std::filesystem::path code_cache_path(const std::filesystem::path& cache_dir, const std::string& asset_hex,
                                      const std::filesystem::path& dir);

// Loads the cache of asset_hex and dir. A missing file leaves *cache
// empty and returns ok. A file that fails its checksum, does not parse or
// belongs to another asset or directory also leaves *cache empty, and
// stores a warning in *warning. Entries whose mtime or ctime is not older
// than the start of the scan that wrote the cache lose stat_valid.
Status load_code_cache(const std::filesystem::path& cache_dir, const std::string& asset_hex,
                       const std::filesystem::path& dir, CodeCache* cache, std::string* warning);

// Days after its last save that another cache file is deleted.
inline constexpr int kCodeCacheMaxAgeDays = 30;

// Writes the cache atomically (a temporary file, then rename). Entries with
// a path containing a newline are left out. Then deletes the other cache
// files in cache_dir not saved for kCodeCacheMaxAgeDays, such as those of
// deleted directories. A file that cannot be deleted is left in place.
Status save_code_cache(const std::filesystem::path& cache_dir, const CodeCache& cache);

// A cache with its entry lines encoded but no version yet. Encoding the
// entries takes most of a save, and a commit does it while its tx waits
// for a block, before the version id is known.
struct PreparedCodeCache {
  std::string asset_hex;
  std::string dir;  // absolute, normalized
  int64_t scanned_ns = 0;
  size_t entry_count = 0;
  std::string entry_lines;
};

// Builds and encodes the cache of a scan of dir for asset_hex, without the
// version. Safe to run on another thread while scan is not modified.
PreparedCodeCache prepare_code_cache(const std::string& asset_hex, const std::filesystem::path& dir,
                                     const CodeScan& scan);

// Writes a prepared cache as the cache of version_hex (empty when
// unknown), as save_code_cache(cache_dir, cache) does.
Status save_code_cache(const std::filesystem::path& cache_dir, const PreparedCodeCache& prepared,
                       const std::string& version_hex);

// Serializes the cache, with a SHA-256 checksum line at the end.
std::string encode_code_cache(const CodeCache& cache);
// Parses encode_code_cache() output. Returns invalid_argument naming the
// first problem.
Status decode_code_cache(const std::string& text, CodeCache* cache);

// Builds a cache from a scan. Files without a stat (see CodeFile::stat)
// keep their hash with stat_valid false.
CodeCache make_code_cache(const std::string& asset_hex, const std::filesystem::path& dir, const CodeScan& scan,
                          const std::string& version_hex);

}  // namespace automata::cli
