#include "jobs/window_agg/record_fields.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "runtime/iso_time.h"

namespace kappa::window_agg {
namespace {

[[noreturn]] void bad_field(std::string_view field, std::string_view what) {
  throw std::invalid_argument("field '" + std::string(field) + "' " + std::string(what));
}

JsonField require(const JsonRecord& record, std::string_view field) {
  std::optional<JsonField> f = record.find(field);
  if (!f) bad_field(field, "is missing");
  return *f;
}

Timestamp checked(std::string_view field, Timestamp t) {
  if (t > kMaxEventTimeMagnitude || t < -kMaxEventTimeMagnitude) {
    bad_field(field, "is out of range: event times must be within 285,000 years of 1970");
  }
  return t;
}

}  // namespace

const std::string& KeyOf::operator()(const JsonRecord& record) const {
  const JsonField f = require(record, field_);
  if (f.kind != JsonKind::kString && f.kind != JsonKind::kNumber) {
    bad_field(field_, "must be a string or a number to be a key, not " + std::string(json_kind_name(f.kind)));
  }
  key_.assign(f.text());
  return key_;
}

Timestamp EventTimeOf::operator()(const JsonRecord& record) const {
  const JsonField f = require(record, field);
  int64_t millis = 0;
  auto whole_millis = [&millis](std::string_view text) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), millis);
    return ec == std::errc() && end == text.data() + text.size();
  };
  if (f.kind == JsonKind::kNumber) {
    if (whole_millis(f.json)) return checked(field, millis);
    // 1.7e12 or 1700000000000.5: a whole number of milliseconds after truncation.
    const std::optional<double> x = f.number();
    if (!x || !std::isfinite(*x) || std::fabs(*x) > static_cast<double>(kMaxEventTimeMagnitude)) {
      bad_field(field, "is out of range: event times must be within 285,000 years of 1970");
    }
    return static_cast<Timestamp>(std::floor(*x));
  }
  if (f.kind == JsonKind::kString) {
    // Protobuf's JSON mapping writes an int64 as a string of digits
    // ("1767225600000"), as `kappa gen transactions --format json` does.
    if (whole_millis(f.string)) return checked(field, millis);
    if (std::optional<Timestamp> t = parse_iso8601(f.string)) return checked(field, *t);
    bad_field(
        field,
        "is not an ISO-8601 time: \"" + std::string(f.string.substr(0, 64)) +
            "\" (write 2026-11-21T10:15:00Z or 2026-11-21T10:15:00.123+01:00, or epoch milliseconds as a number or a "
            "string of digits)");
  }
  bad_field(field, "must be epoch milliseconds (a number) or an ISO-8601 time (a string), not " +
                       std::string(json_kind_name(f.kind)));
}

std::optional<double> value_of(const JsonRecord& record, std::string_view field) {
  const std::optional<JsonField> f = record.find(field);
  if (!f) return std::nullopt;
  return f->number();
}

}  // namespace kappa::window_agg
