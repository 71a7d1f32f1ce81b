// Bounded replays (--until) of window_agg over Kafka, on the embedded broker
// and on the real Kafka of the ctest fixture:
//   - a replay started while records keep arriving pins its ends, stops
//     there and exits 0;
//   - a live run with the replay's --job-id and --state-dir hands over: it
//     continues where the replay stopped, so together they read every record
//     once and emit exactly the windows of one uninterrupted live run;
//   - a replay from earliest emits exactly the windows the live run emitted
//     while the records were being produced;
//   - (real Kafka) a topic whose last offsets are transaction markers ends
//     where its records end.
// Each partition's watermark depends on its own records only, so a replay
// and a live run leave the same windows open whatever their timing.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "runtime/iso_time.h"
#include "tests/integration/window_agg_runs.h"

namespace kappa::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kCards = 200;
constexpr int kPartitions = 4;

class ReplayTest : public ::testing::TestWithParam<ClusterKind> {
 protected:
  void SetUp() override {
    auto cluster = TestCluster::create(GetParam());
    ASSERT_TRUE(cluster.is_ok()) << cluster.status().to_string();
    cluster_ = std::move(cluster).value();
    char dir_template[] = "/tmp/kappa-replay-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string new_topic(const std::string& prefix) {
    const std::string topic = unique_topic(prefix);
    EXPECT_TRUE(cluster_->create_topic(topic, kPartitions).is_ok());
    return topic;
  }

