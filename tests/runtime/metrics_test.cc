#include "runtime/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "tests/support/prometheus_text.h"

namespace kappa {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, RendersEachTypeInTheTextFormat) {
  MetricsRegistry registry;
  registry.counter("kappa_records_in_total", "Records read from the inputs.").add(3);
  registry.gauge("kappa_up", "1 while the job runs.").set(1);
  MetricFamily<Gauge>& lag = registry.gauge_family("kappa_consumer_lag_records", "Records behind the partition's end.",
                                                   {"topic", "partition"});
  lag.with({"orders", "3"}).set(42);
  lag.with({"orders", "10"}).set(7);
  Histogram& latency = registry.histogram("kappa_end_to_end_latency_seconds", "From event to output.", {0.1, 1});
  latency.observe(0.0625);
  latency.observe(0.5);
  latency.observe(2.5);

  EXPECT_EQ(registry.render(),
            "# HELP kappa_records_in_total Records read from the inputs.\n"
            "# TYPE kappa_records_in_total counter\n"
            "kappa_records_in_total 3\n"
            "# HELP kappa_up 1 while the job runs.\n"
            "# TYPE kappa_up gauge\n"
            "kappa_up 1\n"
            "# HELP kappa_consumer_lag_records Records behind the partition's end.\n"
            "# TYPE kappa_consumer_lag_records gauge\n"
            "kappa_consumer_lag_records{topic=\"orders\",partition=\"10\"} 7\n"
            "kappa_consumer_lag_records{topic=\"orders\",partition=\"3\"} 42\n"
            "# HELP kappa_end_to_end_latency_seconds From event to output.\n"
            "# TYPE kappa_end_to_end_latency_seconds histogram\n"
            "kappa_end_to_end_latency_seconds_bucket{le=\"0.1\"} 1\n"
            "kappa_end_to_end_latency_seconds_bucket{le=\"1\"} 2\n"
            "kappa_end_to_end_latency_seconds_bucket{le=\"+Inf\"} 3\n"
            "kappa_end_to_end_latency_seconds_sum 3.0625\n"
            "kappa_end_to_end_latency_seconds_count 3\n");
}

TEST(MetricsTest, HistogramWithLabelsPutsLeLast) {
  MetricsRegistry registry;
  registry.histogram_family("kappa_checkpoint_duration_seconds", "Checkpoint time.", {"stage"}, {1}).with({"flush"});
  EXPECT_THAT(registry.render(), HasSubstr("kappa_checkpoint_duration_seconds_bucket{stage=\"flush\",le=\"1\"} 0\n"
                                           "kappa_checkpoint_duration_seconds_bucket{stage=\"flush\",le=\"+Inf\"} 0\n"
                                           "kappa_checkpoint_duration_seconds_sum{stage=\"flush\"} 0\n"
                                           "kappa_checkpoint_duration_seconds_count{stage=\"flush\"} 0\n"));
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  registry.gauge_family("kappa_g", "A \\ help\nover two lines \"quoted\".", {"topic"}).with({"a\\b\"c\"\nd"}).set(1);
  EXPECT_EQ(registry.render(),
            "# HELP kappa_g A \\\\ help\\nover two lines \"quoted\".\n"
            "# TYPE kappa_g gauge\n"
            "kappa_g{topic=\"a\\\\b\\\"c\\\"\\nd\"} 1\n");

  Result<testing::PrometheusText> parsed = testing::parse_prometheus_text(registry.render());
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->value("kappa_g", {{"topic", "a\\b\"c\"\nd"}}), 1);
  EXPECT_EQ(parsed->families.at("kappa_g").help, "A \\ help\nover two lines \"quoted\".");
}

