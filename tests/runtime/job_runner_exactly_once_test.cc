// JobRunner with --exactly-once: the checkpoint's positions ride in the output
// transaction, and a checkpoint is confirmed only after that transaction commits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/job_runner.h"
#include "runtime/output_transaction.h"
#include "tests/runtime/job_runner_fakes.h"

namespace kappa {
namespace {

using namespace job_runner_test;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

class LoggedState final : public MemoryTasksBackend {
 public:
  explicit LoggedState(EventLog& log) : log_(log) {}
  Result<CheckpointStats> checkpoint(const std::vector<PartitionPosition>& positions) override {
    log_.add("checkpoint " + std::to_string(++id_) + positions_text(positions));
    return CheckpointStats{id_, 0, {}, 0};
  }
  Status confirm(uint64_t id) override {
    log_.add("confirm " + std::to_string(id));
    return Status::ok();
  }

 private:
  EventLog& log_;
  uint64_t id_ = 0;
};

// Checks that a commit carries exactly what was written and flushed, and
// that begin and commit alternate.
class LoggedTransaction final : public OutputTransaction {
 public:
  LoggedTransaction(EventLog& log, JobSink& sink) : log_(log), sink_(sink) {}
  Status begin() override {
    log_.add("begin");
    if (open_) violations_.push_back("begin with a transaction open");
    open_ = true;
    return Status::ok();
  }
  Status commit(const std::vector<PartitionPosition>& positions) override {
    log_.add("txn-commit" + positions_text(positions));
    if (!open_) violations_.push_back("commit without a transaction");
    for (const PartitionPosition& p : positions) {
      const int32_t partition = p.partition.partition;
      if (sink_.flushed_next(partition) != p.next_offset || sink_.written_next(partition) != p.next_offset) {
        violations_.push_back("txn-commit" + positions_text({p}) + ": written up to " +
                              std::to_string(sink_.written_next(partition)) + ", flushed up to " +
                              std::to_string(sink_.flushed_next(partition)));
      }
      committed_[partition] = p.next_offset;
    }
    if (fail_commits_) return Status::unavailable("the coordinator went away");
    open_ = false;
    ++commits_;
    return Status::ok();
  }
  Status abort() override {
    log_.add("abort");
    open_ = false;
    return Status::ok();
  }
  void fail_commits() { fail_commits_ = true; }
  int64_t committed(int32_t partition) const {
    auto it = committed_.find(partition);
    return it == committed_.end() ? -1 : it->second;
  }

  int commits_ = 0;
  std::vector<std::string> violations_;

