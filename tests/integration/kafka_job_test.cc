// Runs the enrich job as a process against a Kafka broker (embedded, and the
// real Apache Kafka that the ctest fixture starts) and checks what users rely
// on: every input record gives one output record with its key, in order per
// key; a SIGTERM stops the job cleanly and a restart from the committed
// position loses nothing; two processes with one job id share the partitions
// and one stopping hands its partitions to the other.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <thread>

#include "jobs/proto/transaction.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/test_cluster.h"

namespace kappa::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kPartitions = 8;
constexpr int kCards = 1000;

// Input: card c's n-th transaction has id "c:n", keyed by the card id.
std::vector<std::pair<std::string, std::string>> make_transactions(int first, int count) {
  std::vector<std::pair<std::string, std::string>> records;
  records.reserve(count);
  for (int i = first; i < first + count; ++i) {
    jobs::Transaction t;
    const std::string card = "card-" + std::to_string(i % kCards);
    t.set_card_id(card);
    t.set_transaction_id(card + ":" + std::to_string(i / kCards));
    t.set_amount(1 + i % 700);
    t.set_currency(i % 3 == 0 ? "USD" : "EUR");
    t.set_event_time(1'700'000'000'000 + i);
    records.emplace_back(card, t.SerializeAsString());
  }
  return records;
}

struct OutputCheck {
  std::size_t records = 0;
  std::size_t distinct = 0;
  std::size_t duplicates = 0;
  std::size_t wrong_keys = 0;
  std::size_t out_of_order = 0;  // a key's sequence going backwards within a partition
  std::size_t undecodable = 0;
};

OutputCheck check_output(const std::vector<ConsumedRecord>& output) {
  OutputCheck check;
  std::set<std::string> seen;
  std::map<std::pair<int32_t, std::string>, long> last_sequence;
  for (const ConsumedRecord& r : output) {
    ++check.records;
    jobs::EnrichedTransaction e;
    if (!e.ParseFromString(r.value)) {
      ++check.undecodable;
      continue;
    }
    const std::string& id = e.transaction().transaction_id();
    if (!seen.insert(id).second) ++check.duplicates;
    if (r.key != e.transaction().card_id()) ++check.wrong_keys;
    const long sequence = std::stol(id.substr(id.find(':') + 1));
    auto [it, inserted] = last_sequence.try_emplace({r.partition, r.key}, sequence);
    if (!inserted) {
      if (sequence <= it->second) ++check.out_of_order;
      it->second = sequence;
    }
  }
  check.distinct = seen.size();
  return check;
}

