#include "automata/cli/code_cache.h"

#include "automata/crypto/sha256.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace automata::cli {

namespace fs = std::filesystem;

namespace {

// First line of a cache file. A new format gets a new number, and a file
// with another one is ignored.
constexpr std::string_view kMagic = "automata-code-cache 1";
constexpr std::string_view kChecksumPrefix = "sha256 ";

std::string normalized_dir(const fs::path& dir) {
  std::error_code ec;
  fs::path absolute = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  if (ec) absolute = fs::absolute(dir, ec).lexically_normal();
  return absolute.generic_string();
}

template <typename Int>
bool parse_int(std::string_view text, Int* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Decodes 64 hex digits into out; false for any other text.
bool parse_hash(std::string_view text, Hash32* out) {
  if (text.size() != 2 * out->size()) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < out->size(); ++i) {
    int high = digit(text[2 * i]);
    int low = digit(text[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    (*out)[i] = static_cast<uint8_t>(high * 16 + low);
  }
  return true;
}

// Splits line at the first `count` spaces into count + 1 fields; the last
// field keeps any further spaces (a path may contain them).
bool split_fields(std::string_view line, size_t count, std::vector<std::string_view>* fields) {
  fields->clear();
  for (size_t i = 0; i < count; ++i) {
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return false;
    fields->push_back(line.substr(0, space));
    line.remove_prefix(space + 1);
  }
  fields->push_back(line);
  return true;
}

// Deletes the cache files (and temporary files of interrupted saves) in
// cache_dir, other than keep, whose last save is older than
// kCodeCacheMaxAgeDays. A save renames over its file, so a directory that
// is still committed from keeps its cache.
void remove_stale_cache_files(const fs::path& cache_dir, const fs::path& keep) {
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24 * kCodeCacheMaxAgeDays);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(cache_dir, ec)) {
    const std::string name = entry.path().filename().string();
    bool ours = name.ends_with(".cache") || name.find(".cache.tmp.") != std::string::npos;
    if (!ours || entry.path() == keep || !entry.is_regular_file(ec)) continue;
    auto written = entry.last_write_time(ec);
    if (ec || written >= cutoff) continue;
    fs::remove(entry.path(), ec);
  }
}

}  // namespace

fs::path code_cache_dir() {
  if (const char* dir = std::getenv(kCodeCacheDirEnv); dir != nullptr && *dir != '\0') return fs::path(dir);
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return fs::path(xdg) / "automata" / "code";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / ".cache" / "automata" / "code";
  }
  return {};
}

fs::path code_cache_path(const fs::path& cache_dir, const std::string& asset_hex, const fs::path& dir) {
  std::string key = asset_hex + '\n' + normalized_dir(dir);
  return cache_dir / (to_hex(crypto::sha256(as_view(key))) + ".cache");
}

namespace {

template <typename Integer>
void append_number(std::string* out, Integer value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  out->append(digits, end);
}

// Appends one entry line per entry, leaving out paths with a newline,
// which would break the line format. Appends to one string instead of an
// ostringstream: a commit writes the cache of thousands of files.
size_t append_entry_lines(const std::map<std::string, CodeCacheEntry>& entries, std::string* out) {
  out->reserve(out->size() + entries.size() * 160);
  size_t count = 0;
  for (const auto& [path, entry] : entries) {
    if (path.find('\n') != std::string::npos) continue;
    const FileStat& st = entry.stat;
    out->append(to_hex(entry.blob_hash)).append(entry.stat_valid ? " 1 " : " 0 ");
    append_number(out, st.mode);
    out->push_back(' ');
    append_number(out, st.size);
    out->push_back(' ');
    append_number(out, st.mtime_ns);
    out->push_back(' ');
    append_number(out, st.ctime_ns);
    out->push_back(' ');
    append_number(out, st.inode);
    out->push_back(' ');
    append_number(out, st.device);
    out->push_back(' ');
    out->append(path).append("\n");
    ++count;
  }
  return count;
}

// Returns the cache file's text: the header, the entry lines, and a
// checksum line over everything before it.
std::string assemble_code_cache(const PreparedCodeCache& prepared, const std::string& version_hex) {
  std::string body;
  body.reserve(256 + prepared.asset_hex.size() + prepared.dir.size() + prepared.entry_lines.size());
  body.append(kMagic).append("\n");
  body.append("asset ").append(prepared.asset_hex).append("\n");
  body.append("dir ").append(prepared.dir).append("\n");
  body.append("version ").append(version_hex.empty() ? "-" : version_hex).append("\n");
  body.append("scanned ");
  append_number(&body, prepared.scanned_ns);
  body.append("\nentries ");
  append_number(&body, prepared.entry_count);
  body.append("\n");
  body.append(prepared.entry_lines);
  body += std::string(kChecksumPrefix) + to_hex(crypto::sha256(as_view(body))) + '\n';
  return body;
}

PreparedCodeCache prepare_entries(const CodeCache& cache) {
  PreparedCodeCache prepared;
  prepared.asset_hex = cache.asset_hex;
  prepared.dir = cache.dir;
  prepared.scanned_ns = cache.scanned_ns;
  prepared.entry_count = append_entry_lines(cache.entries, &prepared.entry_lines);
  return prepared;
}

}  // namespace

