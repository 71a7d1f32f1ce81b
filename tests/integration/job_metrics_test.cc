// Scrapes a running window_agg's /metrics, /healthz and /readyz (embedded
// broker and real Kafka) and checks the numbers against what the test
// produced and what the job wrote.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "tests/integration/window_agg_runs.h"
#include "tests/support/http_client.h"
#include "tests/support/prometheus_text.h"

namespace kappa::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kEvents = 12'000;
constexpr int kPartitions = 4;

// The port the job logged ("metrics on http://127.0.0.1:PORT/metrics"),
// waiting up to 30 s for the line; 0 if it never came.
int logged_metrics_port(ChildProcess& job) {
  static const std::regex line(R"(metrics on http://127\.0\.0\.1:(\d+)/metrics)");
  for (int i = 0; i < 300; ++i) {
    std::smatch match;
    const std::string output = job.output();
    if (std::regex_search(output, match, line)) return std::stoi(match[1]);
    std::this_thread::sleep_for(100ms);
  }
  return 0;
}

// /metrics, parsed; fails the test on a bad reply.
PrometheusText scrape(int port) {
  Result<HttpReply> reply = http_get(port, "/metrics");
  EXPECT_TRUE(reply.is_ok()) << reply.status().to_string();
  if (!reply.is_ok()) return {};
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->headers["content-type"].rfind("text/plain; version=0.0.4", 0), 0u) << reply->headers["content-type"];
  Result<PrometheusText> text = parse_prometheus_text(reply->body);
  EXPECT_TRUE(text.is_ok()) << text.status().to_string() << "\n" << reply->body;
  return text.is_ok() ? std::move(text).value() : PrometheusText{};
}

class JobMetricsTest : public ::testing::TestWithParam<ClusterKind> {};

TEST_P(JobMetricsTest, CountersAgreeWithWhatWasProducedAndWritten) {
  auto cluster = TestCluster::create(GetParam());
  ASSERT_TRUE(cluster.is_ok()) << cluster.status().to_string();
  const std::string input = unique_topic("events");
  const std::string output = unique_topic("windows");
  ASSERT_TRUE((*cluster)->create_topic(input, kPartitions).is_ok());
  ASSERT_TRUE((*cluster)->create_topic(output, kPartitions).is_ok());
  ASSERT_TRUE((*cluster)->produce(input, make_card_events(21, kEvents, 100)).is_ok());
  char state_dir[] = "/tmp/kappa-metrics-XXXXXX";
  ASSERT_NE(mkdtemp(state_dir), nullptr);

  auto job = spawn_window_agg({"--brokers", (*cluster)->bootstrap(), "--input", input, "--output", output, "--job-id",
                               unique_topic("metrics"), "--from", "earliest", "--state-dir", state_dir,
                               "--checkpoint-interval", "500ms", "--metrics-addr", "127.0.0.1:0"});
  const int port = logged_metrics_port(*job);
  ASSERT_GT(port, 0) << job->output();
  Result<HttpReply> health = http_get(port, "/healthz");
  ASSERT_TRUE(health.is_ok()) << health.status().to_string();
  EXPECT_EQ(health->status, 200);

  // Once every record is in and the output has settled, the counters say so.
  PrometheusText metrics;
  for (int i = 0; i < 600 && metrics.sum("kappa_records_in_total") < kEvents; ++i) {
    std::this_thread::sleep_for(100ms);
    metrics = scrape(port);
  }
  ASSERT_EQ(metrics.value("kappa_records_in_total"), kEvents);
  Result<HttpReply> ready = http_get(port, "/readyz");
  ASSERT_TRUE(ready.is_ok());
  EXPECT_EQ(ready->status, 200) << ready->body;
  int64_t written = -1;
  // records_out counts results as handed to the sink: wait for their delivery ...
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(200ms);
    Result<int64_t> count = (*cluster)->count(output);
    ASSERT_TRUE(count.is_ok());
    metrics = scrape(port);
    written = *count;
    // ... and for a checkpoint (every 500 ms) after them, which updates the
    // metrics once a second.
    if (written > 0 && metrics.value("kappa_records_out_total") == written &&
        metrics.value("kappa_checkpoint_duration_seconds_count").value_or(0) > 0) {
      break;
    }
  }
  EXPECT_EQ(metrics.value("kappa_records_out_total"), written);
  EXPECT_EQ(metrics.value("kappa_records_skipped_total"), 0);
  EXPECT_EQ(metrics.value("kappa_records_dead_lettered_total"), 0);
  EXPECT_EQ(metrics.value("kappa_records_late_total"), 0);

  // Per partition: no lag once all is read, and a watermark within the
  // events' event times (the test's events start at 1,763,700,000 s).
  for (int p = 0; p < kPartitions; ++p) {
    const PrometheusLabels labels{{"topic", input}, {"partition", std::to_string(p)}};
    EXPECT_EQ(metrics.value("kappa_consumer_lag_records", labels), 0) << "partition " << p;
    const std::optional<double> watermark = metrics.value("kappa_watermark_seconds", labels);
    ASSERT_TRUE(watermark.has_value()) << "partition " << p;
    EXPECT_GT(*watermark, 1'763'700'000.0);
    EXPECT_LT(*watermark, 1'763'700'000.0 + kEvents * 0.02);
    EXPECT_GT(metrics.value("kappa_event_time_lag_seconds", labels).value_or(0), 0);
  }
  // Results went out, so latencies were observed; checkpoints were taken.
  EXPECT_GT(metrics.value("kappa_end_to_end_latency_seconds_count").value_or(0), 0);
  EXPECT_GT(metrics.value("kappa_checkpoint_duration_seconds_count").value_or(0), 0);
  EXPECT_GT(metrics.value("kappa_checkpoint_size_bytes").value_or(0), 0);
  EXPECT_GT(metrics.value("kappa_state_entries").value_or(0), 0);

  job->signal(SIGTERM);
  std::optional<int> code = job->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << job->output();
  std::filesystem::remove_all(state_dir);
}

INSTANTIATE_TEST_SUITE_P(Embedded, JobMetricsTest, ::testing::Values(ClusterKind::kEmbedded));
INSTANTIATE_TEST_SUITE_P(Real, JobMetricsTest, ::testing::Values(ClusterKind::kReal));

}  // namespace
}  // namespace kappa::testing
