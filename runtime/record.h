// Record: one input record as a source hands it to a task, and Element<T>:
// one decoded value travelling through a task's operator chain.
#pragma once

#include <cstdint>
#include <limits>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace kappa {

// Event time in milliseconds since the Unix epoch.
using Timestamp = int64_t;
inline constexpr Timestamp kMinTimestamp = std::numeric_limits<Timestamp>::min();
inline constexpr Timestamp kMaxTimestamp = std::numeric_limits<Timestamp>::max();

struct Header {
  std::string_view key;
  std::string_view value;
};

// A record's headers, read from the connector's own message only when asked
// for: most jobs never look at headers, and decoding them for every record
// costs as much as the rest of reading it.
class Headers {
 public:
  // Fills `out` with header `index` of the connector's message `native`;
  // false past the last one.
  using Getter = bool (*)(const void* native, std::size_t index, Header& out);

  Headers() = default;
  Headers(const void* native, Getter get) : native_(native), get_(get) {}

  // The value of the first header named `key`, if there is one.
  std::optional<std::string_view> find(std::string_view key) const {
    std::optional<std::string_view> found;
    for_each([&](const Header& h) {
      if (!found && h.key == key) found = h.value;
    });
    return found;
  }

  // Calls f(const Header&) for every header, in order.
  template <class F>
  void for_each(F&& f) const {
    if (get_ == nullptr) return;
    Header h;
    for (std::size_t i = 0; get_(native_, i, h); ++i) f(std::as_const(h));
  }

 private:
  const void* native_ = nullptr;
  Getter get_ = nullptr;
};

// A view of one source record. The bytes belong to the source and stay valid
// until the task asks for its next batch, so operators copy what they keep.
struct Record {
  std::string_view key;
  std::string_view value;
  Timestamp timestamp = 0;  // the source's timestamp (Kafka: CreateTime or LogAppendTime)
  int32_t partition = 0;
  int64_t offset = 0;
  Headers headers;
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
