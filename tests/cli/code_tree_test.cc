// Directory scans for publish and commit, path rules and the tree hash,
// on real files in a temp directory.
#include "automata/cli/code_tree.h"

#include "automata/crypto/sha256.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace automata::cli {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

void write_file(const fs::path& path, const std::string& contents) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

TEST(CodeTree, PathRules) {
  EXPECT_EQ(check_code_path("src/main.cc"), "");
  EXPECT_EQ(check_code_path("a"), "");
  EXPECT_EQ(check_code_path(".hidden/x"), "");
  for (const char* bad : {"", "/abs", "a//b", "a/", "./a", "a/../b", "..", "a\\b"}) {
    EXPECT_NE(check_code_path(bad), "") << "'" << bad << "'";
  }
  EXPECT_NE(check_code_path(std::string("a\0b", 3)), "");
  EXPECT_EQ(check_code_path(std::string(512, 'p')), "");
  EXPECT_NE(check_code_path(std::string(513, 'p')).find("512"), std::string::npos);
}

TEST(CodeTree, PathsMustBeUtf8) {
  EXPECT_EQ(check_code_path("caf\xc3\xa9.txt"), "") << "U+00E9 in two bytes";
  EXPECT_EQ(check_code_path("\xf0\x9f\x93\x81/x"), "") << "a four-byte character";
  for (const char* bad : {"caf\xe9.txt", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\xc3"}) {
    std::string rule = check_code_path(bad);
    EXPECT_NE(rule.find("UTF-8"), std::string::npos) << "'" << bad << "': " << rule;
  }
}

TEST(CodeTree, ReadErrorNamesTheReason) {
  std::string data;
  Status s = read_file_bytes("/tmp/automata_code_tree_no_such_file", &data);
  ASSERT_EQ(s.kind(), Status::Kind::kIoError);
  EXPECT_NE(s.message().find("automata_code_tree_no_such_file"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No such file"), std::string::npos) << s.message();
}

TEST(CodeTree, ScanSkipsGitBuildAndSymlinks) {
  TempDir dir;
  fs::path root = dir.path();
  write_file(root / "README.md", "hello\n");
  write_file(root / "src/a.cc", "int a;\n");
  write_file(root / "src/b/c.h", "#pragma once\n");
  write_file(root / "run.sh", "#!/bin/sh\n");
  ASSERT_EQ(::chmod((root / "run.sh").c_str(), 0755), 0);
  write_file(root / ".git/HEAD", "ref: refs/heads/main\n");
  write_file(root / "build/out.o", "object");
  write_file(root / "cmake-build-debug/x", "object");
  fs::create_symlink(root / "README.md", root / "link.md");

  CodeScan scan;
  Status s = scan_code_dir(root, CodeTreeLimits{}, &scan);
  ASSERT_TRUE(s.is_ok()) << s.to_string();

  std::vector<std::string> paths;
  for (const auto& file : scan.files) paths.push_back(file.path);
  std::vector<std::string> expected = {"README.md", "run.sh", "src/a.cc", "src/b/c.h"};
  EXPECT_EQ(paths, expected);

  ASSERT_EQ(scan.files.size(), 4u);
  EXPECT_EQ(scan.files[0].blob_hash, crypto::sha256(as_view("hello\n")));
  EXPECT_EQ(scan.files[0].size, 6u);
  EXPECT_EQ(scan.files[0].mode, kModeRegular);
  EXPECT_EQ(scan.files[1].mode, kModeExecutable);
  EXPECT_EQ(scan.total_bytes, 6u + 10u + 7u + 13u);

  // .git is skipped silently, build directories and the symlink with a
  // warning each.
  std::vector<std::string> warnings = scan.warnings;
  std::sort(warnings.begin(), warnings.end());
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0], "skipped directory build: build output");
  EXPECT_EQ(warnings[1], "skipped directory cmake-build-debug: build output");
  EXPECT_EQ(warnings[2], "skipped symlink link.md");
}

TEST(CodeTree, ScanPathsIgnoreHowDirIsSpelled) {
  TempDir dir;
  fs::path root = fs::path(dir.path()) / "tree";
  write_file(root / "a.txt", "a\n");
  write_file(root / "sub/b.txt", "b\n");
  const std::vector<std::string> expected = {"a.txt", "sub/b.txt"};

  // Absolute spellings, then relative ones from inside the parent directory.
  const std::vector<fs::path> spellings = {root,         root.string() + "/", root / "sub" / "..", root.string() + "//",
                                           "tree",       "./tree",            "tree/."};
  const fs::path previous = fs::current_path();
  fs::current_path(fs::path(dir.path()));
  std::vector<std::vector<std::string>> scanned;
  std::vector<std::string> errors;
  for (const fs::path& spelling : spellings) {
    CodeScan scan;
    Status s = scan_code_dir(spelling, CodeTreeLimits{}, &scan);
    errors.push_back(s.is_ok() ? "" : s.to_string());
    std::vector<std::string> paths;
    for (const auto& file : scan.files) paths.push_back(file.path);
    scanned.push_back(std::move(paths));
  }
  fs::current_path(previous);

  for (size_t i = 0; i < spellings.size(); ++i) {
    EXPECT_EQ(errors[i], "") << "scanned as " << spellings[i];
    EXPECT_EQ(scanned[i], expected) << "scanned as " << spellings[i];
  }
}

TEST(CodeTree, ScanRejectsOversizedFile) {
  TempDir dir;
  write_file(fs::path(dir.path()) / "big.bin", std::string(2049, 'x'));
  CodeTreeLimits limits;
  limits.max_blob_bytes = 2048;
  CodeScan scan;
  Status s = scan_code_dir(dir.path(), limits, &scan);
  ASSERT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("big.bin"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("2048"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("move it out"), std::string::npos) << s.message();
}

TEST(CodeTree, ScanRejectsTooManyFiles) {
  TempDir dir;
  for (int i = 0; i < 4; ++i) write_file(fs::path(dir.path()) / ("f" + std::to_string(i)), "x");
  CodeTreeLimits limits;
  limits.max_files = 3;
  CodeScan scan;
  Status s = scan_code_dir(dir.path(), limits, &scan);
  ASSERT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("3 files"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("several assets"), std::string::npos) << s.message();
}

TEST(CodeTree, ScanRejectsBackslashInName) {
  TempDir dir;
  write_file(fs::path(dir.path()) / "a\\b.txt", "x");
  CodeScan scan;
  Status s = scan_code_dir(dir.path(), CodeTreeLimits{}, &scan);
  ASSERT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("backslash"), std::string::npos) << s.message();
}

TEST(CodeTree, ScanSkipsFifoKeepsHiddenFiles) {
  TempDir dir;
  fs::path root = dir.path();
  write_file(root / ".env.example", "KEY=value\n");
  write_file(root / "deep/er/still/file.txt", "deep\n");
  ASSERT_EQ(::mkfifo((root / "pipe").c_str(), 0600), 0);
  CodeScan scan;
  Status s = scan_code_dir(root, CodeTreeLimits{}, &scan);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  std::vector<std::string> paths;
  for (const auto& file : scan.files) paths.push_back(file.path);
  EXPECT_EQ(paths, (std::vector<std::string>{".env.example", "deep/er/still/file.txt"}));
  EXPECT_EQ(scan.files[1].source, (root / "deep/er/still/file.txt").string());
  ASSERT_EQ(scan.warnings.size(), 1u);
  EXPECT_EQ(scan.warnings[0], "skipped pipe: not a regular file");
}

TEST(CodeTree, ScanNamesAnUnreadableDirectory) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads directories regardless of their mode";
  TempDir dir;
  fs::path root = dir.path();
  write_file(root / "open/a.txt", "a\n");
  write_file(root / "closed/b.txt", "b\n");
  ASSERT_EQ(::chmod((root / "closed").c_str(), 0), 0);
  CodeScan scan;
  Status s = scan_code_dir(root, CodeTreeLimits{}, &scan);
  ::chmod((root / "closed").c_str(), 0755);
  ASSERT_EQ(s.kind(), Status::Kind::kIoError);
  EXPECT_NE(s.message().find("closed"), std::string::npos) << s.message();
}

