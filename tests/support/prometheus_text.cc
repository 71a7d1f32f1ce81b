#include "tests/support/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <set>

namespace kappa::testing {
namespace {

bool is_name(std::string_view name, bool colon_allowed) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
    if (!letter && (i == 0 || c < '0' || c > '9')) return false;
  }
  return true;
}

// Go's float syntax as Prometheus writes it: NaN, +Inf, -Inf, or a number.
std::optional<double> parse_value(std::string_view text) {
  if (text == "NaN") return NAN;
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text.starts_with('+')) text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The family a sample name belongs to: itself, or a histogram's or
// summary's stem for the _bucket, _sum and _count samples.
std::string family_of(const std::string& sample, const std::map<std::string, PrometheusFamily>& families) {
  if (families.contains(sample)) return sample;
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (!sample.ends_with(suffix)) continue;
    const std::string stem = sample.substr(0, sample.size() - suffix.size());
    const auto it = families.find(stem);
    if (it != families.end() &&
        (it->second.type == "histogram" || (it->second.type == "summary" && suffix != "_bucket"))) {
      return stem;
    }
  }
  return "";
}

// Reads `{a="x",b="y"}` from `line` at `pos` (just past the '{').
Status parse_labels(std::string_view line, std::size_t& pos, PrometheusLabels& labels) {
  while (true) {
    if (pos < line.size() && line[pos] == '}') {
      ++pos;
      return Status::ok();
    }
    const std::size_t equals = line.find('=', pos);
    if (equals == std::string_view::npos) return Status::corruption("a label has no '='");
    const std::string name(line.substr(pos, equals - pos));
    if (!is_name(name, false)) return Status::corruption("'" + name + "' is not a label name");
    pos = equals + 1;
    if (pos >= line.size() || line[pos] != '"') return Status::corruption("label " + name + "'s value is not quoted");
    std::string value;
    for (++pos;; ++pos) {
      if (pos >= line.size()) return Status::corruption("label " + name + "'s value has no closing quote");
      const char c = line[pos];
      if (c == '"') break;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (++pos >= line.size()) return Status::corruption("label " + name + "'s value ends in a backslash");
      if (line[pos] == '\\' || line[pos] == '"') {
        value += line[pos];
      } else if (line[pos] == 'n') {
        value += '\n';
      } else {
        return Status::corruption("label " + name + "'s value has the unknown escape \\" + line[pos]);
      }
    }
    ++pos;
    if (!labels.emplace(name, std::move(value)).second) return Status::corruption("label " + name + " appears twice");
    if (pos < line.size() && line[pos] == ',') {
      ++pos;
    } else if (pos >= line.size() || line[pos] != '}') {
      return Status::corruption("labels are not separated by ','");
    }
  }
}

Result<PrometheusSample> parse_sample(std::string_view line) {
  PrometheusSample sample;
  std::size_t pos = 0;
  while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') ++pos;
  sample.name = std::string(line.substr(0, pos));
  if (!is_name(sample.name, true)) return Status::corruption("'" + sample.name + "' is not a metric name");
  if (pos < line.size() && line[pos] == '{') {
    ++pos;
    KAPPA_RETURN_IF_ERROR(parse_labels(line, pos, sample.labels));
  }
  if (pos >= line.size() || line[pos] != ' ') return Status::corruption("no space before the value");
  std::string_view rest = line.substr(pos + 1);
  const std::size_t space = rest.find(' ');
  const std::string_view timestamp = space == std::string_view::npos ? "" : rest.substr(space + 1);
  const std::optional<double> value = parse_value(rest.substr(0, space));
  if (!value) return Status::corruption("'" + std::string(rest.substr(0, space)) + "' is not a value");
  int64_t ignored = 0;
  if (!timestamp.empty() && std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ignored).ptr !=
                                timestamp.data() + timestamp.size()) {
    return Status::corruption("'" + std::string(timestamp) + "' is not a timestamp in milliseconds");
  }
  sample.value = *value;
  return sample;
}

std::string unescape_help(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '\\' || text[i + 1] == 'n')) {
      out += text[++i] == 'n' ? '\n' : '\\';
    } else {
      out += text[i];
    }
  }
  return out;
}

// One histogram series (its labels without le), as its samples arrive.
struct HistogramSeries {
  double last_le = -INFINITY;
  double last_count = 0;
  bool saw_bucket = false;
  std::optional<double> inf_count, count, sum;
};

