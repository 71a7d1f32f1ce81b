// Record: one input record as a source hands it to a task, and Element<T>:
// one decoded value travelling through a task's operator chain.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

namespace kappa {

// Event time in milliseconds since the Unix epoch.
using Timestamp = int64_t;
inline constexpr Timestamp kMinTimestamp = std::numeric_limits<Timestamp>::min();
inline constexpr Timestamp kMaxTimestamp = std::numeric_limits<Timestamp>::max();

struct Header {
  std::string_view key;
  std::string_view value;
};

// A view of one source record. The bytes belong to the source and stay valid
// until the task asks for its next batch, so operators copy what they keep.
struct Record {
  std::string_view key;
  std::string_view value;
  Timestamp timestamp = 0;  // the source's timestamp (Kafka: CreateTime or LogAppendTime)
  int32_t partition = 0;
  int64_t offset = 0;
  std::span<const Header> headers;
};

// Where an element came from: kept beside the value so operators and error
// reports can name it without copying the record.
struct RecordMeta {
  std::string_view key;
  Timestamp timestamp = 0;
  int32_t partition = 0;
  int64_t offset = 0;
};

// A decoded value plus the metadata that travels with it. The key bytes must
// outlive the call that hands the element on (operators emit synchronously).
template <class T>
struct Element {
  T value;
  RecordMeta meta;
};

}  // namespace kappa
