// The stat cache of `automata code`: scans that skip unchanged files, the
// racy-git rule, and corrupt cache files, on real files in a temp directory.
#include "automata/cli/code_cache.h"

#include "automata/crypto/sha256.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <thread>
#include <vector>

namespace automata::cli {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

void write_file(const fs::path& path, const std::string& contents) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

int64_t ctime_ns(const fs::path& path) {
  struct stat st{};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
}

// Waits until the coarse clock that stamps files has passed the ctime of
// every file under root, so that a scan may trust their stat.
void wait_past_ctimes(const fs::path& root) {
  int64_t newest_ctime = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) newest_ctime = std::max(newest_ctime, ctime_ns(entry.path()));
  }
  for (int i = 0; i < 1000; ++i) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
    if (static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec > newest_ctime) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  FAIL() << "the coarse clock did not pass the files' ctime within a second";
}

// Sets the mtime of the given files an hour back, then waits as
// wait_past_ctimes() does. Changing the mtime also changes the ctime, so
// only files meant as changed may be passed.
void age_files(const fs::path& root, const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    fs::last_write_time(root / path, fs::file_time_type::clock::now() - std::chrono::hours(1));
  }
  wait_past_ctimes(root);
}

class CodeCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(temp_.path()) / "tree";
    cache_dir_ = fs::path(temp_.path()) / "cache";
    write_file(root_ / "a.txt", "alpha\n");
    write_file(root_ / "src/b.cc", "int b;\n");
    write_file(root_ / "src/c.cc", "int c;\n");
    age_files(root_, {"a.txt", "src/b.cc", "src/c.cc"});
  }

  // Scans root_ with the cache stored for asset_, then stores a new one.
  CodeScan scan_and_save(const std::string& version = "") {
    CodeCache cache;
    std::string warning;
    EXPECT_TRUE(load_code_cache(cache_dir_, asset_, root_, &cache, &warning).is_ok());
    EXPECT_EQ(warning, "");
    CodeScan scan;
    EXPECT_TRUE(scan_code_dir(root_, CodeTreeLimits{}, &scan, &cache).is_ok());
    EXPECT_TRUE(save_code_cache(cache_dir_, make_code_cache(asset_, root_, scan, version)).is_ok());
    return scan;
  }

  TempDir temp_;
  fs::path root_;
  fs::path cache_dir_;
  std::string asset_ = std::string(64, 'a');
};

TEST_F(CodeCacheTest, UnchangedFilesAreNotRead) {
  CodeScan first = scan_and_save();
  EXPECT_EQ(first.files_read, 3u);
  EXPECT_EQ(first.files_cached, 0u);

  CodeScan second = scan_and_save();
  EXPECT_EQ(second.files_read, 0u);
  EXPECT_EQ(second.files_cached, 3u);
  EXPECT_EQ(code_tree_hash(second.files), code_tree_hash(first.files));
  EXPECT_EQ(second.total_bytes, first.total_bytes);
}

TEST_F(CodeCacheTest, ChangedFileIsReadAgain) {
  CodeScan first = scan_and_save();
  write_file(root_ / "src/b.cc", "int b = 2;\n");
  write_file(root_ / "src/d.cc", "int d;\n");
  fs::remove(root_ / "a.txt");
  age_files(root_, {"src/b.cc", "src/d.cc"});

  CodeScan second = scan_and_save();
  EXPECT_EQ(second.files_read, 2u) << "b.cc changed and d.cc is new";
  EXPECT_EQ(second.files_cached, 1u);
  CodeScan uncached;
  ASSERT_TRUE(scan_code_dir(root_, CodeTreeLimits{}, &uncached).is_ok());
  EXPECT_EQ(code_tree_hash(second.files), code_tree_hash(uncached.files));
}

TEST_F(CodeCacheTest, SameSizeAndMtimeStillDetected) {
  scan_and_save();
  fs::path file = root_ / "src/b.cc";
  auto mtime = fs::last_write_time(file);
  write_file(file, "int x;\n");  // same size as "int b;\n"
  fs::last_write_time(file, mtime);  // as `touch -d` would
  wait_past_ctimes(root_);

  CodeScan second = scan_and_save();
  EXPECT_GE(second.files_read, 1u);
  auto it = std::find_if(second.files.begin(), second.files.end(),
                         [](const CodeFile& f) { return f.path == "src/b.cc"; });
  ASSERT_NE(it, second.files.end());
  EXPECT_EQ(it->blob_hash, crypto::sha256(as_view("int x;\n")));
}