  std::vector<std::string> job_args(const std::string& input, const std::string& output, const std::string& job_id,
                                    std::vector<std::string> more) {
    std::vector<std::string> args{"--brokers",
                                  cluster_->bootstrap(),
                                  "--input",
                                  input,
                                  "--output",
                                  output,
                                  "--job-id",
                                  job_id,
                                  "--threads",
                                  "2",
                                  "--checkpoint-interval",
                                  "1s",
                                  "--metrics-addr",
                                  "off"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  std::unique_ptr<TestCluster> cluster_;
  std::string dir_;
};

// Expects the bounded replay `job` to exit 0 by itself; returns the records it read.
int64_t expect_replay_ends(ChildProcess& job) {
  std::optional<int> code = job.wait(120s);
  EXPECT_TRUE(code.has_value()) << "the replay did not end within 120 s:\n" << job.output_tail(30);
  if (!code) return -1;
  EXPECT_EQ(*code, 0) << job.output();
  return records_in(job.output());
}

TEST_P(ReplayTest, ReplayStopsAtItsPinnedEndAndHandsOverToTheLiveRun) {
  const auto events = make_card_events(11, 40'000, kCards);
  const std::vector<std::pair<std::string, std::string>> first(events.begin(), events.begin() + 20'000);
  const std::vector<std::pair<std::string, std::string>> second(events.begin() + 20'000, events.end());
  const std::string input = new_topic("events");
  ASSERT_TRUE(cluster_->produce(input, first).is_ok());

  // The live run starts before the rest is produced and reads it as it comes.
  const std::string live_output = new_topic("live");
  auto live = spawn_window_agg(job_args(input, live_output, unique_topic("live"), {"--from", "earliest"}));
  std::atomic<bool> producing{true};
  std::thread producer([&] {
    for (std::size_t i = 0; i < second.size(); i += 500) {
      const std::vector<std::pair<std::string, std::string>> slice(second.begin() + i,
                                                                   second.begin() + std::min(second.size(), i + 500));
      EXPECT_TRUE(cluster_->produce(input, slice).is_ok());
      std::this_thread::sleep_for(100ms);
    }
    producing = false;
  });

  // A replay that starts while records keep arriving stops where the topic
  // ended when it started...
  const std::string job_id = unique_topic("backfill");
  const std::string state_dir = dir_ + "/state";
  const std::string replay_output = new_topic("replay");
  auto replay = spawn_window_agg(
      job_args(input, replay_output, job_id, {"--from", "earliest", "--until", "latest", "--state-dir", state_dir}));
  const int64_t replayed = expect_replay_ends(*replay);
  EXPECT_GE(replayed, 20'000);
  EXPECT_LT(replayed, 40'000) << "the replay went on past its pinned end (or started after production ended)";
  EXPECT_TRUE(producing) << "production ended before the replay did: it did not run while records arrived";

  // ... and a live run with its job id and state continues from there.
  const std::string handover_output = new_topic("handover");
  auto handover = spawn_window_agg(job_args(input, handover_output, job_id, {"--state-dir", state_dir}));
  producer.join();
  stop_when_settled(*cluster_, handover_output, *handover);
  stop_when_settled(*cluster_, live_output, *live);
  if (HasFatalFailure()) return;

  EXPECT_EQ(replayed + records_in(handover->output()), 40'000) << "together they read every record once";
  EXPECT_EQ(records_in(live->output()), 40'000);
  const auto live_windows = read_windows(*cluster_, live_output);
  const auto replay_windows = read_windows(*cluster_, replay_output);
  const auto handover_windows = read_windows(*cluster_, handover_output);
  ASSERT_GT(live_windows.size(), 5'000u);
  EXPECT_GT(replay_windows.size(), 0u);
  EXPECT_GT(handover_windows.size(), 0u);
  std::map<std::string, std::string> together = replay_windows;
  for (const auto& [id, line] : handover_windows) {
    EXPECT_TRUE(together.emplace(id, line).second) << "emitted by the replay and again after the hand-over: " << line;
  }
  EXPECT_TRUE(together == live_windows) << together.size() << " windows from replay and hand-over, "
                                        << live_windows.size() << " from the live run";

  // A replay of the whole topic gives exactly what the live run gave while
  // the records were being produced.
  const std::string full_output = new_topic("full");
  auto full =
      spawn_window_agg(job_args(input, full_output, unique_topic("full"), {"--from", "earliest", "--until", "latest"}));
  EXPECT_EQ(expect_replay_ends(*full), 40'000);
  const auto full_windows = read_windows(*cluster_, full_output);
  EXPECT_TRUE(full_windows == live_windows)
      << full_windows.size() << " windows replayed, " << live_windows.size() << " live";
}

// Writes `records` to `topic` in transactions of 1,000, the last one
// committed, so that each partition ends with a commit marker.
Status produce_in_transactions(const std::string& bootstrap, const std::string& topic,
                               const std::vector<std::pair<std::string, std::string>>& records) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error);
  rd_kafka_conf_set(conf, "transactional.id", unique_topic("replay-tx").c_str(), error, sizeof error);
  std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> producer(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error), rd_kafka_destroy);
  if (!producer) return Status::unavailable(error);
  auto check = [](rd_kafka_error_t* e) {
    if (e == nullptr) return Status::ok();
    Status status = Status::unavailable(rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return status;
  };
  KAPPA_RETURN_IF_ERROR(check(rd_kafka_init_transactions(producer.get(), 30'000)));
  for (std::size_t i = 0; i < records.size(); i += 1000) {
    KAPPA_RETURN_IF_ERROR(check(rd_kafka_begin_transaction(producer.get())));
    for (std::size_t j = i; j < std::min(records.size(), i + 1000); ++j) {
      const auto& [key, value] = records[j];
      rd_kafka_resp_err_t err =
          rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::unavailable(rd_kafka_err2str(err));
    }
    KAPPA_RETURN_IF_ERROR(check(rd_kafka_commit_transaction(producer.get(), 30'000)));
  }
  return Status::ok();
}

// Only real Kafka writes transaction markers and looks offsets up by time.
class RealReplayTest : public ReplayTest {};

TEST_P(RealReplayTest, AReplayEndsWhereTheRecordsEndWhenTransactionMarkersFollow) {
  const auto events = make_card_events(12, 8'000, kCards);
  const std::string input = new_topic("transactional");
  ASSERT_TRUE(produce_in_transactions(cluster_->bootstrap(), input, events).is_ok());
  const std::string output = new_topic("out");
  auto replay =
      spawn_window_agg(job_args(input, output, unique_topic("tx-replay"), {"--from", "earliest", "--until", "latest"}));
  EXPECT_EQ(expect_replay_ends(*replay), 8'000);
}

// Record i of `events` goes to partition i % 4, with a record timestamp i
// seconds after `t0`.
std::vector<ProducedRecord> spread(const std::vector<std::pair<std::string, std::string>>& events, int64_t t0) {
  std::vector<ProducedRecord> records;
  for (std::size_t i = 0; i < events.size(); ++i) {
    records.push_back({events[i].first, events[i].second, static_cast<int32_t>(i % kPartitions),
                       t0 + static_cast<int64_t>(i) * 1000});
  }
  return records;
}

TEST_P(RealReplayTest, ReplaysBetweenTwoTimes) {
  constexpr int64_t t0 = 1'763'700'000'000;
  const std::string input = new_topic("timed");
  ASSERT_TRUE(cluster_->produce_records(input, spread(make_card_events(13, 4'000, kCards), t0)).is_ok());
  // [t0 + 1000 s, t0 + 3000 s): records 1000 to 2999.
  auto between = spawn_window_agg(
      job_args(input, new_topic("between"), unique_topic("between"),
               {"--from", format_iso_time(t0 + 1'000'000), "--until", format_iso_time(t0 + 3'000'000)}));
  EXPECT_EQ(expect_replay_ends(*between), 2'000);
}

TEST_P(ReplayTest, ReplaysFromAnOffsetsFile) {
  const std::string input = new_topic("listed");
  ASSERT_TRUE(cluster_->produce_records(input, spread(make_card_events(14, 4'000, kCards), 0)).is_ok());
  // Partitions 0 and 1 from offsets 100 and 200; the unlisted 2 and 3 from
  // their start.
  const std::string offsets_file = dir_ + "/start.csv";
  {
    std::ofstream file(offsets_file);
    file << input << ",0,100\n" << input << ",1,200\n";
  }
  auto from_file = spawn_window_agg(job_args(input, new_topic("from-file"), unique_topic("from-file"),
                                             {"--from", "offsets:" + offsets_file, "--until", "latest"}));
  EXPECT_EQ(expect_replay_ends(*from_file), 4'000 - 100 - 200);
}

INSTANTIATE_TEST_SUITE_P(Embedded, ReplayTest, ::testing::Values(ClusterKind::kEmbedded));
INSTANTIATE_TEST_SUITE_P(Real, ReplayTest, ::testing::Values(ClusterKind::kReal));
INSTANTIATE_TEST_SUITE_P(Real, RealReplayTest, ::testing::Values(ClusterKind::kReal));

}  // namespace
}  // namespace kappa::testing