std::string encode_code_cache(const CodeCache& cache) {
  return assemble_code_cache(prepare_entries(cache), cache.version_hex);
}

Status decode_code_cache(const std::string& text, CodeCache* cache) {
  *cache = CodeCache{};
  // The last line is the checksum of everything before it.
  if (text.empty() || text.back() != '\n') return Status::invalid_argument("the file does not end with a newline");
  size_t last_start = text.rfind('\n', text.size() - 2);
  last_start = last_start == std::string::npos ? 0 : last_start + 1;
  std::string_view last(text.data() + last_start, text.size() - 1 - last_start);
  if (last.substr(0, kChecksumPrefix.size()) != kChecksumPrefix) {
    return Status::invalid_argument("the checksum line is missing");
  }
  std::string_view body(text.data(), last_start);
  if (last.substr(kChecksumPrefix.size()) != to_hex(crypto::sha256(as_view(body)))) {
    return Status::invalid_argument("the checksum does not match the contents");
  }

  std::vector<std::string_view> lines;
  while (!body.empty()) {
    size_t end = body.find('\n');
    lines.push_back(body.substr(0, end));
    body.remove_prefix(end + 1);
  }
  constexpr size_t kHeaderLines = 6;
  if (lines.size() < kHeaderLines || lines[0] != kMagic) return Status::invalid_argument("unknown format (expected " +
                                                                               std::string(kMagic) + ")");
  auto field = [&](size_t index, std::string_view name, std::string_view* value) {
    std::string prefix = std::string(name) + " ";
    if (lines[index].substr(0, prefix.size()) != prefix) return false;
    *value = lines[index].substr(prefix.size());
    return true;
  };
  std::string_view asset, dir, version, scanned_text, count_text;
  uint64_t count = 0;
  if (!field(1, "asset", &asset) || !field(2, "dir", &dir) || !field(3, "version", &version) ||
      !field(4, "scanned", &scanned_text) || !parse_int(scanned_text, &cache->scanned_ns) ||
      !field(5, "entries", &count_text) || !parse_int(count_text, &count) || count != lines.size() - kHeaderLines) {
    return Status::invalid_argument("the header is malformed");
  }
  cache->asset_hex = std::string(asset);
  cache->dir = std::string(dir);
  cache->version_hex = version == "-" ? "" : std::string(version);

  std::vector<std::string_view> fields;
  for (size_t i = kHeaderLines; i < lines.size(); ++i) {
    CodeCacheEntry entry;
    FileStat& st = entry.stat;
    int valid = 0;
    bool ok = split_fields(lines[i], 8, &fields) && parse_hash(fields[0], &entry.blob_hash) &&
              parse_int(fields[1], &valid) && (valid == 0 || valid == 1) && parse_int(fields[2], &st.mode) &&
              (st.mode == kModeRegular || st.mode == kModeExecutable) && parse_int(fields[3], &st.size) &&
              parse_int(fields[4], &st.mtime_ns) && parse_int(fields[5], &st.ctime_ns) &&
              parse_int(fields[6], &st.inode) && parse_int(fields[7], &st.device) && !fields[8].empty();
    if (!ok) return Status::invalid_argument("entry line " + std::to_string(i + 1) + " is malformed");
    entry.stat_valid = valid == 1;
    // encode_code_cache writes paths in map order, so each insert lands at
    // the end and the hint makes it constant time. A hint that misses (a
    // file edited by hand) still inserts correctly.
    cache->entries.insert_or_assign(cache->entries.end(), std::string(fields[8]), entry);
  }
  return Status::ok();
}

