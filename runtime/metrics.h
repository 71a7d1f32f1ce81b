// Metrics in the Prometheus text exposition format (0.0.4), for /metrics.
//
// A MetricsRegistry holds metric families (a name, a help text, a type and
// label names); a family holds one series per set of label values. Task
// threads update series through references they keep: Counter::add,
// Gauge::set and Histogram::observe are relaxed atomic operations, with no
// lock. Values kept elsewhere (the runner's totals, per-partition state) are
// copied in at scrape time by collectors: scrape() runs every collector, then
// renders.
//
//   MetricsRegistry registry;
//   Counter& in = registry.counter("kappa_records_in_total", "Records read from the inputs.");
//   MetricFamily<Gauge>& lag = registry.gauge_family("kappa_consumer_lag_records",
//       "Records between the position and the end of a partition.", {"topic", "partition"});
//   registry.add_collector([&] { lag.with({"orders", "3"}).set(42); });
//   in.add(batch.size());                // any thread
//   std::string text = registry.scrape(); // the HTTP thread
//
// Names are constants in the code, so a malformed one (or a name registered
// twice with another type or other labels) is a bug and fails a KAPPA_CHECK.
// Label values are data: any bytes, escaped when rendered.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "runtime/status.h"

namespace kappa {

// A total that only goes up. Thread-safe.
class Counter {
 public:
  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  // For a collector that copies a total kept elsewhere.
  void set(uint64_t total) { value_.store(total, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down. Thread-safe.
class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted in fixed buckets, plus their sum. Thread-safe.
class Histogram {
 public:
  // `upper_bounds`: finite and strictly increasing; the +Inf bucket is implied.
  explicit Histogram(std::vector<double> upper_bounds);

  // A NaN is ignored: it would make the sum NaN for the life of the process.
  void observe(double value);

  // Cumulative counts, one per bound plus +Inf (whose count is the total),
  // and the sum. Taken while observe() runs, the sum may miss or include an
  // observation the counts do not; the counts are always monotonic.
  struct Snapshot {
    std::vector<uint64_t> cumulative_counts;
    double sum = 0;
    uint64_t count() const { return cumulative_counts.back(); }
  };
  Snapshot snapshot() const;
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  std::vector<double> upper_bounds_;
  // Per bucket, not cumulative (one add per observation); the last is +Inf.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

// `count` bounds: start, start*factor, start*factor^2, ...
// REQUIRES: start > 0, factor > 1, count >= 1.
std::vector<double> exponential_buckets(double start, double factor, int count);

namespace metrics_internal {

// What the registry needs of a family of any type.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  virtual const char* type() const = 0;
  // Appends # HELP, # TYPE and every series' samples.
  virtual void render(std::string& out) const = 0;
  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 protected:
  // `topic="t",partition="3"`, escaped; empty without labels.
  std::string render_labels(const std::vector<std::string>& values) const;
  void render_header(std::string& out) const;
  void check_label_count(const std::vector<std::string>& values) const;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

void render_series(std::string& out, const std::string& name, const std::string& labels, const Counter& counter);
void render_series(std::string& out, const std::string& name, const std::string& labels, const Gauge& gauge);
void render_series(std::string& out, const std::string& name, const std::string& labels, const Histogram& histogram);

}  // namespace metrics_internal

// One metric name and its series, one per set of label values.
// with() and remove() are thread-safe; keep the reference with() returns
// rather than calling it per record (it takes a lock).
template <class Metric>
class MetricFamily final : public metrics_internal::FamilyBase {
  static_assert(std::is_same_v<Metric, Counter> || std::is_same_v<Metric, Gauge> || std::is_same_v<Metric, Histogram>,
                "a MetricFamily holds Counter, Gauge or Histogram series");

 public:
  MetricFamily(std::string name, std::string help, std::vector<std::string> label_names,
               std::vector<double> bucket_bounds = {})
      : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
        bucket_bounds_(std::move(bucket_bounds)) {}

  // The series with these label values (in the order of the label names),
  // created at first use. The reference stays valid until remove() or
  // clear() drops that series: whoever removes a series must make sure no
  // thread still uses it.
  Metric& with(const std::vector<std::string>& label_values) {
    check_label_count(label_values);
    std::lock_guard lock(mutex_);
    auto [it, inserted] = series_.try_emplace(label_values);
    if (inserted) {
      it->second.labels = render_labels(label_values);
      if constexpr (std::is_same_v<Metric, Histogram>) {
        it->second.metric = std::make_unique<Histogram>(bucket_bounds_);
      } else {
        it->second.metric = std::make_unique<Metric>();
      }
    }
    return *it->second.metric;
  }

  // Drops a series (a revoked partition's); nothing if there is none.
  void remove(const std::vector<std::string>& label_values) {
    std::lock_guard lock(mutex_);
    series_.erase(label_values);
  }

  // Drops every series: a collector that rebuilds a family from a snapshot
  // at each scrape clears it first, so series that left the snapshot go too.
  void clear() {
    std::lock_guard lock(mutex_);
    series_.clear();
  }

  const char* type() const override {
    if constexpr (std::is_same_v<Metric, Counter>) {
      return "counter";
    } else if constexpr (std::is_same_v<Metric, Gauge>) {
      return "gauge";
    } else {
      return "histogram";
    }
  }
  const std::vector<double>& bucket_bounds() const { return bucket_bounds_; }

  void render(std::string& out) const override {
    render_header(out);
    std::lock_guard lock(mutex_);
    for (const auto& [values, series] : series_)
      metrics_internal::render_series(out, name(), series.labels, *series.metric);
  }

 private:
  struct Series {
    std::string labels;  // rendered once, at creation
    std::unique_ptr<Metric> metric;
  };
  std::vector<double> bucket_bounds_;  // histograms only
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, Series> series_;  // ordered: a stable exposition
};

// The metrics of one process. Families are never removed, so the references
// it returns live as long as the registry. Every method is thread-safe.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // A family with label names. Registering a name again returns the same
  // family if the type, label names (and bounds) agree; otherwise KAPPA_CHECK
  // fails. Counter names end in _total; names match [a-zA-Z_:][a-zA-Z0-9_:]*,
  // label names [a-zA-Z_][a-zA-Z0-9_]* and do not start with __; a histogram
  // has no label "le".
  MetricFamily<Counter>& counter_family(std::string_view name, std::string_view help,
                                        std::vector<std::string> label_names);
  MetricFamily<Gauge>& gauge_family(std::string_view name, std::string_view help, std::vector<std::string> label_names);
  MetricFamily<Histogram>& histogram_family(std::string_view name, std::string_view help,
                                            std::vector<std::string> label_names, std::vector<double> upper_bounds);

  // A metric without labels: the one series of a family with no label names.
  Counter& counter(std::string_view name, std::string_view help) { return counter_family(name, help, {}).with({}); }
  Gauge& gauge(std::string_view name, std::string_view help) { return gauge_family(name, help, {}).with({}); }
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> upper_bounds) {
    return histogram_family(name, help, {}, std::move(upper_bounds)).with({});
  }

  // A function scrape() calls before rendering, on the scraping thread, to
  // copy values kept elsewhere into this registry's series. It may register
  // families and set series, but not add or remove collectors or scrape.
  using CollectorId = uint64_t;
  CollectorId add_collector(std::function<void()> collect);
  // When this returns, the collector is not running and will not run again,
  // so what it reads may go.
  void remove_collector(CollectorId id);

  // Runs the collectors (one scrape at a time), then renders.
  std::string scrape();
  // Every family in registration order, in the text format 0.0.4.
  std::string render() const;

 private:
  template <class Metric>
  MetricFamily<Metric>& family(std::string_view name, std::string_view help, std::vector<std::string> label_names,
                               std::vector<double> upper_bounds);

  mutable std::mutex mutex_;  // guards families_
  std::vector<std::unique_ptr<metrics_internal::FamilyBase>> families_;
  std::mutex collect_mutex_;  // guards collectors_, held through a scrape's collection
  std::map<CollectorId, std::function<void()>> collectors_;
  CollectorId next_collector_id_ = 1;
};

// The Content-Type of what render() returns.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace kappa
