// The bytes of the keys and values Kappa stores in RocksDB.
//
// Stage entries (column family "stage-<n>") are keyed
//
//   task_prefix(partition) + the operator's key
//
// task_prefix writes the topic with every 0x00 byte escaped as 0x00 0xFF,
// ends it with 0x00 0x01, then writes the partition number as 4 big-endian
// bytes with the sign bit flipped. So prefixes sort like PartitionId
// (topic bytes, then partition number), and no prefix is a prefix of
// another: the range [prefix, prefix_end(prefix)) holds exactly one task's
// entries, whatever bytes topics and operator keys contain.
//
// The "meta" column family holds what a restart needs besides state:
//   'o' + task_prefix(p) -> next offset of p      (encode_int64)
//   'w' + task_prefix(p) -> watermark of p        (encode_int64)
//   'c'                  -> the checkpoint id     (encode_int64)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/source.h"

namespace kappa::state_internal {

std::string task_prefix(const PartitionId& partition);
// Reads a task prefix from the front of `in`, advancing past it. False if
// `in` does not start with one.
bool decode_task_prefix(std::string_view& in, PartitionId& partition);

// The smallest key greater than every key that starts with `prefix`.
// REQUIRES: `prefix` holds a byte other than 0xFF (task prefixes do).
std::string prefix_end(std::string_view prefix);

// 8 bytes, big-endian, sign bit flipped: sorts like the numbers.
std::string encode_int64(int64_t value);
// False unless `bytes` is exactly 8 bytes.
bool decode_int64(std::string_view bytes, int64_t& value);

inline constexpr char kOffsetTag = 'o';
inline constexpr char kWatermarkTag = 'w';
inline constexpr std::string_view kCheckpointIdKey = "c";

inline std::string offset_key(const PartitionId& p) { return kOffsetTag + task_prefix(p); }
inline std::string watermark_key(const PartitionId& p) { return kWatermarkTag + task_prefix(p); }

}  // namespace kappa::state_internal