 private:
  EventLog& log_;
  JobSink& sink_;
  bool open_ = false;
  bool fail_commits_ = false;
  std::map<int32_t, int64_t> committed_;
};

// The index of the first event starting with `prefix` at or after `from`.
std::size_t find_event(const std::vector<std::string>& events, const std::string& prefix, std::size_t from = 0) {
  for (std::size_t i = from; i < events.size(); ++i) {
    if (events[i].rfind(prefix, 0) == 0) return i;
  }
  return events.size();
}

TEST(JobRunnerTest, ExactlyOnceCommitsTheTransactionWithTheCheckpointsPositions) {
  EventLog log;
  JobSink sink(log);
  std::atomic<bool> stop{false};
  sink.slow_writes(100us);
  FakeSource source({.partitions = {0, 1}, .records = 0}, sink, log);
  LoggedState state(log);
  LoggedTransaction transaction(log, sink);
  int64_t appended = 0;
  source.on_poll = [&](FakeSource& s) {
    if (transaction.commits_ < 3) {
      s.append(0, 70);
      s.append(1, 30);
      appended += 100;
    } else if (sink.total() == appended) {
      stop = true;
    }
  };
  JobRunnerOptions options = runner_options(15ms, &stop);
  options.state = &state;
  options.transaction = &transaction;
  JobRunner runner(options, source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  EXPECT_TRUE(source.commits_.empty()) << "the transaction carries the offsets: " << join(log.events());
  EXPECT_TRUE(transaction.violations_.empty()) << join(transaction.violations_);
  EXPECT_GE(transaction.commits_, 3);
  EXPECT_EQ(transaction.committed(0), kBase + appended / 100 * 70);
  EXPECT_EQ(transaction.committed(1), kBase + appended / 100 * 30);
  // The first transaction begins before any partition is assigned; then
  // every checkpoint is: flush, state checkpoint n, the transaction with n's
  // positions, confirm n, the next transaction.
  const std::vector<std::string> events = log.events();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0], "begin") << join(events);
  EXPECT_EQ(events[1], "start") << join(events);
  int checkpoints = 0;
  for (std::size_t i = find_event(events, "checkpoint "); i < events.size();
       i = find_event(events, "checkpoint ", i + 1)) {
    ++checkpoints;
    const std::string id = events[i].substr(11, events[i].find(' ', 11) - 11);
    ASSERT_LT(i + 3, events.size()) << join(events);
    EXPECT_EQ(events[i - 1], "flush") << join(events);
    EXPECT_EQ(events[i + 1], "txn-commit" + events[i].substr(11 + id.size())) << join(events);
    EXPECT_EQ(events[i + 2], "confirm " + id) << join(events);
    EXPECT_EQ(events[i + 3], "begin") << join(events);
  }
  EXPECT_EQ(checkpoints, transaction.commits_);
}

TEST(JobRunnerTest, ExactlyOnceFailedTransactionStopsTheJobWithoutConfirming) {
  EventLog log;
  JobSink sink(log);
  FakeSource source({.partitions = {0}, .records = 0}, sink, log);
  LoggedState state(log);
  LoggedTransaction transaction(log, sink);
  transaction.fail_commits();
  source.on_poll = [&](FakeSource& s) { s.append(0, 5); };
  JobRunnerOptions options = runner_options(10ms);
  options.state = &state;
  options.transaction = &transaction;
  JobRunner runner(options, source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("output transaction of checkpoint 1 did not commit"));
  EXPECT_THAT(status.message(), HasSubstr("the coordinator went away"));
  const std::vector<std::string> events = log.events();
  EXPECT_EQ(find_event(events, "confirm"), events.size()) << join(events);
  EXPECT_EQ(find_event(events, "checkpoint 2"), events.size()) << join(events);
  EXPECT_EQ(events.back(), "abort") << join(events);
  EXPECT_TRUE(source.commits_.empty());
}

TEST(JobRunnerTest, ExactlyOnceRevocationCommitsEveryTasksOutputsAndTheOthersGoOn) {
  EventLog log;
  JobSink sink(log);
  std::atomic<bool> stop{false};
  sink.slow_writes(20us);
  FakeSource source({.partitions = {0, 1}, .records = 2000}, sink, log);
  LoggedState state(log);
  LoggedTransaction transaction(log, sink);
  bool revoked = false;
  source.on_poll = [&](FakeSource& s) {
    if (!revoked && sink.count(1) >= 1 && sink.count(0) >= 1) {
      s.revoke({1});
      revoked = true;
    }
    if (revoked && sink.count(0) == 2000) stop = true;
  };
  JobRunnerOptions options = runner_options(10s, &stop);
  options.state = &state;
  options.transaction = &transaction;
  JobRunner runner(options, source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  ASSERT_TRUE(revoked);
  EXPECT_TRUE(transaction.violations_.empty()) << join(transaction.violations_);
  // The revocation's transaction carried partition 0's position too (as far
  // as it was written: LoggedTransaction checks), and partition 0 went on
  // to its end afterwards.
  const std::vector<std::string> events = log.events();
  const std::size_t revoke = find_event(events, "revoke");
  const std::size_t commit = find_event(events, "txn-commit", revoke);
  ASSERT_LT(commit, events.size()) << join(events);
  EXPECT_THAT(events[commit], HasSubstr("in/0=")) << join(events);
  EXPECT_THAT(events[commit], HasSubstr("in/1=")) << join(events);
  EXPECT_EQ(transaction.committed(0), kBase + 2000);
  EXPECT_EQ(sink.count(0), 2000);
}

}  // namespace
}  // namespace kappa
