#include "state/checksum.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/file_checksum.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace kappa::state_internal {
namespace {

// RocksDB's generator returns the CRC as 4 big-endian bytes.
class Crc32c {
 public:
  Crc32c() {
    static const std::shared_ptr<rocksdb::FileChecksumGenFactory> factory = rocksdb::GetFileChecksumGenCrc32cFactory();
    generator_ = factory->CreateFileChecksumGenerator(rocksdb::FileChecksumGenContext{});
  }
  void update(const char* data, std::size_t n) { generator_->Update(data, n); }
  uint32_t finish() {
    generator_->Finalize();
    const std::string bytes = generator_->GetChecksum();
    uint32_t crc = 0;
    for (const char b : bytes) crc = (crc << 8) | static_cast<unsigned char>(b);
    return crc;
  }

 private:
  std::unique_ptr<rocksdb::FileChecksumGenerator> generator_;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status read_error(const std::string& path, int error) {
  if (error == ENOENT) return Status::not_found(path + " does not exist");
  return Status::unavailable("cannot read " + path + ": " + std::strerror(error));
}

}  // namespace

uint32_t crc32c(std::string_view data) {
  Crc32c crc;
  crc.update(data.data(), data.size());
  return crc.finish();
}

Result<FileDigest> digest_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return read_error(path, errno);
  Crc32c crc;
  FileDigest digest;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return read_error(path, errno);
    if (n == 0) break;
    crc.update(buffer.data(), static_cast<std::size_t>(n));
    digest.size += static_cast<uint64_t>(n);
  }
  digest.crc32c = crc.finish();
  return digest;
}

Result<FileDigest> FileDigestCache::digest(const std::string& path, bool immutable) {
  if (!immutable) return digest_file(path);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return read_error(path, errno);
  const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  const auto key = std::make_tuple(st.st_dev, st.st_ino, static_cast<uint64_t>(st.st_size), mtime_ns);
  if (auto it = entries_.find(key); it != entries_.end()) {
    it->second.used = true;
    return it->second.digest;
  }
  KAPPA_ASSIGN_OR_RETURN(const FileDigest digest, digest_file(path));
  // A file that changed while it was read is not cached: the next checkpoint reads it again.
  if (digest.size == static_cast<uint64_t>(st.st_size)) entries_[key] = Entry{digest, true};
  return digest;
}

void FileDigestCache::drop_unused() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.used) {
      it = entries_.erase(it);
    } else {
      it->second.used = false;
      ++it;
    }
  }
}

std::string crc_to_hex(uint32_t crc) {
  char out[9];
  std::snprintf(out, sizeof out, "%08x", crc);
  return out;
}

bool crc_from_hex(std::string_view hex, uint32_t& crc) {
  if (hex.size() != 8) return false;
  const auto [end, error] = std::from_chars(hex.data(), hex.data() + hex.size(), crc, 16);
  return error == std::errc() && end == hex.data() + hex.size();
}

}  // namespace kappa::state_internal