TEST(MetricsTest, FormatsValuesAsPrometheusReadsThem) {
  MetricsRegistry registry;
  MetricFamily<Gauge>& gauge = registry.gauge_family("kappa_g", "g", {"case"});
  gauge.with({"fraction"}).set(0.25);
  gauge.with({"huge"}).set(1e20);
  gauge.with({"negative"}).set(-3);
  gauge.with({"minus_infinity"}).set(-INFINITY);
  gauge.with({"nan"}).set(NAN);
  registry.counter("kappa_c_total", "c").add(18'446'744'073'709'551'615ULL);  // exact, not a double

  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("kappa_g{case=\"fraction\"} 0.25\n"));
  EXPECT_THAT(text, HasSubstr("kappa_g{case=\"huge\"} 1e+20\n"));
  EXPECT_THAT(text, HasSubstr("kappa_g{case=\"negative\"} -3\n"));
  EXPECT_THAT(text, HasSubstr("kappa_g{case=\"minus_infinity\"} -Inf\n"));
  EXPECT_THAT(text, HasSubstr("kappa_g{case=\"nan\"} NaN\n"));
  EXPECT_THAT(text, HasSubstr("kappa_c_total 18446744073709551615\n"));
  EXPECT_TRUE(testing::parse_prometheus_text(text).is_ok());
}

TEST(MetricsTest, HistogramBucketsIncludeTheirUpperBoundAndIgnoreNaN) {
  Histogram histogram({1, 2, 4});
  for (double value : {0.0, 1.0, 1.5, 2.0, 4.0, 4.5, -1.0, std::nan("")}) histogram.observe(value);
  const Histogram::Snapshot snapshot = histogram.snapshot();
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(3, 5, 6, 7));  // le 1: 0, 1, -1; le 2: 1.5, 2; le 4: 4; +Inf
  EXPECT_EQ(snapshot.count(), 7u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 12.0);
}

TEST(MetricsTest, ExponentialBuckets) {
  EXPECT_THAT(exponential_buckets(0.001, 10, 4), ElementsAre(0.001, 0.01, 0.1, 1.0));
  EXPECT_THAT(exponential_buckets(1, 2, 1), ElementsAre(1.0));
}

TEST(MetricsTest, RemovingALabelSetDropsOnlyThatSeries) {
  MetricsRegistry registry;
  MetricFamily<Gauge>& watermark = registry.gauge_family("kappa_watermark_seconds", "w", {"topic", "partition"});
  watermark.with({"t", "0"}).set(10);
  watermark.with({"t", "1"}).set(11);
  watermark.remove({"t", "0"});
  watermark.remove({"t", "7"});  // never there: nothing happens
  EXPECT_THAT(registry.render(), Not(HasSubstr("partition=\"0\"")));
  EXPECT_THAT(registry.render(), HasSubstr("kappa_watermark_seconds{topic=\"t\",partition=\"1\"} 11\n"));

  watermark.with({"t", "0"}).add(1);  // a partition assigned again starts afresh
  EXPECT_THAT(registry.render(), HasSubstr("kappa_watermark_seconds{topic=\"t\",partition=\"0\"} 1\n"));

  watermark.clear();
  EXPECT_EQ(registry.render(), "# HELP kappa_watermark_seconds w\n# TYPE kappa_watermark_seconds gauge\n");
}

TEST(MetricsTest, SameNameAndLabelsGiveTheSameSeries) {
  MetricsRegistry registry;
  Counter& first = registry.counter("kappa_records_out_total", "Records written.");
  Counter& again = registry.counter("kappa_records_out_total", "Records written.");
  EXPECT_EQ(&first, &again);
  MetricFamily<Gauge>& family = registry.gauge_family("kappa_lag", "l", {"partition"});
  EXPECT_EQ(&family.with({"1"}), &registry.gauge_family("kappa_lag", "l", {"partition"}).with({"1"}));
  EXPECT_NE(&family.with({"1"}), &family.with({"2"}));
}