TEST(CodeTree, ListThenHashReadsOnce) {
  TempDir dir;
  fs::path root = dir.path();
  write_file(root / "b.txt", "bee\n");
  write_file(root / "a.txt", "a\n");
  CodeScan scan;
  ASSERT_TRUE(list_code_dir(root, CodeTreeLimits{}, &scan).is_ok());
  ASSERT_EQ(scan.files.size(), 2u);
  EXPECT_EQ(scan.files[0].path, "a.txt");
  ASSERT_TRUE(scan.files[0].stat.has_value());
  EXPECT_EQ(scan.files[1].stat->size, 4u);
  EXPECT_EQ(scan.files_read, 0u) << "listing reads no file";

  ASSERT_TRUE(hash_code_files(CodeTreeLimits{}, nullptr, &scan).is_ok());
  EXPECT_EQ(scan.files_read, 2u);
  EXPECT_EQ(scan.files[1].blob_hash, crypto::sha256(as_view("bee\n")));
  EXPECT_EQ(scan.total_bytes, 6u);

  // A file that vanished between the list and the hash is an error naming it.
  CodeScan again;
  ASSERT_TRUE(list_code_dir(root, CodeTreeLimits{}, &again).is_ok());
  fs::remove(root / "b.txt");
  Status s = hash_code_files(CodeTreeLimits{}, nullptr, &again);
  ASSERT_EQ(s.kind(), Status::Kind::kIoError);
  EXPECT_NE(s.message().find("b.txt"), std::string::npos) << s.message();
}

