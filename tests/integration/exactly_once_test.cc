// Exactly-once output on real Kafka (--exactly-once, DESIGN.md §5):
// window_agg reads 200k keyed events from a 4-partition topic while they are
// being produced, writes tumbling windows to a topic in transactions, and is
// killed again and again: at the two kill points around the transaction's
// commit (a checkpoint whose transaction never committed, and one whose
// transaction committed but was not marked so) and with SIGKILL at random
// moments, restarted each time with the same --job-id and --state-dir, and
// finally run until the group's committed offsets reach the end of the
// input. A read_committed consumer of the output must then see exactly the
// windows of an uninterrupted run over a file of the same events: none
// twice, none missing, none different. (The embedded broker cannot run
// this: it ignores isolation.level.)
//
// A last event per partition, far in the future, makes every real window
// of the partition fire; its own window stays open and is not compared.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "tests/integration/window_agg_runs.h"

namespace kappa::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kEvents = 200'000;
constexpr int kCards = 2'000;
constexpr int kPartitions = 4;
// The input is produced in chunks at a steady pace, the last fifth only
// once the kills are over, so that every kill meets a job in the middle of
// a live stream.
constexpr int kChunk = 1'000;
constexpr auto kChunkPause = 250ms;
constexpr int kHeldBack = kEvents / 5;
constexpr int64_t kStartTime = 1'763'700'000'000;
constexpr int64_t kFarFuture = kStartTime + 86'400'000;
const std::string kEndCard = "end-of-input-";
// The runner's points around the transaction's commit (runtime/job_runner.cc).
const std::vector<std::string> kKillPoints = {"before_transaction_commit", "after_transaction_commit"};

using Events = std::vector<std::pair<std::string, std::string>>;  // (Kafka key, JSON value)

std::string event_json(const std::string& card, int64_t ts, int amount) {
  return "{\"card\":\"" + card + "\",\"ts\":" + std::to_string(ts) + ",\"amount\":" + std::to_string(amount) + "}";
}

// Keyed by card, time roughly increasing with up to 2 s of disorder
// (within the 5 s out-of-orderness, so nothing is late in either run).
Events make_events() {
  std::mt19937_64 rng(4);
  Events events;
  int64_t clock = kStartTime;
  for (int i = 0; i < kEvents; ++i) {
    clock += static_cast<int64_t>(rng() % 3);
    const std::string card = "c" + std::to_string(rng() % kCards);
    events.emplace_back(card,
                        event_json(card, clock - static_cast<int64_t>(rng() % 2000), static_cast<int>(rng() % 500)));
  }
  return events;
}

std::unique_ptr<ChildProcess> spawn(const std::vector<std::string>& args) {
  std::vector<std::string> more{"--out-of-orderness", "5s"};
  more.insert(more.end(), args.begin(), args.end());
  return spawn_job(window_agg_command("tumbling:5s", "count,sum,max", more));
}

// The window a result line is for: {"card":"...","window_start":N
std::string window_id(const std::string& line) { return line.substr(0, line.find(",\"window_end\"")); }

bool is_end_window(const std::string& line) { return line.find("\"card\":\"" + kEndCard) != std::string::npos; }

// The group's committed next offset of each partition of `topic` (-1: none).
Result<std::vector<int64_t>> committed_offsets(const std::string& bootstrap, const std::string& group,
                                               const std::string& topic) {
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kConsumer, {bootstrap, {}},
                                                         {{"group.id", group}, {"enable.auto.commit", "false"}}));
  KAPPA_ASSIGN_OR_RETURN(KafkaHandle consumer, make_kafka_client(KafkaRole::kConsumer, std::move(conf)));
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(kPartitions));
  for (int p = 0; p < kPartitions; ++p) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  const rd_kafka_resp_err_t err = rd_kafka_committed(consumer.get(), list.get(), 10'000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::unavailable(kafka_error_text(err));
  std::vector<int64_t> offsets;
  for (int p = 0; p < kPartitions; ++p) offsets.push_back(list->elems[p].offset);
  return offsets;
}

