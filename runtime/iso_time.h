// Points in time as ISO 8601 / RFC 3339 text, in data (event times, series
// files) and on the command line (--from, --until); and back, for logs and
// the progress display.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/record.h"
#include "runtime/status.h"

namespace kappa {

// Parses YYYY-MM-DD('T'|'t'|' ')HH:MM[:SS[.fraction]][Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM]
// into epoch milliseconds. The fraction may have 1 to 9 digits; digits past
// milliseconds are truncated. Without a zone the time is taken as UTC, so a
// replay reads data the same way on any machine. nullopt if `text` is not
// such a time or names an impossible date (2026-02-30) or time (24:00, leap
// second 60).
std::optional<Timestamp> parse_iso8601(std::string_view text);

// A time given on the command line: what parse_iso8601 takes, or a bare
// date ("2026-11-21", midnight UTC), but always with a zone: a flag without
// one would look like local time and mean UTC. The error says how to write it.
Result<int64_t> parse_iso_time(std::string_view text);

// "2026-11-21T09:30:00.250Z" for milliseconds since the epoch.
std::string format_iso_time(int64_t epoch_ms);

}  // namespace kappa
