// ISO-8601 / RFC 3339 times as event times: 2026-11-21T10:15:00Z,
// 2026-11-21T10:15:00.123+01:00.
#pragma once

#include <optional>
#include <string_view>

#include "runtime/record.h"

namespace kappa::window_agg {

// Parses YYYY-MM-DD('T'|'t'|' ')HH:MM[:SS[.fraction]][Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM]
// into epoch milliseconds. The fraction may have 1 to 9 digits; digits past
// milliseconds are truncated. Without a zone the time is taken as UTC, so a
// replay reads it the same way on any machine. nullopt if `text` is not such
// a time or names an impossible date (2026-02-30) or time (24:00, leap
// second 60).
std::optional<Timestamp> parse_iso8601(std::string_view text);

}  // namespace kappa::window_agg