TEST_F(CodeCacheTest, StatNotOlderThanScanIsNotTrusted) {
  // An mtime after the scan's start stands for a write in the scan's own
  // timestamp tick, which a later write in that tick would not change.
  fs::path file = root_ / "a.txt";
  fs::last_write_time(file, fs::file_time_type::clock::now() + std::chrono::hours(1));
  CodeScan first = scan_and_save();
  auto it = std::find_if(first.files.begin(), first.files.end(), [](const CodeFile& f) { return f.path == "a.txt"; });
  ASSERT_NE(it, first.files.end());
  EXPECT_FALSE(it->stat.has_value());

  CodeScan second = scan_and_save();
  EXPECT_EQ(second.files_read, 1u) << "a.txt is read again";
  EXPECT_EQ(second.files_cached, 2u);
}

TEST_F(CodeCacheTest, EntryNotOlderThanScanIsDirty) {
  scan_and_save();
  // Move a.txt's stat past the start of the scan that writes the cache.
  fs::path file = root_ / "a.txt";
  fs::last_write_time(file, fs::file_time_type::clock::now() + std::chrono::hours(1));
  CodeScan scan;
  ASSERT_TRUE(scan_code_dir(root_, CodeTreeLimits{}, &scan).is_ok());
  for (CodeFile& f : scan.files) {
    if (f.path != "a.txt") continue;
    struct stat st{};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    // Record the future stat as trusted, as a hand-edited cache might.
    f.stat = FileStat{static_cast<uint64_t>(st.st_size),
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                      0,
                      static_cast<uint64_t>(st.st_ino),
                      static_cast<uint64_t>(st.st_dev),
                      kModeRegular};
  }
  ASSERT_TRUE(save_code_cache(cache_dir_, make_code_cache(asset_, root_, scan, "")).is_ok());

  CodeCache cache;
  std::string warning;
  ASSERT_TRUE(load_code_cache(cache_dir_, asset_, root_, &cache, &warning).is_ok());
  EXPECT_FALSE(cache.entries.at("a.txt").stat_valid);
  EXPECT_TRUE(cache.entries.at("src/b.cc").stat_valid);
}

TEST_F(CodeCacheTest, CorruptFileIsIgnoredWithWarning) {
  scan_and_save();
  fs::path path = code_cache_path(cache_dir_, asset_, root_);
  std::string text;
  ASSERT_TRUE(read_file_bytes(path, &text).is_ok());
  size_t at = text.find("src/b.cc");
  ASSERT_NE(at, std::string::npos);
  text[at + 4] = 'x';
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;

  CodeCache cache;
  std::string warning;
  ASSERT_TRUE(load_code_cache(cache_dir_, asset_, root_, &cache, &warning).is_ok());
  EXPECT_TRUE(cache.entries.empty());
  EXPECT_NE(warning.find("checksum"), std::string::npos) << warning;
  EXPECT_NE(warning.find(path.string()), std::string::npos) << warning;

  std::ofstream(path, std::ios::binary | std::ios::trunc) << "garbage";
  ASSERT_TRUE(load_code_cache(cache_dir_, asset_, root_, &cache, &warning).is_ok());
  EXPECT_TRUE(cache.entries.empty());
  EXPECT_NE(warning, "");
}

TEST_F(CodeCacheTest, CacheOfOtherAssetIsSeparate) {
  scan_and_save("");
  CodeCache cache;
  std::string warning;
  ASSERT_TRUE(load_code_cache(cache_dir_, std::string(64, 'b'), root_, &cache, &warning).is_ok());
  EXPECT_TRUE(cache.entries.empty());
  EXPECT_EQ(warning, "");
}

TEST_F(CodeCacheTest, SaveDeletesCacheFilesUnusedForAMonth) {
  scan_and_save("");
  const fs::path own = code_cache_path(cache_dir_, asset_, root_);
  const fs::path stale = cache_dir_ / (std::string(64, '1') + ".cache");
  const fs::path stale_temp = cache_dir_ / (std::string(64, '2') + ".cache.tmp.4242");
  const fs::path recent = cache_dir_ / (std::string(64, '3') + ".cache");
  const fs::path unrelated = cache_dir_ / "notes.txt";
  const auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(24 * (kCodeCacheMaxAgeDays + 1));
  for (const fs::path& path : {stale, stale_temp, recent, unrelated}) write_file(path, "x");
  for (const fs::path& path : {stale, stale_temp, unrelated}) fs::last_write_time(path, old_time);

  scan_and_save("");
  EXPECT_TRUE(fs::exists(own));
  EXPECT_FALSE(fs::exists(stale)) << "a cache file not saved for a month is deleted";
  EXPECT_FALSE(fs::exists(stale_temp)) << "an old temporary file of a save is deleted";
  EXPECT_TRUE(fs::exists(recent));
  EXPECT_TRUE(fs::exists(unrelated)) << "files that are not cache files stay";
}

