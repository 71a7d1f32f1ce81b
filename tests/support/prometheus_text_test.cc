#include "tests/support/prometheus_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace kappa::testing {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kValid =
    "# HELP kappa_records_in_total Records read.\n"
    "# TYPE kappa_records_in_total counter\n"
    "kappa_records_in_total 12\n"
    "\n"
    "# a comment\n"
    "# TYPE kappa_lag gauge\n"
    "# HELP kappa_lag Lag with a \\\\ and a\\nnewline.\n"
    "kappa_lag{topic=\"t\",partition=\"0\"} 3 1700000000000\n"
    "kappa_lag{partition=\"1\",topic=\"t\",} -Inf\n"
    "kappa_lag{topic=\"q\\\"\\\\\\n\",partition=\"2\"} 1.5e3\n"
    "# HELP kappa_latency_seconds Latency.\n"
    "# TYPE kappa_latency_seconds histogram\n"
    "kappa_latency_seconds_bucket{stage=\"a\",le=\"0.5\"} 1\n"
    "kappa_latency_seconds_bucket{stage=\"a\",le=\"+Inf\"} 2\n"
    "kappa_latency_seconds_sum{stage=\"a\"} 3.5\n"
    "kappa_latency_seconds_count{stage=\"a\"} 2\n";

TEST(PrometheusTextTest, ReadsSamplesFamiliesAndLabels) {
  Result<PrometheusText> parsed = parse_prometheus_text(kValid);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->samples.size(), 8u);
  EXPECT_EQ(parsed->families.at("kappa_records_in_total").type, "counter");
  EXPECT_EQ(parsed->families.at("kappa_lag").help, "Lag with a \\ and a\nnewline.");
  EXPECT_EQ(parsed->value("kappa_records_in_total"), 12);
  EXPECT_EQ(parsed->value("kappa_lag", {{"topic", "t"}, {"partition", "0"}}), 3);
  EXPECT_EQ(parsed->value("kappa_lag", {{"topic", "t"}, {"partition", "1"}}), -INFINITY);
  EXPECT_EQ(parsed->value("kappa_lag", {{"topic", "q\"\\\n"}, {"partition", "2"}}), 1500);
  EXPECT_EQ(parsed->value("kappa_lag", {{"topic", "t"}}), std::nullopt) << "labels must match exactly";
  EXPECT_EQ(parsed->value("kappa_latency_seconds_bucket", {{"stage", "a"}, {"le", "+Inf"}}), 2);
  EXPECT_EQ(parsed->series("kappa_lag").size(), 3u);
  EXPECT_EQ(parsed->sum("kappa_latency_seconds_count"), 2);
  EXPECT_EQ(parsed->sum("absent"), 0);
}

// Each broken exposition is refused, naming the line and what is wrong.
TEST(PrometheusTextTest, RefusesBrokenExpositions) {
  const std::string counter = "# HELP c_total c\n# TYPE c_total counter\n";
  const std::string histogram = "# HELP h h\n# TYPE h histogram\n";
  const struct {
    std::string text;
    std::string error;
  } cases[] = {
      {"c_total 1\n", "line 1 'c_total 1': no # TYPE line"},
      {"# TYPE c_total counter\nc_total 1\n", "line 2 'c_total 1': no # HELP line"},
      {counter + "# TYPE c_total counter\n", "line 3 '# TYPE c_total counter': a second # TYPE"},
      {counter + "# HELP c_total again\n", "a second # HELP"},
      {"# TYPE c_total countre\n", "'countre' is not a metric type"},
      {counter + "c_total 1\n" + histogram + "h_count 0\nh_sum 0\nh_bucket{le=\"+Inf\"} 0\nc_total{a=\"b\"} 2\n",
       "line 9 'c_total{a=\"b\"} 2': samples of c_total are not together"},
      {counter + "c_total 1\n# HELP c_total late\n", "comes after samples of c_total"},
      {counter + "c_total 1\nc_total 2\n", "line 4 'c_total 2': the same series appears twice"},
      {counter + "c_total -1\n", "a counter is negative"},
      {counter + "c_total NaN\n", "a counter is negative or NaN"},
      {counter + "c_total one\n", "'one' is not a value"},
      {counter + "c_total\n", "no space before the value"},
      {counter + "c_total 1 soon\n", "'soon' is not a timestamp"},
      {counter + "c-total 1\n", "'c-total' is not a metric name"},
      {counter + "c_total{a=\"x\\t\"} 1\n", "unknown escape \\t"},
      {counter + "c_total{a=\"x} 1\n", "no closing quote"},
      {counter + "c_total{a=x} 1\n", "value is not quoted"},
      {counter + "c_total{a=\"x\" b=\"y\"} 1\n", "not separated by ','"},
      {counter + "c_total{a=\"x\",a=\"y\"} 1\n", "label a appears twice"},
      {counter + "c_total{1a=\"x\"} 1\n", "'1a' is not a label name"},
      {histogram + "h_bucket 1\n", "a bucket without an le label"},
      {histogram + "h_bucket{le=\"x\"} 1\n", "le=\"x\" is not a bound"},
      {histogram + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n", "bucket bounds do not increase"},
      {histogram + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n", "bucket counts decrease"},
      {histogram + "h_bucket{le=\"+Inf\"} 2\nh_bucket{le=\"3\"} 2\n", "a bucket after the +Inf bucket"},
      {histogram + "h_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n", "histogram h has no +Inf bucket"},
      {histogram + "h_bucket{le=\"+Inf\"} 2\nh_count 2\n", "histogram h lacks _count or _sum"},
      {histogram + "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "_count differs from the +Inf bucket"},
  };
  for (const auto& [text, error] : cases) {
    Result<PrometheusText> parsed = parse_prometheus_text(text);
    ASSERT_FALSE(parsed.is_ok()) << text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kCorruption);
    EXPECT_THAT(parsed.status().message(), HasSubstr(error)) << text;
  }
}

}  // namespace
}  // namespace kappa::testing
