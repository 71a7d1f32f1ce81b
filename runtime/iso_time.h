// Points in time as users write them on the command line (--from, --until):
// ISO 8601 / RFC 3339, and back for logs and the progress display.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/status.h"

namespace kappa {

// Parses "2026-11-21T09:30:00Z", with optional fractional seconds
// (".250"), a UTC offset instead of Z ("+01:00", "-0530"), a space instead
// of the T, or a bare date ("2026-11-21", midnight UTC). Returns
// milliseconds since the Unix epoch. A time without a zone is refused: it
// would mean a different instant on every machine.
Result<int64_t> parse_iso_time(std::string_view text);

// "2026-11-21T09:30:00.250Z" for milliseconds since the epoch.
std::string format_iso_time(int64_t epoch_ms);

}  // namespace kappa