TEST_F(CodeCacheTest, PreparedSaveMatchesPlainSave) {
  // A commit prepares the cache while its tx waits and adds the version
  // after the block. The file must be the one a plain save writes.
  CodeScan scan;
  ASSERT_TRUE(scan_code_dir(root_, CodeTreeLimits{}, &scan).is_ok());
  const std::string version(64, 'b');
  ASSERT_TRUE(save_code_cache(cache_dir_, make_code_cache(asset_, root_, scan, version)).is_ok());
  const fs::path path = code_cache_path(cache_dir_, asset_, root_);
  std::string whole;
  ASSERT_TRUE(read_file_bytes(path, &whole).is_ok());
  fs::remove(path);

  PreparedCodeCache prepared = prepare_code_cache(asset_, root_, scan);
  EXPECT_EQ(prepared.entry_count, 3u);
  ASSERT_TRUE(save_code_cache(cache_dir_, prepared, version).is_ok());
  std::string from_prepared;
  ASSERT_TRUE(read_file_bytes(path, &from_prepared).is_ok());
  EXPECT_EQ(from_prepared, whole);

  CodeCache loaded;
  std::string warning;
  ASSERT_TRUE(load_code_cache(cache_dir_, asset_, root_, &loaded, &warning).is_ok());
  EXPECT_EQ(warning, "");
  EXPECT_EQ(loaded.version_hex, version);
  EXPECT_EQ(loaded.entries.size(), 3u);
}

TEST(CodeCacheFormat, LeavesOutPathsWithANewline) {
  CodeCache cache;
  cache.asset_hex = std::string(64, 'a');
  cache.dir = "/tmp/x";
  cache.entries["ok.txt"] = CodeCacheEntry{};
  cache.entries["bad\nname"] = CodeCacheEntry{};
  CodeCache decoded;
  Status s = decode_code_cache(encode_code_cache(cache), &decoded);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_EQ(decoded.entries.size(), 1u);
  EXPECT_TRUE(decoded.entries.contains("ok.txt"));
}

TEST(CodeCacheFormat, RoundTrip) {
  CodeCache cache;
  cache.asset_hex = std::string(64, 'a');
  cache.dir = "/tmp/some dir";
  cache.version_hex = std::string(64, 'c');
  CodeCacheEntry entry;
  entry.blob_hash = crypto::sha256(as_view("x"));
  entry.stat_valid = true;
  entry.stat = FileStat{12, 1'700'000'000'123'456'789, 1'700'000'000'987'654'321, 42, 2049, kModeExecutable};
  cache.entries["path with spaces/x.sh"] = entry;
  entry.stat_valid = false;
  cache.entries["b"] = entry;

  CodeCache decoded;
  ASSERT_TRUE(decode_code_cache(encode_code_cache(cache), &decoded).is_ok());
  EXPECT_EQ(decoded.asset_hex, cache.asset_hex);
  EXPECT_EQ(decoded.dir, cache.dir);
  EXPECT_EQ(decoded.version_hex, cache.version_hex);
  ASSERT_EQ(decoded.entries.size(), 2u);
  const CodeCacheEntry& spaced = decoded.entries.at("path with spaces/x.sh");
  EXPECT_EQ(spaced.blob_hash, entry.blob_hash);
  EXPECT_TRUE(spaced.stat_valid);
  EXPECT_EQ(spaced.stat, entry.stat);
  EXPECT_FALSE(decoded.entries.at("b").stat_valid);
}

TEST(CodeCacheFormat, RejectsTruncatedFile) {
  CodeCache cache;
  cache.asset_hex = std::string(64, 'a');
  cache.dir = "/tmp/x";
  std::string text = encode_code_cache(cache);
  CodeCache decoded;
  EXPECT_FALSE(decode_code_cache(text.substr(0, text.size() - 10), &decoded).is_ok());
  EXPECT_FALSE(decode_code_cache("", &decoded).is_ok());
}

}  // namespace
}  // namespace automata::cli