TEST(CodeTree, ScanOfAFileIsNotADirectory) {
  TempDir dir;
  write_file(fs::path(dir.path()) / "plain.txt", "x");
  CodeScan scan;
  Status s = scan_code_dir(fs::path(dir.path()) / "plain.txt", CodeTreeLimits{}, &scan);
  ASSERT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("not a directory"), std::string::npos) << s.message();
}

TEST(CodeTree, ScanOfMissingDirIsNotFound) {
  CodeScan scan;
  EXPECT_TRUE(scan_code_dir("/tmp/automata_code_tree_does_not_exist", CodeTreeLimits{}, &scan).is_not_found());
}

TEST(CodeTree, TreeHashIsRfc6962RootOfSortedEntries) {
  CodeFile a{"a.txt", crypto::sha256(as_view("A")), kModeRegular, 1, {}, {}};
  CodeFile b{"b/x.sh", crypto::sha256(as_view("B")), kModeExecutable, 1, {}, {}};

  // leaf = SHA-256(0x00 || entry), root = SHA-256(0x01 || leaf_a || leaf_b).
  auto leaf = [](const std::string& entry) {
    std::string data = std::string(1, '\0') + entry;
    return crypto::sha256(as_view(data));
  };
  Hash32 leaf_a = leaf(serialize_tree_entry(a));
  Hash32 leaf_b = leaf(serialize_tree_entry(b));
  std::string node = std::string(1, '\x01') + to_string(leaf_a) + to_string(leaf_b);
  Hash32 expected = crypto::sha256(as_view(node));

  EXPECT_EQ(code_tree_hash({a, b}), expected);
  EXPECT_EQ(code_tree_hash({b, a}), expected) << "input order must not matter";
  CodeFile b_regular = b;
  b_regular.mode = kModeRegular;
  EXPECT_NE(code_tree_hash({a, b_regular}), expected) << "the mode is part of the entry";
}

TEST(CodeTree, TreeEntryEncodesPathHashAndMode) {
  CodeFile file{"p", crypto::sha256(as_view("x")), kModeExecutable, 1, {}, {}};
  std::string bytes = serialize_tree_entry(file);
  // Field 1 (path) "p", field 2 (blob_hash) 32 bytes, field 3 (mode) varint 0755.
  std::string expected = std::string("\x0a\x01p", 3) + std::string("\x12\x20", 2) + to_string(file.blob_hash) +
                         std::string("\x18\xed\x03", 3);
  EXPECT_EQ(bytes, expected);
}

}  // namespace
}  // namespace automata::cli
