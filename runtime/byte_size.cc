#include "runtime/byte_size.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <string>
#include <utility>

namespace kappa {

Result<int64_t> parse_byte_size(std::string_view text) {
  auto bad = [&] {
    return Status::invalid_argument("'" + std::string(text) +
                                    "' is not a size: give a whole number with an optional unit, as in 512MiB, "
                                    "2GiB or 300MB");
  };
  int64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end == text.data() || number < 0) return bad();
  std::string unit(end, text.data() + text.size());
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  constexpr int64_t kKi = 1024;
  constexpr int64_t kK = 1000;
  static const std::pair<const char*, int64_t> kUnits[] = {
      {"", 1},           {"b", 1},
      {"k", kKi},        {"kib", kKi},        {"kb", kK},
      {"m", kKi * kKi},  {"mib", kKi * kKi},  {"mb", kK * kK},
      {"g", kKi * kKi * kKi}, {"gib", kKi * kKi * kKi}, {"gb", kK * kK * kK},
      {"t", kKi * kKi * kKi * kKi}, {"tib", kKi * kKi * kKi * kKi}, {"tb", kK * kK * kK * kK},
  };
  for (const auto& [name, scale] : kUnits) {
    if (unit != name) continue;
    if (number > std::numeric_limits<int64_t>::max() / scale) return bad();
    return number * scale;
  }
  return bad();
}

}  // namespace kappa
