#include "runtime/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace kappa {
namespace {

bool is_name_char(char c, bool first, bool colon_allowed) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (c == ':') return colon_allowed;
  return !first && c >= '0' && c <= '9';
}

bool is_valid_name(std::string_view name, bool colon_allowed) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!is_name_char(name[i], i == 0, colon_allowed)) return false;
  }
  return true;
}

void check_family(std::string_view name, std::string_view type, const std::vector<std::string>& label_names) {
  const std::string what = std::string(type) + " '" + std::string(name) + "'";
  KAPPA_CHECK(is_valid_name(name, /*colon_allowed=*/true), what + ": a metric name matches [a-zA-Z_:][a-zA-Z0-9_:]*");
  KAPPA_CHECK(type != "counter" || name.ends_with("_total"), what + ": a counter's name ends in _total");
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    KAPPA_CHECK(is_valid_name(label, /*colon_allowed=*/false) && !label.starts_with("__"),
                what + ": label '" + label + "' does not match [a-zA-Z_][a-zA-Z0-9_]* or starts with __");
    KAPPA_CHECK(type != "histogram" || label != "le", what + ": 'le' is the bucket label of a histogram");
    KAPPA_CHECK(std::find(label_names.begin() + static_cast<std::ptrdiff_t>(i) + 1, label_names.end(), label) ==
                    label_names.end(),
                what + ": label '" + label + "' is named twice");
  }
}

void check_bucket_bounds(const std::vector<double>& bounds) {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    KAPPA_CHECK(std::isfinite(bounds[i]), "a histogram's bucket bounds are finite (+Inf is implied)");
    KAPPA_CHECK(i == 0 || bounds[i - 1] < bounds[i], "a histogram's bucket bounds strictly increase");
  }
}

// Go's float syntax, which Prometheus parses: NaN, +Inf, -Inf, else the
// shortest text that reads back as the same double.
void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, end);
  }
}

void append_value(std::string& out, uint64_t value) {
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

// name{labels} value\n; `labels` already rendered, maybe empty.
template <class Value>
void append_sample(std::string& out, const std::string& name, std::string_view suffix, const std::string& labels,
                   Value value) {
  out += name;
  out += suffix;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  append_value(out, value);
  out += '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  check_bucket_bounds(upper_bounds_);
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  // Buckets are "less than or equal": the first bound not below the value.
  const auto bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  counts_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.cumulative_counts.resize(upper_bounds_.size() + 1);
  uint64_t total = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts[i] = total;
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  KAPPA_CHECK(start > 0 && factor > 1 && count >= 1, "exponential_buckets needs start > 0, factor > 1, count >= 1");
  std::vector<double> bounds;
  bounds.reserve(static_cast<std::size_t>(count));
  for (double bound = start; static_cast<int>(bounds.size()) < count; bound *= factor) bounds.push_back(bound);
  return bounds;
}

namespace metrics_internal {

std::string FamilyBase::render_labels(const std::vector<std::string>& values) const {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += label_names_[i];
    out += "=\"";
    for (const char c : values[i]) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out;
}

void FamilyBase::render_header(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  for (const char c : help_) {  // HELP escapes only backslash and newline
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type();
  out += '\n';
}

void FamilyBase::check_label_count(const std::vector<std::string>& values) const {
  KAPPA_CHECK(values.size() == label_names_.size(), "metric '" + name_ + "' takes " +
                                                        std::to_string(label_names_.size()) + " label values, not " +
                                                        std::to_string(values.size()));
}

void render_series(std::string& out, const std::string& name, const std::string& labels, const Counter& counter) {
  append_sample(out, name, "", labels, counter.value());
}

void render_series(std::string& out, const std::string& name, const std::string& labels, const Gauge& gauge) {
  append_sample(out, name, "", labels, gauge.value());
}

void render_series(std::string& out, const std::string& name, const std::string& labels, const Histogram& histogram) {
  const Histogram::Snapshot snapshot = histogram.snapshot();
  const std::string prefix = labels.empty() ? "le=\"" : labels + ",le=\"";
  const std::vector<double>& bounds = histogram.upper_bounds();
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    std::string bucket_labels = prefix;
    append_value(bucket_labels, i < bounds.size() ? bounds[i] : INFINITY);
    bucket_labels += '"';
    append_sample(out, name, "_bucket", bucket_labels, snapshot.cumulative_counts[i]);
  }
  append_sample(out, name, "_sum", labels, snapshot.sum);
  append_sample(out, name, "_count", labels, snapshot.count());
}

}  // namespace metrics_internal

template <class Metric>
MetricFamily<Metric>& MetricsRegistry::family(std::string_view name, std::string_view help,
                                              std::vector<std::string> label_names, std::vector<double> upper_bounds) {
  std::lock_guard lock(mutex_);
  for (const auto& existing : families_) {
    if (existing->name() != name) continue;
    auto* same = dynamic_cast<MetricFamily<Metric>*>(existing.get());
    KAPPA_CHECK(same != nullptr && same->label_names() == label_names && same->bucket_bounds() == upper_bounds,
                "metric '" + std::string(name) + "' is registered twice, with another type, labels or buckets");
    return *same;
  }
  auto created = std::make_unique<MetricFamily<Metric>>(std::string(name), std::string(help), std::move(label_names),
                                                        std::move(upper_bounds));
  check_family(name, created->type(), created->label_names());
  check_bucket_bounds(created->bucket_bounds());
  MetricFamily<Metric>& result = *created;
  families_.push_back(std::move(created));
  return result;
}

MetricFamily<Counter>& MetricsRegistry::counter_family(std::string_view name, std::string_view help,
                                                       std::vector<std::string> label_names) {
  return family<Counter>(name, help, std::move(label_names), {});
}

MetricFamily<Gauge>& MetricsRegistry::gauge_family(std::string_view name, std::string_view help,
                                                   std::vector<std::string> label_names) {
  return family<Gauge>(name, help, std::move(label_names), {});
}

MetricFamily<Histogram>& MetricsRegistry::histogram_family(std::string_view name, std::string_view help,
                                                           std::vector<std::string> label_names,
                                                           std::vector<double> upper_bounds) {
  return family<Histogram>(name, help, std::move(label_names), std::move(upper_bounds));
}

MetricsRegistry::CollectorId MetricsRegistry::add_collector(std::function<void()> collect) {
  std::lock_guard lock(collect_mutex_);
  const CollectorId id = next_collector_id_++;
  collectors_.emplace(id, std::move(collect));
  return id;
}

void MetricsRegistry::remove_collector(CollectorId id) {
  std::lock_guard lock(collect_mutex_);  // waits out a scrape that is running it
  collectors_.erase(id);
}

std::string MetricsRegistry::scrape() {
  {
    std::lock_guard lock(collect_mutex_);
    for (const auto& [id, collect] : collectors_) collect();
  }
  return render();
}

std::string MetricsRegistry::render() const {
  std::vector<const metrics_internal::FamilyBase*> families;
  {
    std::lock_guard lock(mutex_);  // not held while rendering: task threads may register meanwhile
    for (const auto& family : families_) families.push_back(family.get());
  }
  std::string out;
  for (const metrics_internal::FamilyBase* family : families) family->render(out);
  return out;
}

}  // namespace kappa
