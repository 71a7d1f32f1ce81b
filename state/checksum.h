// CRC32C (Castagnoli) of strings and files, for checkpoint manifests.
// RocksDB computes it (hardware-accelerated where the CPU can).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "runtime/status.h"

namespace kappa::state_internal {

// The standard CRC32C: crc32c("123456789") == 0xe3069283.
uint32_t crc32c(std::string_view data);

struct FileDigest {
  uint64_t size = 0;
  uint32_t crc32c = 0;
};

// Reads the whole file. Fails with kNotFound if it does not exist, with
// kUnavailable if it cannot be read.
Result<FileDigest> digest_file(const std::string& path);

// Digests of the files of successive checkpoints. RocksDB never changes an
// SST or blob file once written, and checkpoints hard-link them, so a file
// whose inode, size and modification time are those of a file digested
// before is not read again: a checkpoint costs reading what is new since
// the previous one.
//
// An inode is a name the filesystem hands out again once the file's last
// link is gone, and a replay writes SST files of the sizes it wrote before:
// an entry must not outlive its file. A cache that has digested files only
// of successive checkpoints of one database meets that (drop_unused() after
// each, older checkpoints deleted after it); the modification time guards
// against the rest. Not thread-safe.
class FileDigestCache {
 public:
  // The digest of `path`; read from the file unless `immutable` and cached.
  Result<FileDigest> digest(const std::string& path, bool immutable);
  // Forgets every file not passed to digest() since the previous call.
  void drop_unused();

 private:
  struct Entry {
    FileDigest digest;
    bool used = false;
  };
  // (device, inode, size, modification time in ns)
  std::map<std::tuple<dev_t, ino_t, uint64_t, int64_t>, Entry> entries_;
};

// "0a1b2c3d"
std::string crc_to_hex(uint32_t crc);
bool crc_from_hex(std::string_view hex, uint32_t& crc);

}  // namespace kappa::state_internal
