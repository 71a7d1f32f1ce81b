// The CSV series score_series reads and writes (README.md in this folder).
//
// Input: one `timestamp,value` line per point. The timestamp is epoch
// milliseconds or ISO-8601 (runtime/iso_time.h); the value a decimal
// number (nan and inf are read, and score 0 as missing values do). Spaces
// around fields and a CR before the newline are ignored, blank lines are
// skipped, and there is no quoting. The first line is a header, and skipped,
// when its first field is not a timestamp and its second (if any) not a number.
//
// Output: the header `timestamp,value,score,alarm`, then one row per point:
// the timestamp and value as they were read, the score (the shortest text
// that reads back as the same double) and the alarm as 0 or 1.
#pragma once

#include <cstdint>
#include <cstdio>
#include <istream>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/record.h"
#include "runtime/status.h"

namespace kappa::score_series {

struct SeriesPoint {
  Timestamp time = 0;
  double value = 0;
  std::string fields;  // "timestamp,value" as read (trimmed), echoed in the output row
};

// Epoch milliseconds (an optional '-' and digits) or an ISO-8601 time.
std::optional<Timestamp> parse_timestamp(std::string_view text);
// A decimal number, with an optional leading '+'; nan and inf included.
std::optional<double> parse_value(std::string_view text);

// Reads points from a stream, one line at a time. Not thread-safe.
class SeriesReader {
 public:
  explicit SeriesReader(std::istream& in) : in_(in) {}

  // A point, or std::nullopt at the end of the input; a malformed line is a
  // Corruption error naming its line number ("line 7: ..."), after which
  // next() goes on with the following line.
  Result<std::optional<SeriesPoint>> next();

  int64_t line_number() const { return line_number_; }  // of the last line read

 private:
  std::istream& in_;
  std::string line_;
  int64_t line_number_ = 0;
};

// Writes the header, then one row per scored point, to a FILE it does not own.
class ScoreWriter {
 public:
  explicit ScoreWriter(std::FILE* out);
  void row(const SeriesPoint& point, double score, bool alarm);
  // Flushes; an error if any write failed (a full disk, a closed pipe).
  Status finish();

 private:
  std::FILE* out_;
  std::string buffer_;  // one row, reused
};

}  // namespace kappa::score_series
