#include "jobs/score_series/series_csv.h"

#include <charconv>
#include <system_error>

#include "runtime/iso_time.h"

namespace kappa::score_series {
namespace {

std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 40;  // a long field is cut, not echoed whole
  return "'" + std::string(s.substr(0, kMax)) + (s.size() > kMax ? "...'" : "'");
}

}  // namespace

std::optional<Timestamp> parse_timestamp(std::string_view text) {
  Timestamp ms = 0;
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, ms);
  if (ec == std::errc() && stop == end) return ms;
  if (ec == std::errc::result_out_of_range) return std::nullopt;
  return parse_iso8601(text);
}

std::optional<double> parse_value(std::string_view text) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  double value = 0;
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || stop != end) return std::nullopt;
  return value;
}

Result<std::optional<SeriesPoint>> SeriesReader::next() {
  while (std::getline(in_, line_)) {
    ++line_number_;
    const std::string_view line = trim(line_);
    if (line.empty()) continue;
    const std::size_t comma = line.find(',');
    const std::string_view time_text = trim(line.substr(0, comma));
    const std::string_view value_text = comma == std::string_view::npos ? "" : trim(line.substr(comma + 1));
    const std::optional<Timestamp> time = parse_timestamp(time_text);
    const std::optional<double> value = parse_value(value_text);
    if (line_number_ == 1 && !time && !value) continue;  // a header
    auto bad = [&](const std::string& why) {
      return Status::corruption("line " + std::to_string(line_number_) + ": " + why);
    };
    if (comma == std::string_view::npos) return bad("expected 'timestamp,value', found no comma");
    if (value_text.find(',') != std::string_view::npos) {
      return bad("expected 'timestamp,value', found more than two fields");
    }
    if (!time) {
      return bad("timestamp " + quoted(time_text) +
                 " is neither epoch milliseconds nor an ISO-8601 time (2026-11-21T10:15:00Z)");
    }
    if (!value) return bad("value " + quoted(value_text) + " is not a number");
    SeriesPoint point;
    point.time = *time;
    point.value = *value;
    point.fields.reserve(time_text.size() + 1 + value_text.size());
    point.fields.append(time_text).append(",").append(value_text);
    return std::optional<SeriesPoint>(std::move(point));
  }
  if (in_.bad()) return Status::unavailable("reading the input failed after line " + std::to_string(line_number_));
  return std::optional<SeriesPoint>();
}

ScoreWriter::ScoreWriter(std::FILE* out) : out_(out) { std::fputs("timestamp,value,score,alarm\n", out_); }

void ScoreWriter::row(const SeriesPoint& point, double score, bool alarm) {
  char number[32];
  const auto [end, ec] = std::to_chars(number, number + sizeof number, score);
  buffer_.assign(point.fields);
  buffer_.append(",").append(number, ec == std::errc() ? end : number).append(alarm ? ",1\n" : ",0\n");
  std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
}

Status ScoreWriter::finish() {
  if (std::fflush(out_) != 0 || std::ferror(out_)) return Status::data_loss("writing the output failed");
  return Status::ok();
}

}  // namespace kappa::score_series
