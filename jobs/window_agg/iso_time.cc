#include "jobs/window_agg/iso_time.h"

#include <chrono>

namespace kappa::window_agg {
namespace {

// Reads exactly `digits` decimal digits at `pos`, advancing it.
bool read_digits(std::string_view text, std::size_t& pos, int digits, int& out) {
  if (pos + digits > text.size()) return false;
  int value = 0;
  for (int i = 0; i < digits; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += digits;
  out = value;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<Timestamp> parse_iso8601(std::string_view text) {
  std::size_t pos = 0;
  int year, month, day, hour, minute, second = 0;
  if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') || !read_digits(text, pos, 2, month) ||
      !expect(text, pos, '-') || !read_digits(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!read_digits(text, pos, 2, hour) || !expect(text, pos, ':') || !read_digits(text, pos, 2, minute)) {
    return std::nullopt;
  }
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!read_digits(text, pos, 2, second)) return std::nullopt;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int digits = 0;
      int64_t scale = 100;
      for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
        millis += (text[pos] - '0') * scale;
        scale /= 10;
      }
      if (digits == 0 || digits > 9) return std::nullopt;
    }
  }
  int64_t zone_minutes = 0;
  if (pos < text.size()) {
    const char z = text[pos++];
    if (z == 'Z' || z == 'z') {
      // UTC
    } else if (z == '+' || z == '-') {
      int zh, zm;
      if (!read_digits(text, pos, 2, zh)) return std::nullopt;
      if (pos < text.size() && text[pos] == ':') ++pos;
      if (!read_digits(text, pos, 2, zm) || zh > 23 || zm > 59) return std::nullopt;
      zone_minutes = (z == '+' ? 1 : -1) * (zh * 60 + zm);
    } else {
      return std::nullopt;
    }
  }
  if (pos != text.size() || hour > 23 || minute > 59 || second > 59) return std::nullopt;

  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const int64_t seconds = days * 86'400 + hour * 3'600 + minute * 60 + second - zone_minutes * 60;
  return seconds * 1000 + millis;
}

}  // namespace kappa::window_agg
