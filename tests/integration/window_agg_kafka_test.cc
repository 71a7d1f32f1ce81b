// Runs window_agg over a Kafka topic (embedded broker, and the real Kafka of
// the ctest fixture), with one and with two worker threads, and over a file
// holding the same events, and checks that every window a Kafka run emitted
// is identical to the file run's (one code path for live topics and for
// archives) and that both thread counts emit the same windows. The events are keyed by card, so
// each card's events sit in one partition, in order; the out-of-orderness is
// larger than the disorder, so no event is late in either run and per-
// partition watermarks cannot change a result.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "tests/integration/window_agg_runs.h"

namespace kappa::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kEvents = 30'000;
constexpr int kCards = 300;

class WindowAggKafkaTest : public ::testing::TestWithParam<ClusterKind> {};

TEST_P(WindowAggKafkaTest, TopicRunGivesTheFileRunsWindows) {
  const auto events = make_card_events(7, kEvents, kCards);
  char dir_template[] = "/tmp/window-agg-kafka-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  {
    std::ofstream input(dir + "/events.jsonl");
    for (const auto& [key, value] : events) input << value << "\n";
  }
  auto file_run = spawn_window_agg({"--input", "file:" + dir + "/events.jsonl", "--output", "file:" + dir + "/out.jsonl"});
  std::optional<int> file_code = file_run->wait(120s);
  ASSERT_TRUE(file_code.has_value());
  ASSERT_EQ(*file_code, 0) << file_run->output();
  std::vector<std::string> file_lines;
  {
    std::ifstream output(dir + "/out.jsonl");
    for (std::string line; std::getline(output, line);) file_lines.push_back(line);
  }
  const auto expected = by_window(file_lines);
  ASSERT_GT(expected.size(), 1000u);

  auto cluster = TestCluster::create(GetParam());
  ASSERT_TRUE(cluster.is_ok()) << cluster.status().to_string();
  const std::string input = unique_topic("events");
  ASSERT_TRUE((*cluster)->create_topic(input, 4).is_ok());
  ASSERT_TRUE((*cluster)->produce(input, events).is_ok());

  // Once with one worker thread and once with two: the results may not
  // depend on how the partitions' tasks share threads.
  std::map<int, std::map<std::string, std::string>> by_threads;
  for (int threads : {1, 2}) {
    SCOPED_TRACE("--threads " + std::to_string(threads));
    const std::string output = unique_topic("windows");
    ASSERT_TRUE((*cluster)->create_topic(output, 4).is_ok());
    auto topic_run = spawn_window_agg({"--brokers", (*cluster)->bootstrap(), "--input", input, "--output", output,
                                       "--job-id", unique_topic("window-agg"), "--from", "earliest",
                                       "--checkpoint-interval", "1s", "--threads", std::to_string(threads)});
    // The topic never ends, so the last windows of each partition stay open.
    stop_when_settled(**cluster, output, *topic_run);
    if (HasFatalFailure()) return;

    const auto actual = read_windows(**cluster, output);
    // Most windows fired; each one exactly as in the file run.
    EXPECT_GT(actual.size(), expected.size() * 9 / 10);
    for (const auto& [id, line] : actual) {
      auto it = expected.find(id);
      ASSERT_NE(it, expected.end()) << "a window the file run did not emit: " << line;
      EXPECT_EQ(line, it->second);
    }
    by_threads[threads] = actual;
  }
  // Each partition's watermark depends on its records alone, so both runs
  // leave the same windows open and emit the same ones.
  EXPECT_TRUE(by_threads[1] == by_threads[2]) << by_threads[1].size() << " vs " << by_threads[2].size()
                                              << " windows";
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Embedded, WindowAggKafkaTest, ::testing::Values(ClusterKind::kEmbedded));
INSTANTIATE_TEST_SUITE_P(Real, WindowAggKafkaTest, ::testing::Values(ClusterKind::kReal));

}  // namespace
}  // namespace kappa::testing
