#include "jobs/window_agg/result_format.h"

#include <charconv>
#include <cmath>

namespace kappa::window_agg {
namespace {

template <class N>
void append_number(N n, std::string& out) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, n);  // shortest form that reads back exactly
  out.append(buffer, end);
}

void append_value(const AggregateValue& value, std::string& out) {
  if (const int64_t* n = std::get_if<int64_t>(&value)) {
    append_number(*n, out);
  } else if (const double* x = std::get_if<double>(&value); x != nullptr && std::isfinite(*x)) {
    append_number(*x, out);
  } else {
    out += "null";  // no value, or NaN / infinity, which JSON cannot write
  }
}

}  // namespace

void append_json_string(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out.push_back(kHex[(c >> 4) & 0xf]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

ResultFormat::ResultFormat(const std::string& key_field, const std::vector<AggregateSpec>& specs, bool with_final_flag)
    : with_final_flag_(with_final_flag) {
  append_json_string(key_field, key_member_);
  key_member_ += ':';
  for (const AggregateSpec& spec : specs) {
    names_.push_back(spec.output_name());
    std::string member = ",";
    append_json_string(names_.back(), member);
    member += ':';
    members_.push_back(std::move(member));
  }
}

void ResultFormat::append_aggregates(const AggregateValues& values, std::string& out) const {
  for (std::size_t i = 0; i < values.size() && i < members_.size(); ++i) {
    out += members_[i];
    append_value(values[i], out);
  }
}

std::string ResultFormat::window(const WindowResult<std::string, AggregateValues>& r) const {
  std::string out = "{" + key_member_;
  append_json_string(r.key, out);
  out += ",\"window_start\":";
  append_number(r.start, out);
  out += ",\"window_end\":";
  append_number(r.end, out);
  append_aggregates(r.value, out);
  if (with_final_flag_) out += r.is_final ? ",\"final\":true" : ",\"final\":false";
  out += '}';
  return out;
}

std::string ResultFormat::rolling(const RollingResult<std::string, JsonRecord, AggregateValues>& r) const {
  std::string out = "{";
  bool first = true;
  for (std::size_t i = 0; i < r.event.field_count(); ++i) {
    const JsonField f = r.event.field(i);
    bool replaced = false;
    for (const std::string& name : names_) replaced |= f.name == name;
    if (replaced) continue;
    if (!first) out += ',';
    first = false;
    append_json_string(f.name, out);
    out += ':';
    out += f.json;
  }
  // The aggregates' members start with a comma: drop it when the event had no field left.
  const std::size_t mark = out.size();
  append_aggregates(r.value, out);
  if (first && out.size() > mark) out.erase(mark, 1);
  out += '}';
  return out;
}

std::string ResultFormat::running(const KeyedResult<std::string, AggregateValues>& r) const {
  std::string out = "{" + key_member_;
  append_json_string(r.key, out);
  append_aggregates(r.value, out);
  out += '}';
  return out;
}

}  // namespace kappa::window_agg