// Starts the enrich job with `args`; a job that cannot be started ends the
// test (gtest reports the exception).
std::unique_ptr<ChildProcess> spawn_enrich(const std::vector<std::string>& args) {
  std::vector<std::string> argv{KAPPA_ENRICH_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  Result<std::unique_ptr<ChildProcess>> job = ChildProcess::spawn(argv);
  if (!job.is_ok()) throw std::runtime_error(job.status().to_string());
  return std::move(job).value();
}

// Records in, from the summary line a job prints when it stops.
long records_in(const std::string& log) {
  std::smatch match;
  static const std::regex summary(R"(enrich: (\d+) records in)");
  return std::regex_search(log, match, summary) ? std::stol(match[1]) : -1;
}

class KafkaJobTest : public ::testing::TestWithParam<ClusterKind> {
 protected:
  void SetUp() override {
    auto cluster = TestCluster::create(GetParam());
    ASSERT_TRUE(cluster.is_ok()) << cluster.status().to_string();
    cluster_ = std::move(cluster).value();
    input_ = unique_topic("transactions");
    output_ = unique_topic("enriched");
    job_id_ = unique_topic("enrich-test");
    ASSERT_TRUE(cluster_->create_topic(input_, kPartitions).is_ok());
    ASSERT_TRUE(cluster_->create_topic(output_, kPartitions).is_ok());
  }

  std::unique_ptr<ChildProcess> start_job(const std::vector<std::string>& extra = {}) {
    // The embedded broker forgets a member that left only when its session
    // times out, so a short session keeps hand-overs quick in tests.
    std::vector<std::string> args{"--brokers", cluster_->bootstrap(),
                                  "--input", input_,
                                  "--output", output_,
                                  "--job-id", job_id_,
                                  "--threads", "2",
                                  "--checkpoint-interval", "1s",
                                  "-X", "consumer.session.timeout.ms=6000"};
    args.insert(args.end(), extra.begin(), extra.end());
    return spawn_enrich(args);
  }

  // Sends SIGTERM and expects a clean exit.
  void stop_job(ChildProcess& job) {
    job.signal(SIGTERM);
    std::optional<int> code = job.wait(60s);
    ASSERT_TRUE(code.has_value()) << "the job did not stop within 60 s of SIGTERM\n" << job.output();
    EXPECT_EQ(*code, 0) << job.output();
  }

  bool wait_for_log(ChildProcess& job, const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (job.output().find(text) != std::string::npos) return true;
      if (!job.running()) return false;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Waits until the output holds `records` distinct transactions (duplicates
  // after a hand-over do not count as progress).
  bool wait_for_distinct(std::size_t records, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (cluster_->wait_for_count(output_, static_cast<int64_t>(records), 1s)) {
        auto output = cluster_->read_all(output_);
        if (output.is_ok() && check_output(*output).distinct >= records) return true;
      }
    }
    return false;
  }

  OutputCheck read_output() {
    auto output = cluster_->read_all(output_);
    EXPECT_TRUE(output.is_ok()) << output.status().to_string();
    return output.is_ok() ? check_output(*output) : OutputCheck{};
  }

  std::unique_ptr<TestCluster> cluster_;
  std::string input_;
  std::string output_;
  std::string job_id_;
};

TEST_P(KafkaJobTest, MapJobGivesOneOutputPerInputWithKeyAndOrderKept) {
  constexpr int kRecords = 200'000;
  ASSERT_TRUE(cluster_->produce(input_, make_transactions(0, kRecords)).is_ok());
  auto job = start_job({"--from", "earliest"});
  ASSERT_TRUE(cluster_->wait_for_count(output_, kRecords, 180s)) << job->output();
  stop_job(*job);

  const OutputCheck check = read_output();
  EXPECT_EQ(check.records, static_cast<std::size_t>(kRecords));
  EXPECT_EQ(check.distinct, static_cast<std::size_t>(kRecords));
  EXPECT_EQ(check.duplicates, 0u);
  EXPECT_EQ(check.wrong_keys, 0u);
  EXPECT_EQ(check.out_of_order, 0u);
  EXPECT_EQ(check.undecodable, 0u);
  EXPECT_EQ(records_in(job->output()), kRecords);
}

TEST_P(KafkaJobTest, SigtermMidRunThenRestartFromCommittedLosesNothing) {
  constexpr int kRecords = 200'000;
  ASSERT_TRUE(cluster_->produce(input_, make_transactions(0, kRecords)).is_ok());
  auto first = start_job();
  ASSERT_TRUE(cluster_->wait_for_count(output_, 20'000, 120s)) << first->output();
  stop_job(*first);
  const long first_in = records_in(first->output());
  ASSERT_GT(first_in, 0) << first->output();

  // --from committed is the default: the second run starts where the first
  // one's final commit left off.
  auto second = start_job();
  ASSERT_TRUE(wait_for_distinct(kRecords, 180s)) << second->output();
  stop_job(*second);

  const OutputCheck check = read_output();
  EXPECT_EQ(check.distinct, static_cast<std::size_t>(kRecords)) << "records lost across the restart";
  // A clean stop commits everything it wrote, so nothing is read twice.
  EXPECT_EQ(check.duplicates, 0u);
  EXPECT_EQ(check.wrong_keys, 0u);
  EXPECT_EQ(check.out_of_order, 0u);
  EXPECT_EQ(first_in + records_in(second->output()), kRecords);
}

TEST_P(KafkaJobTest, TwoProcessesShareThePartitionsAndHandOverOnStop) {
  auto a = start_job();
  ASSERT_TRUE(wait_for_log(*a, "assigned", 60s)) << a->output();
  auto b = start_job();
  ASSERT_TRUE(wait_for_log(*b, "assigned", 60s)) << b->output();

  constexpr int kHalf = 50'000;
  ASSERT_TRUE(cluster_->produce(input_, make_transactions(0, kHalf)).is_ok());
  ASSERT_TRUE(wait_for_distinct(kHalf, 120s)) << a->output() << b->output();
  stop_job(*a);  // its partitions move to b

  ASSERT_TRUE(cluster_->produce(input_, make_transactions(kHalf, kHalf)).is_ok());
  ASSERT_TRUE(wait_for_distinct(2 * kHalf, 120s)) << b->output();
  stop_job(*b);

  const OutputCheck check = read_output();
  EXPECT_EQ(check.distinct, static_cast<std::size_t>(2 * kHalf)) << "records lost in the hand-over";
  EXPECT_EQ(check.wrong_keys, 0u);
  // Both processes did part of the work.
  EXPECT_GT(records_in(a->output()), 0) << a->output();
  EXPECT_GT(records_in(b->output()), 0) << b->output();
  EXPECT_LT(records_in(a->output()), 2 * kHalf);
  RecordProperty("duplicates_after_handover", static_cast<int>(check.duplicates));
}

TEST_P(KafkaJobTest, UnknownTopicFailsFastWithOneClearLine) {
  auto job = spawn_enrich(
      {"--brokers", cluster_->bootstrap(), "--input", "no-such-topic", "--output", output_, "--job-id", job_id_});
  std::optional<int> code = job->wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  EXPECT_NE(job->output().find("topic 'no-such-topic' does not exist"), std::string::npos) << job->output();
}

INSTANTIATE_TEST_SUITE_P(Embedded, KafkaJobTest, ::testing::Values(ClusterKind::kEmbedded));
INSTANTIATE_TEST_SUITE_P(Real, KafkaJobTest, ::testing::Values(ClusterKind::kReal));

}  // namespace
}  // namespace kappa::testing
