// Random-access byte sources that the model header parsers read from: a
// memory buffer (tests) or a file read in bounded pieces, so a parser never
// needs the whole file in memory.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace automata::modelfmt {

// Bytes addressed by offset. Not thread-safe.
class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Total size in bytes.
  virtual uint64_t size() const = 0;

  // Copies length bytes starting at offset into out. Returns
  // invalid_argument when the range runs past size(), io_error when the
  // underlying read fails.
  virtual Status read(uint64_t offset, size_t length, uint8_t* out) = 0;
};

// A source over a caller-owned buffer, which must outlive the source.
class MemorySource : public ByteSource {
 public:
  explicit MemorySource(ByteView data) : data_(data) {}

  uint64_t size() const override { return data_.size(); }
  Status read(uint64_t offset, size_t length, uint8_t* out) override;

 private:
  ByteView data_;
};

// A source over a file, read through one 64 KiB cache block, so memory use
// stays bounded whatever the file size.
class FileSource : public ByteSource {
 public:
  // Opens path for reading. Returns not_found when it does not exist and
  // io_error when it cannot be opened or is not a regular file.
  static Status open(const std::string& path, std::unique_ptr<FileSource>* out);

  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, size_t length, uint8_t* out) override;

 private:
  FileSource(int fd, std::string path, uint64_t size);
  Status fill_block(uint64_t offset);

  int fd_;
  std::string path_;
  uint64_t size_;
  // The cached block: bytes [block_offset_, block_offset_ + block_.size()).
  uint64_t block_offset_ = 0;
  Bytes block_;
};

}  // namespace automata::modelfmt
