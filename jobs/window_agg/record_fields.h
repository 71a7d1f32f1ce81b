// What window_agg reads from each JsonRecord, by field name: the key, the
// event time and the value. Each is a small copyable function object for the
// pipeline (key_by, event_time, the aggregates).
//
// A missing or mistyped key or time makes the record bad: the extractor
// throws std::invalid_argument naming the field and what was wrong, and the
// task applies the job's --on-error policy (fail or skip) to the record. A
// missing or non-numeric value is not an error: it is "no value" (a SQL
// NULL), ignored by sum, mean, ... while count still counts the record.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "jobs/window_agg/json_record.h"
#include "runtime/record.h"

namespace kappa::window_agg {

// The key: a string field's text, or a number as written (42 -> "42").
//
// Returned as a reference to a buffer the function object reuses, not as a
// std::string_view: the keyed operators' tables (absl::flat_hash_map) cannot
// look a std::string_view up where absl has its own string_view (Debian's
// build), and a std::string per record would allocate for keys past the
// small-string size. Each task owns its copy of the pipeline, so the buffer
// is never shared between threads.
class KeyOf {
 public:
  explicit KeyOf(std::string field) : field_(std::move(field)) {}
  // Valid until the next call. Throws std::invalid_argument.
  const std::string& operator()(const JsonRecord& record) const;

 private:
  std::string field_;
  mutable std::string key_;
};

// The event time: epoch milliseconds (a number; a fraction is rounded down) or
// an ISO-8601 string (runtime/iso_time.h).
struct EventTimeOf {
  std::string field;
  // Throws std::invalid_argument.
  Timestamp operator()(const JsonRecord& record) const;
};

// Event times must lie within +-2^53 ms (about 285,000 years) of the epoch,
// so window arithmetic (time + size + lateness) cannot overflow.
inline constexpr Timestamp kMaxEventTimeMagnitude = Timestamp{1} << 53;

// The value: a number field; nullopt when the field is missing, null, not a
// number, or beyond double's range.
std::optional<double> value_of(const JsonRecord& record, std::string_view field);

}  // namespace kappa::window_agg