TEST(MetricsTest, CollectorsRunAtScrapeNotAtRender) {
  MetricsRegistry registry;
  Counter& in = registry.counter("kappa_records_in_total", "in");
  MetricFamily<Gauge>& lag = registry.gauge_family("kappa_consumer_lag_records", "lag", {"partition"});
  uint64_t runner_total = 5;
  std::vector<std::pair<std::string, double>> partitions = {{"0", 3}, {"1", 4}};
  int calls = 0;
  const MetricsRegistry::CollectorId id = registry.add_collector([&] {
    ++calls;
    in.set(runner_total);
    lag.clear();  // a revoked partition leaves the snapshot, and so the exposition
    for (const auto& [partition, value] : partitions) lag.with({partition}).set(value);
  });

  EXPECT_THAT(registry.render(), HasSubstr("kappa_records_in_total 0\n"));
  EXPECT_EQ(calls, 0);
  EXPECT_THAT(registry.scrape(), HasSubstr("kappa_records_in_total 5\n"));
  EXPECT_EQ(calls, 1);

  runner_total = 9;
  partitions = {{"1", 2}};
  const std::string text = registry.scrape();
  EXPECT_THAT(text, HasSubstr("kappa_records_in_total 9\n"));
  EXPECT_THAT(text, HasSubstr("kappa_consumer_lag_records{partition=\"1\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("partition=\"0\"")));

  registry.remove_collector(id);
  runner_total = 100;
  EXPECT_THAT(registry.scrape(), HasSubstr("kappa_records_in_total 9\n"));
  EXPECT_EQ(calls, 2);
}

// Many task threads add and observe while another thread scrapes and the
// coordinator adds and removes series: every update is counted, and every
// scrape is a valid exposition.
TEST(MetricsTest, ConcurrentUpdatesAreAllCountedWhileScraping) {
  MetricsRegistry registry;
  Counter& records = registry.counter("kappa_records_in_total", "in");
  Histogram& latency = registry.histogram("kappa_latency_seconds", "l", {0.5, 1.5});
  MetricFamily<Gauge>& lag = registry.gauge_family("kappa_lag", "l", {"partition"});
  constexpr int kThreads = 4;
  constexpr int kIterations = 20'000;
  std::atomic<bool> done{false};
  std::atomic<int> bad_scrapes{0};
  std::thread scraper([&] {
    while (!done.load()) {
      if (!testing::parse_prometheus_text(registry.scrape()).is_ok()) bad_scrapes.fetch_add(1);
    }
  });
  std::thread coordinator([&] {
    for (int i = 0; !done.load(); ++i) {
      lag.with({std::to_string(i % 8)}).set(i);
      lag.remove({std::to_string((i + 4) % 8)});
    }
  });
  std::vector<std::thread> tasks;
  for (int t = 0; t < kThreads; ++t) {
    tasks.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        records.add(2);
        latency.observe(t % 2 == 0 ? 1.0 : 2.0);
      }
    });
  }
  for (std::thread& task : tasks) task.join();
  done = true;
  scraper.join();
  coordinator.join();

  EXPECT_EQ(bad_scrapes.load(), 0);
  EXPECT_EQ(records.value(), uint64_t{2} * kThreads * kIterations);
  const Histogram::Snapshot snapshot = latency.snapshot();
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(0, 2 * kIterations, 4 * kIterations));
  EXPECT_DOUBLE_EQ(snapshot.sum, 2.0 * kIterations * 1.0 + 2.0 * kIterations * 2.0);
}

TEST(MetricsDeathTest, MalformedNamesAreBugs) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  MetricsRegistry registry;
  EXPECT_DEATH(registry.counter("kappa_records_in", "no _total"), "ends in _total");
  EXPECT_DEATH(registry.gauge("kappa-up", "a dash"), "matches \\[a-zA-Z_:\\]");
  EXPECT_DEATH(registry.gauge_family("kappa_g", "g", {"__reserved"}), "label '__reserved'");
  EXPECT_DEATH(registry.gauge_family("kappa_g", "g", {"topic", "topic"}), "named twice");
  EXPECT_DEATH(registry.histogram_family("kappa_h", "h", {"le"}, {1}), "'le' is the bucket label");
  EXPECT_DEATH(registry.histogram("kappa_h", "h", {2, 1}), "strictly increase");
  EXPECT_DEATH(registry.histogram("kappa_h", "h", {1, INFINITY}), "finite");
  registry.gauge("kappa_up", "up");
  EXPECT_DEATH(registry.counter_family("kappa_up", "up", {}), "registered twice");
  EXPECT_DEATH(registry.gauge_family("kappa_up", "up", {"topic"}), "registered twice");
  EXPECT_DEATH(registry.gauge_family("kappa_lag", "l", {"topic", "partition"}).with({"t"}),
               "takes 2 label values, not 1");
}

}  // namespace
}  // namespace kappa