struct Count {
  std::size_t duplicates = 0;  // results of a window beyond its first
  std::size_t missing = 0;
  std::size_t different = 0;  // windows whose result is not the reference's
};

Count compare(const std::map<std::string, std::string>& expected, const std::vector<ConsumedRecord>& records) {
  Count count;
  std::map<std::string, int> seen;
  for (const ConsumedRecord& r : records) {
    if (is_end_window(r.value)) continue;
    const std::string id = window_id(r.value);
    if (seen[id]++ > 0) ++count.duplicates;
    auto it = expected.find(id);
    if (it == expected.end() || it->second != r.value) ++count.different;
  }
  for (const auto& [id, line] : expected) count.missing += seen.count(id) == 0 ? 1 : 0;
  return count;
}

TEST(ExactlyOnceTest, KilledAndRestartedReadCommittedSeesEveryWindowOnce) {
  const Events events = make_events();
  Events ends;
  for (int p = 0; p < kPartitions; ++p) {
    const std::string card = kEndCard + std::to_string(p);
    ends.emplace_back(card, event_json(card, kFarFuture, 0));
  }
  char dir_template[] = "/tmp/kappa-exactly-once-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;

  // The reference: an uninterrupted run over a file of the same events.
  {
    std::ofstream input(dir + "/events.jsonl");
    for (const auto& [key, value] : events) input << value << "\n";
    for (const auto& [key, value] : ends) input << value << "\n";
  }
  auto reference = spawn({"--input", "file:" + dir + "/events.jsonl", "--output", "file:" + dir + "/reference.jsonl"});
  std::optional<int> code = reference->wait(300s);
  ASSERT_TRUE(code.has_value());
  ASSERT_EQ(*code, 0) << reference->output_tail(20);
  std::map<std::string, std::string> expected;
  {
    std::ifstream in(dir + "/reference.jsonl");
    for (std::string line; std::getline(in, line);) {
      if (is_end_window(line)) continue;
      ASSERT_TRUE(expected.emplace(window_id(line), line).second) << "a window emitted twice: " << line;
    }
  }
  ASSERT_GT(expected.size(), 50'000u);

  auto cluster = TestCluster::create(ClusterKind::kReal);
  ASSERT_TRUE(cluster.is_ok()) << cluster.status().to_string();
  const std::string input = unique_topic("eo-events");
  const std::string output = unique_topic("eo-windows");
  const std::string job_id = unique_topic("eo-job");
  ASSERT_TRUE((*cluster)->create_topic(input, kPartitions).is_ok());
  ASSERT_TRUE((*cluster)->create_topic(output, kPartitions).is_ok());

  // The live input: chunks at a steady pace, then the end events.
  std::atomic<bool> release{false};  // the held-back chunks may go
  std::atomic<bool> produced{false};
  Status production = Status::ok();
  std::thread producer([&] {
    for (std::size_t i = 0; i < events.size() && production.is_ok(); i += kChunk) {
      while (i >= events.size() - kHeldBack && !release) std::this_thread::sleep_for(10ms);
      const Events chunk(events.begin() + static_cast<std::ptrdiff_t>(i),
                         events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), i + kChunk)));
      production = (*cluster)->produce(input, chunk);
      std::this_thread::sleep_for(kChunkPause);
    }
    for (int p = 0; p < kPartitions && production.is_ok(); ++p) {
      production = (*cluster)->produce_to(input, p, {ends[static_cast<std::size_t>(p)]});
    }
    produced = true;
  });
  struct JoinOnExit {
    std::thread& thread;
    std::atomic<bool>& release;
    ~JoinOnExit() {
      release = true;
      thread.join();
    }
  } join_producer{producer, release};

  const std::string state = dir + "/state";
  const std::vector<std::string> job_args{"--brokers", (*cluster)->bootstrap(), "--input", input, "--output", output,
                                          "--job-id", job_id, "--from", "earliest", "--exactly-once", "--state-dir",
                                          state, "--checkpoint-interval", "200ms",
                                          // A killed member leaves the group when its session ends.
                                          "-X", "consumer.session.timeout.ms=6000"};
  std::mt19937 rng(11);
  int restarts = 0;
  // At each kill point around the transaction's commit, at its first to
  // third passage, twice.
  for (int round = 0; round < 2; ++round) {
    for (const std::string& point : kKillPoints) {
      const std::string spec = point + ":" + std::to_string(1 + rng() % 3);
      SCOPED_TRACE("KAPPA_KILL_POINT=" + spec);
      setenv("KAPPA_KILL_POINT", spec.c_str(), 1);
      auto job = spawn(job_args);
      unsetenv("KAPPA_KILL_POINT");
      code = job->wait(120s);
      ASSERT_TRUE(code.has_value()) << "the kill point was not reached: " << job->output_tail(20);
      ASSERT_EQ(*code, 137) << job->output_tail(20);
      EXPECT_NE(job->output().find("kill point " + point + " reached"), std::string::npos);
      ++restarts;
    }
  }
  // Then SIGKILL at random moments once the job has its partitions.
  for (int i = 0; i < 6; ++i) {
    auto job = spawn(job_args);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (job->running() && job->output().find("assigned ") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(job->running()) << job->output_tail(20);
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 1500));
    job->signal(SIGKILL);
    code = job->wait(60s);
    ASSERT_TRUE(code.has_value());
    ASSERT_EQ(*code, -SIGKILL) << job->output_tail(20);
    ++restarts;
  }
  release = true;

  // The last run: until the group's committed offsets (carried by the
  // transactions) reach the end of the input, then SIGTERM.
  auto last = spawn(job_args);
  const auto deadline = std::chrono::steady_clock::now() + 300s;
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(500ms);
    ASSERT_TRUE(last->running()) << last->output_tail(20);
    if (!produced) continue;
    ASSERT_TRUE(production.is_ok()) << production.to_string();
    Result<std::vector<int64_t>> committed = committed_offsets((*cluster)->bootstrap(), job_id, input);
    if (!committed.is_ok()) continue;
    Result<int64_t> total = (*cluster)->count(input);
    ASSERT_TRUE(total.is_ok());
    int64_t sum = 0;
    for (int64_t offset : *committed) sum += std::max<int64_t>(offset, 0);
    done = sum == *total;
  }
  ASSERT_TRUE(done) << "the group's offsets did not reach the end of the input: " << last->output_tail(20);
  Result<int> stopped = last->terminate(60s);
  ASSERT_TRUE(stopped.is_ok()) << stopped.status().to_string();
  EXPECT_EQ(*stopped, 0) << last->output_tail(20);
  EXPECT_NE(last->output().find("state restored from checkpoint"), std::string::npos) << last->output_tail(20);

  Result<std::vector<ConsumedRecord>> committed = (*cluster)->read_all(output, Isolation::kReadCommitted);
  ASSERT_TRUE(committed.is_ok()) << committed.status().to_string();
  const Count exact = compare(expected, *committed);
  EXPECT_EQ(exact.duplicates, 0u) << "windows a read_committed consumer saw twice";
  EXPECT_EQ(exact.missing, 0u);
  EXPECT_EQ(exact.different, 0u) << "windows with a value the uninterrupted run did not give";

  Result<std::vector<ConsumedRecord>> everything = (*cluster)->read_all(output, Isolation::kReadUncommitted);
  ASSERT_TRUE(everything.is_ok()) << everything.status().to_string();
  const Count loose = compare(expected, *everything);
  std::printf(
      "exactly-once: %d restarts, %zu windows; read_committed: %zu records, %zu duplicates; "
      "read_uncommitted: %zu records, %zu duplicates (aborted transactions)\n",
      restarts, expected.size(), committed->size(), exact.duplicates, everything->size(), loose.duplicates);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kappa::testing
