// The manifest of a checkpoint: what makes the directory chk-<n>/ a
// checkpoint that recovery may trust. Written last, into
// chk-<n>/MANIFEST.kappa (through a synced temp file and a rename), so a
// directory without one is a checkpoint that never completed.
//
// A text file, one field per line, readable with `cat`:
//
//   kappa-checkpoint
//   format 1
//   job fraud-scoring
//   checkpoint 12
//   offset transactions 0 181204          (topic, partition, next offset)
//   watermark transactions 0 1700000123000
//   file 000042.sst 10468 9f1c03aa        (name, size in bytes, CRC32C)
//   crc32c 5e0d7c21                       (of every byte before this line)
//
// Job ids, topics and file names are percent-escaped (any byte outside
// '!'..'~', and '%', as %XX), so a field never holds a space or a newline.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/record.h"
#include "runtime/source.h"
#include "runtime/status.h"

namespace kappa::state_internal {

struct ManifestFile {
  std::string name;  // relative to the checkpoint directory
  uint64_t size = 0;
  uint32_t crc32c = 0;
};

struct Manifest {
  std::string job_id;
  int format_version = 0;
  uint64_t checkpoint_id = 0;
  std::map<PartitionId, int64_t> offsets;  // next offset to read
  std::map<PartitionId, Timestamp> watermarks;
  std::vector<ManifestFile> files;  // every file of the checkpoint but the manifest, by name

  // The sum of the files' sizes.
  uint64_t files_bytes() const;
};

std::string encode_manifest(const Manifest& manifest);
// Fails with kCorruption, saying what is wrong, unless `text` is a whole
// manifest whose checksum matches.
Result<Manifest> decode_manifest(std::string_view text);

// Percent-escaping of one field (see above), shared with the KAPPA_STATE
// identity file.
std::string escape_field(std::string_view field);
// False on a malformed escape.
bool unescape_field(std::string_view field, std::string& out);

}  // namespace kappa::state_internal
