#include "runtime/duration.h"

#include <charconv>
#include <cstdint>
#include <string>

namespace kappa {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto bad = [&] {
    return Status::invalid_argument("'" + std::string(text) +
                                    "' is not a duration; write a whole number and a unit: 500ms, 10s, 5m, 1h or 7d");
  };
  int64_t amount = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (ec != std::errc() || amount < 0 || end == text.data()) return bad();
  const std::string_view unit(end, text.data() + text.size() - end);
  int64_t unit_ms = 0;
  if (unit == "ms") {
    unit_ms = 1;
  } else if (unit == "s") {
    unit_ms = 1000;
  } else if (unit == "m") {
    unit_ms = 60'000;
  } else if (unit == "h") {
    unit_ms = 3'600'000;
  } else if (unit == "d") {
    unit_ms = 86'400'000;
  } else if (unit.empty() && amount == 0) {
    unit_ms = 1;
  } else {
    return bad();
  }
  if (amount > INT64_MAX / unit_ms) return bad();
  return std::chrono::milliseconds(amount * unit_ms);
}

}  // namespace kappa
