#include "runtime/iso_time.h"

#include <chrono>
#include <cstdio>

namespace kappa {
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

Result<int64_t> parse_iso_time(std::string_view text) {
  constexpr const char* kHow =
      "; write it as 2026-11-21T09:30:00Z (UTC), with an offset such as +01:00, or as a date, 2026-11-21";
  const bool date_only = text.size() == std::string_view("2026-11-21").size();
  const std::optional<Timestamp> time = parse_iso8601(date_only ? std::string(text) + "T00:00Z" : std::string(text));
  if (!time) return Status::invalid_argument("'" + std::string(text) + "' is not a time" + kHow);
  // Past the date (whose '-'s come first), a zone is a Z or a sign.
  const bool has_zone = text.back() == 'Z' || text.back() == 'z' || text.find_first_of("+-", 10) != std::string::npos;
  if (!date_only && !has_zone) {
    return Status::invalid_argument("'" + std::string(text) +
                                    "' has no time zone (add Z for UTC, or an offset such as +01:00)" + kHow);
  }
  return *time;
}

std::string format_iso_time(int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(epoch_ms)};
  const sys_days day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> time{t - day};
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<long long>(time.hours().count()), static_cast<long long>(time.minutes().count()),
                static_cast<long long>(time.seconds().count()), static_cast<long long>(time.subseconds().count()));
  return text;
}

}  // namespace kappa
