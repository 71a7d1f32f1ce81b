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
#include <random>
#include <set>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/test_cluster.h"

namespace kappa::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kEvents = 30'000;
constexpr int kCards = 300;

std::vector<std::pair<std::string, std::string>> make_events() {
  std::mt19937_64 rng(7);
  std::vector<std::pair<std::string, std::string>> events;
  int64_t clock = 1'763'700'000'000;
  for (int i = 0; i < kEvents; ++i) {
    clock += static_cast<int64_t>(rng() % 20);
    const int64_t ts = clock - static_cast<int64_t>(rng() % 2000);  // disorder < 2 s
    const std::string card = "card-" + std::to_string(rng() % kCards);
    events.emplace_back(card, "{\"card\":\"" + card + "\",\"ts\":" + std::to_string(ts) + ",\"amount\":" +
                                  std::to_string(rng() % 500) + ",\"merchant\":\"m" + std::to_string(rng() % 40) +
                                  "\"}");
  }
  return events;
}

std::unique_ptr<ChildProcess> spawn_window_agg(const std::vector<std::string>& args) {
  std::vector<std::string> argv{KAPPA_WINDOW_AGG_PATH,
                                "--key", "card", "--time", "ts", "--value", "amount",
                                "--window", "hopping:10s/5s",
                                "--agg", "count,sum,mean,min,max,distinct:merchant",
                                "--out-of-orderness", "5s"};
  argv.insert(argv.end(), args.begin(), args.end());
  Result<std::unique_ptr<ChildProcess>> job = ChildProcess::spawn(argv);
  if (!job.is_ok()) throw std::runtime_error(job.status().to_string());
  return std::move(job).value();
}

// window_agg's output lines by (card, window_start): its fields are written
// in a fixed order, so equal results are equal lines.
std::map<std::string, std::string> by_window(const std::vector<std::string>& lines) {
  std::map<std::string, std::string> results;
  for (const std::string& line : lines) {
    const auto card_end = line.find("\",\"window_start\":");
    const auto start_end = line.find(",\"window_end\"");
    EXPECT_NE(card_end, std::string::npos) << line;
    EXPECT_NE(start_end, std::string::npos) << line;
    const std::string id = line.substr(0, start_end);  // {"card":"...","window_start":N
    EXPECT_TRUE(results.emplace(id, line).second) << "window emitted twice: " << line;
  }
  return results;
}

class WindowAggKafkaTest : public ::testing::TestWithParam<ClusterKind> {};

TEST_P(WindowAggKafkaTest, TopicRunGivesTheFileRunsWindows) {
  const auto events = make_events();
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
    // The topic never ends, so the last windows of each partition stay open:
    // wait until the output stops growing, then stop the job.
    int64_t last_count = -1;
    for (int stable = 0; stable < 3;) {
      std::this_thread::sleep_for(1s);
      Result<int64_t> count = (*cluster)->count(output);
      ASSERT_TRUE(count.is_ok());
      stable = (*count == last_count && *count > 0) ? stable + 1 : 0;
      last_count = *count;
      ASSERT_TRUE(topic_run->running()) << topic_run->output();
    }
    topic_run->signal(SIGTERM);
    std::optional<int> topic_code = topic_run->wait(60s);
    ASSERT_TRUE(topic_code.has_value());
    EXPECT_EQ(*topic_code, 0) << topic_run->output();

    Result<int64_t> written = (*cluster)->count(output);
    ASSERT_TRUE(written.is_ok()) << written.status().to_string();
    auto records = (*cluster)->read_all(output);
    ASSERT_TRUE(records.is_ok()) << records.status().to_string();
    ASSERT_EQ(static_cast<int64_t>(records->size()), *written) << "every record written to " << output << " is read back";
    std::vector<std::string> topic_lines;
    for (const ConsumedRecord& r : *records) {
      topic_lines.push_back(r.value);
      EXPECT_EQ(r.value.find("{\"card\":\"" + r.key + "\""), 0u) << "the record key is the card: " << r.value;
    }
    const auto actual = by_window(topic_lines);
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
