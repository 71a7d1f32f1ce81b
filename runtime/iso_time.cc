#include "runtime/iso_time.h"

#include <chrono>
#include <cstdio>

namespace kappa {
namespace {

// Reads exactly `digits` decimal digits at `pos`.
bool read_number(std::string_view text, std::size_t& pos, int digits, int& value) {
  if (pos + static_cast<std::size_t>(digits) > text.size()) return false;
  value = 0;
  for (int i = 0; i < digits; ++i) {
    const char c = text[pos++];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

Result<int64_t> parse_iso_time(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return Status::invalid_argument("'" + std::string(text) + "' is not a time: " + why +
                                    "; write it as 2026-11-21T09:30:00Z (UTC), with an offset such as +01:00, "
                                    "or as a date, 2026-11-21");
  };
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!read_number(text, pos, 4, year) || !expect(text, pos, '-') || !read_number(text, pos, 2, month) ||
      !expect(text, pos, '-') || !read_number(text, pos, 2, day)) {
    return bad("it does not start with a date YYYY-MM-DD");
  }
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return bad("there is no such date");
  int64_t ms = std::chrono::sys_days(date).time_since_epoch().count() * 86'400'000LL;
  if (pos == text.size()) return ms;

  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return bad("a 'T' must separate date and time");
  ++pos;
  int hour = 0, minute = 0, second = 0;
  if (!read_number(text, pos, 2, hour) || !expect(text, pos, ':') || !read_number(text, pos, 2, minute)) {
    return bad("the time of day is not HH:MM[:SS]");
  }
  if (pos < text.size() && text[pos] == ':' && !(++pos, read_number(text, pos, 2, second))) {
    return bad("the seconds are not two digits");
  }
  if (hour > 23 || minute > 59 || second > 59) return bad("the time of day is out of range");
  ms += ((hour * 60LL + minute) * 60 + second) * 1000;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    int64_t scale = 100;
    const std::size_t first = pos;
    for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, scale /= 10)
      ms += (text[pos] - '0') * scale;
    if (pos == first) return bad("a fraction of a second needs digits");
  }
  if (pos == text.size()) return bad("it has no time zone (add Z for UTC, or an offset such as +01:00)");
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int sign = text[pos++] == '+' ? 1 : -1;
    int offset_hours = 0, offset_minutes = 0;
    if (!read_number(text, pos, 2, offset_hours)) return bad("the UTC offset is not +HH:MM");
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (!read_number(text, pos, 2, offset_minutes)) return bad("the UTC offset is not +HH:MM");
    if (offset_hours > 23 || offset_minutes > 59) return bad("the UTC offset is out of range");
    ms -= sign * (offset_hours * 60LL + offset_minutes) * 60'000;
  } else {
    return bad("the time zone must be Z or an offset such as +01:00");
  }
  if (pos != text.size()) return bad("something follows the time zone");
  return ms;
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
