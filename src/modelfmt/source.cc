#include "automata/modelfmt/source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace automata::modelfmt {
namespace {

constexpr size_t kBlockBytes = size_t{64} << 10;

Status range_error(uint64_t offset, size_t length, uint64_t size) {
  return Status::invalid_argument("read of " + std::to_string(length) + " bytes at offset " +
                                  std::to_string(offset) + " runs past the end (" +
                                  std::to_string(size) + " bytes)");
}

bool range_fits(uint64_t offset, size_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

}  // namespace

Status MemorySource::read(uint64_t offset, size_t length, uint8_t* out) {
  if (!range_fits(offset, length, data_.size())) return range_error(offset, length, data_.size());
  if (length > 0) std::memcpy(out, data_.data() + offset, length);
  return Status::ok();
}

Status FileSource::open(const std::string& path, std::unique_ptr<FileSource>* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::not_found("model file " + path + " not found");
    return Status::io_error("cannot open model file " + path + ": " + std::strerror(err));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    int err = errno;
    ::close(fd);
    return Status::io_error("cannot stat model file " + path + ": " + std::strerror(err));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return Status::io_error("model file " + path + " is not a regular file");
  }
  out->reset(new FileSource(fd, path, static_cast<uint64_t>(info.st_size)));
  return Status::ok();
}

FileSource::FileSource(int fd, std::string path, uint64_t size)
    : fd_(fd), path_(std::move(path)), size_(size) {}

FileSource::~FileSource() { ::close(fd_); }

Status FileSource::fill_block(uint64_t offset) {
  size_t length = static_cast<size_t>(std::min<uint64_t>(kBlockBytes, size_ - offset));
  block_.resize(length);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_, block_.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string reason = n < 0 ? std::strerror(errno) : "unexpected end of file";
      block_.clear();
      return Status::io_error("read of " + path_ + " at offset " + std::to_string(offset + done) +
                              " failed: " + reason);
    }
    done += static_cast<size_t>(n);
  }
  block_offset_ = offset;
  return Status::ok();
}

Status FileSource::read(uint64_t offset, size_t length, uint8_t* out) {
  if (!range_fits(offset, length, size_)) return range_error(offset, length, size_);

  // Copies from the cached block, refilling it at the first missing byte, so
  // sequential small reads cost one pread per 64 KiB.
  while (length > 0) {
    bool cached = offset >= block_offset_ && offset < block_offset_ + block_.size();
    if (!cached) {
      Status status = fill_block(offset);
      if (!status.is_ok()) return status;
    }
    size_t within = static_cast<size_t>(offset - block_offset_);
    size_t count = std::min(length, block_.size() - within);
    std::memcpy(out, block_.data() + within, count);
    out += count;
    offset += count;
    length -= count;
  }
  return Status::ok();
}

}  // namespace automata::modelfmt