Status load_code_cache(const fs::path& cache_dir, const std::string& asset_hex, const fs::path& dir,
                       CodeCache* cache, std::string* warning) {
  *cache = CodeCache{};
  warning->clear();
  if (cache_dir.empty()) return Status::ok();
  fs::path path = code_cache_path(cache_dir, asset_hex, dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::ok();

  std::string text;
  Status s = read_file_bytes(path, &text);
  if (s.is_ok()) s = decode_code_cache(text, cache);
  if (s.is_ok() && (cache->asset_hex != asset_hex || cache->dir != normalized_dir(dir))) {
    s = Status::invalid_argument("it belongs to another asset or directory");
  }
  if (!s.is_ok()) {
    *cache = CodeCache{};
    *warning = "ignored the stat cache " + path.string() + ": " + s.message() + "; every file is hashed again";
    return Status::ok();
  }
  // A file written in the tick in which the scan started may have changed
  // later without changing its stat, so its entry is trusted for its hash
  // only. scan_code_dir() already leaves such stats out, and this check
  // repeats the rule for a cache file edited by hand. The cache file's own
  // mtime is not the bound: with fine-grained file timestamps (Linux 6.18
  // here) a file written before the cache file was seen with a later mtime.
  for (auto& [entry_path, entry] : cache->entries) {
    if (entry.stat.mtime_ns >= cache->scanned_ns || entry.stat.ctime_ns >= cache->scanned_ns) {
      entry.stat_valid = false;
    }
  }
  return Status::ok();
}

Status save_code_cache(const fs::path& cache_dir, const PreparedCodeCache& prepared, const std::string& version_hex) {
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) return Status::io_error("cannot create the cache directory " + cache_dir.string() + ": " + ec.message());
  fs::path path = code_cache_path(cache_dir, prepared.asset_hex, prepared.dir);
  fs::path temporary = path;
  temporary += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return Status::io_error("cannot open " + temporary.string() + " for writing");
    std::string text = assemble_code_cache(prepared, version_hex);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      fs::remove(temporary, ec);
      return Status::io_error("cannot write " + temporary.string());
    }
  }
  fs::rename(temporary, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    return Status::io_error("cannot rename " + temporary.string() + " to " + path.string() + ": " + ec.message());
  }
  remove_stale_cache_files(cache_dir, path);
  return Status::ok();
}

Status save_code_cache(const fs::path& cache_dir, const CodeCache& cache) {
  return save_code_cache(cache_dir, prepare_entries(cache), cache.version_hex);
}

PreparedCodeCache prepare_code_cache(const std::string& asset_hex, const fs::path& dir, const CodeScan& scan) {
  return prepare_entries(make_code_cache(asset_hex, dir, scan, ""));
}

CodeCache make_code_cache(const std::string& asset_hex, const fs::path& dir, const CodeScan& scan,
                          const std::string& version_hex) {
  CodeCache cache;
  cache.asset_hex = asset_hex;
  cache.dir = normalized_dir(dir);
  cache.version_hex = version_hex;
  cache.scanned_ns = scan.started_ns;
  for (const CodeFile& file : scan.files) {
    CodeCacheEntry entry;
    entry.blob_hash = file.blob_hash;
    if (file.stat) {
      entry.stat = *file.stat;
      entry.stat_valid = true;
    } else {
      entry.stat.mode = file.mode;
      entry.stat.size = file.size;
    }
    cache.entries[file.path] = entry;
  }
  return cache;
}

}  // namespace automata::cli