Status check_histogram(const std::string& family, const PrometheusSample& sample, HistogramSeries& series) {
  if (sample.name == family + "_sum") {
    series.sum = sample.value;
  } else if (sample.name == family + "_count") {
    series.count = sample.value;
  } else {
    const auto le_text = sample.labels.find("le");
    if (le_text == sample.labels.end()) return Status::corruption("a bucket without an le label");
    const std::optional<double> le = parse_value(le_text->second);
    if (!le || std::isnan(*le)) return Status::corruption("le=\"" + le_text->second + "\" is not a bound");
    if (series.inf_count) return Status::corruption("a bucket after the +Inf bucket");
    if (series.saw_bucket && *le <= series.last_le) return Status::corruption("bucket bounds do not increase");
    if (sample.value < series.last_count) return Status::corruption("bucket counts decrease");
    series.saw_bucket = true;
    series.last_le = *le;
    series.last_count = sample.value;
    if (std::isinf(*le)) series.inf_count = sample.value;
  }
  return Status::ok();
}

Status check_histograms_complete(const std::map<std::pair<std::string, PrometheusLabels>, HistogramSeries>& all) {
  for (const auto& [key, series] : all) {
    const std::string what = "histogram " + key.first;
    if (!series.inf_count) return Status::corruption(what + " has no +Inf bucket");
    if (!series.count || !series.sum) return Status::corruption(what + " lacks _count or _sum");
    if (*series.count != *series.inf_count) return Status::corruption(what + ": _count differs from the +Inf bucket");
  }
  return Status::ok();
}

}  // namespace

Result<PrometheusText> parse_prometheus_text(std::string_view text) {
  PrometheusText parsed;
  std::set<std::string> finished;  // families whose samples are behind us
  std::string current;             // the family of the last sample
  std::set<std::pair<std::string, PrometheusLabels>> seen;
  std::map<std::pair<std::string, PrometheusLabels>, HistogramSeries> histograms;
  std::set<std::string> helped;
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size(); ++line_number) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const auto fail = [&](const std::string& why) {
      return Status::corruption("line " + std::to_string(line_number + 1) + " '" + std::string(line) + "': " + why);
    };
    if (line.empty()) continue;
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      const std::string_view rest = line.substr(7);
      const std::size_t space = rest.find(' ');
      const std::string name(rest.substr(0, space));
      const std::string_view body = space == std::string_view::npos ? "" : rest.substr(space + 1);
      if (!is_name(name, true)) return fail("'" + name + "' is not a metric name");
      if (finished.contains(name) || current == name) return fail("comes after samples of " + name);
      PrometheusFamily& family = parsed.families[name];
      if (line[2] == 'H') {
        if (!helped.insert(name).second) return fail("a second # HELP for " + name);
        family.help = unescape_help(body);
      } else {
        if (!family.type.empty()) return fail("a second # TYPE for " + name);
        if (body != "counter" && body != "gauge" && body != "histogram" && body != "summary" && body != "untyped") {
          return fail("'" + std::string(body) + "' is not a metric type");
        }
        family.type = std::string(body);
      }
      continue;
    }
    if (line.starts_with('#')) continue;  // any other comment

    Result<PrometheusSample> sample = parse_sample(line);
    if (!sample.is_ok()) return fail(sample.status().message());
    const std::string family = family_of(sample->name, parsed.families);
    if (family.empty() || parsed.families[family].type.empty()) return fail("no # TYPE line names its family");
    if (!helped.contains(family)) return fail("no # HELP line for " + family);
    if (family != current) {
      if (finished.contains(family)) return fail("samples of " + family + " are not together");
      if (!current.empty()) finished.insert(current);
      current = family;
    }
    if (!seen.emplace(sample->name, sample->labels).second) return fail("the same series appears twice");
    const std::string& type = parsed.families[family].type;
    if (type == "counter" && !(sample->value >= 0)) return fail("a counter is negative or NaN");
    if (type == "histogram") {
      PrometheusLabels series_labels = sample->labels;
      series_labels.erase("le");
      const Status checked = check_histogram(family, *sample, histograms[{family, series_labels}]);
      if (!checked.is_ok()) return fail(checked.message());
    }
    parsed.samples.push_back(std::move(sample).value());
  }
  KAPPA_RETURN_IF_ERROR(check_histograms_complete(histograms));
  return parsed;
}

std::optional<double> PrometheusText::value(std::string_view name, const PrometheusLabels& labels) const {
  for (const PrometheusSample& sample : samples) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  return std::nullopt;
}

double PrometheusText::sum(std::string_view name) const {
  double total = 0;
  for (const PrometheusSample& sample : samples) {
    if (sample.name == name) total += sample.value;
  }
  return total;
}

std::vector<PrometheusSample> PrometheusText::series(std::string_view name) const {
  std::vector<PrometheusSample> found;
  for (const PrometheusSample& sample : samples) {
    if (sample.name == name) found.push_back(sample);
  }
  return found;
}

}  // namespace kappa::testing
