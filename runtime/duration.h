// Durations as users write them on the command line: 500ms, 10s, 5m, 1h, 7d.
#pragma once

#include <chrono>
#include <string_view>

#include "runtime/status.h"

namespace kappa {

// Parses "<integer><unit>" with unit ms, s, m, h or d. A bare "0" is zero.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace kappa
