#include "runtime/job_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/runtime/job_runner_fakes.h"

namespace kappa {
namespace {

using namespace job_runner_test;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(JobRunnerTest, BoundedSourceEndsByItselfWithTotals) {
  EventLog log;
  JobSink sink(log);
  FakeSource source({.partitions = {0, 1, 2}, .records = 250, .bounded = true}, sink, log);
  JobRunner runner(runner_options(10s), source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  const JobTotals totals = runner.totals();
  EXPECT_EQ(totals.records_in, 750u);
  EXPECT_EQ(totals.records_out, 750u);
  EXPECT_EQ(totals.records_skipped, 0u);
  EXPECT_EQ(sink.total(), 750);
  EXPECT_FALSE(sink.out_of_order());
  for (int32_t p : {0, 1, 2}) {
    EXPECT_EQ(source.committed(p), kBase + 250) << p;  // last offset + 1
    EXPECT_TRUE(source.reader_destroyed(p)) << p;      // removed on close
  }
  EXPECT_TRUE(source.violations_.empty()) << join(source.violations_);
  EXPECT_EQ(source.starts_, 1);
  EXPECT_EQ(source.closes_, 1);
  EXPECT_GE(sink.flushes(), 1);
  // The positions are committed once, before close().
  const std::vector<std::string> events = log.events();
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front(), "start");
  EXPECT_FALSE(commit_after(events, "close")) << join(events);
  ASSERT_EQ(source.commits_.size(), 1u) << join(events);
  EXPECT_EQ(source.commits_[0].size(), 3u);
}

TEST(JobRunnerTest, SkippedRecordsAreCountedInTotals) {
  EventLog log;
  JobSink sink(log);
  sink.allow_gaps();
  FakeSource source({.partitions = {0, 1}, .records = 100, .bounded = true, .strict = false}, sink, log);
  JobRunner runner(runner_options(10s), source, JobSinks(&sink), make_factory(ErrorPolicy::kSkip, /*reject_sevens=*/true));
  Status status = runner.run();
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  const JobTotals totals = runner.totals();
  EXPECT_EQ(totals.records_in, 200u);
  EXPECT_EQ(totals.records_skipped, 20u);  // offsets 1007, 1017, ... 1097 in each partition
  EXPECT_EQ(totals.records_out, 180u);
  EXPECT_EQ(sink.total(), 180);
  // The position covers the skipped records too.
  EXPECT_EQ(source.committed(0), kBase + 100);
  EXPECT_EQ(source.committed(1), kBase + 100);
  EXPECT_TRUE(source.violations_.empty()) << join(source.violations_);
}

// Every checkpoint flushes the dead letters too: no commit passes a bad
// record whose dead letter is not acknowledged.
TEST(JobRunnerTest, DeadLettersAreFlushedBeforeEveryCommitThatPassesTheirRecords) {
  EventLog log;
  JobSink sink(log);
  JobSink dead_letters(log);
  sink.allow_gaps();
  dead_letters.allow_gaps();
  std::atomic<bool> stop{false};
  sink.slow_writes(100us);  // tasks are still busy when the commit clock strikes
  FakeSource source({.partitions = {0, 1}, .records = 0, .strict = false}, sink, log);
  int64_t appended = 0;
  source.on_poll = [&](FakeSource& s) {
    if (s.commits_.size() < 3) {
      s.append(0, 70);
      s.append(1, 30);
      appended += 100;
    } else if (sink.total() + dead_letters.total() == appended) {
      stop = true;
    }
  };
  // Values "p:o" ending in 7 are rejected: offsets 1007, 1017, ...
  std::vector<std::string> violations;
  source.on_commit = [&](const std::vector<PartitionPosition>& positions) {
    for (const PartitionPosition& p : positions) {
      const int64_t last_seven = (p.next_offset - 1 - 7) / 10 * 10 + 7;  // the last rejected offset before it
      if (last_seven < kBase) continue;
      if (dead_letters.flushed_next(p.partition.partition) <= last_seven) {
        violations.push_back("commit " + p.partition.to_string() + "=" + std::to_string(p.next_offset) +
                             " before the dead letter of offset " + std::to_string(last_seven) + " was flushed");
      }
    }
  };
  JobRunner runner(runner_options(15ms, &stop), source, JobSinks(&sink, nullptr, {}, &dead_letters),
                   make_factory(ErrorPolicy::kDeadLetter, /*reject_sevens=*/true));
  Status status = runner.run();
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  EXPECT_GE(source.commits_.size(), 3u);
  EXPECT_TRUE(violations.empty()) << join(violations);
  EXPECT_TRUE(source.violations_.empty()) << join(source.violations_);
  EXPECT_FALSE(dead_letters.out_of_order());
  const JobTotals totals = runner.totals();
  EXPECT_EQ(totals.records_in, static_cast<uint64_t>(appended));
  EXPECT_EQ(totals.records_dead_lettered, static_cast<uint64_t>(appended / 10));
  EXPECT_EQ(totals.records_skipped, 0u);
  EXPECT_EQ(totals.records_out, static_cast<uint64_t>(appended - appended / 10));
  EXPECT_EQ(dead_letters.total(), appended / 10);
  EXPECT_EQ(sink.total(), appended - appended / 10);
  // The final checkpoint flushed every dead letter.
  EXPECT_EQ(dead_letters.flushed_next(0), dead_letters.written_next(0));
  EXPECT_EQ(dead_letters.flushed_next(1), dead_letters.written_next(1));
}

TEST(JobRunnerTest, PeriodicCommitsComeAfterAFlushAndCarryLastOffsetPlusOne) {
  EventLog log;
  JobSink sink(log);
  std::atomic<bool> stop{false};
  sink.slow_writes(100us);  // tasks are still busy when the commit clock strikes
  FakeSource source({.partitions = {0, 1}, .records = 0}, sink, log);
  int64_t appended = 0;
  source.on_poll = [&](FakeSource& s) {
    if (s.commits_.size() < 3) {
      s.append(0, 70);
      s.append(1, 30);
      appended += 100;
    } else if (sink.total() == appended) {
      stop = true;
    }
  };
  JobRunner runner(runner_options(15ms, &stop), source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  EXPECT_GE(source.commits_.size(), 3u);
  EXPECT_TRUE(source.violations_.empty()) << join(source.violations_);
  EXPECT_FALSE(sink.out_of_order());
  const int64_t per_partition0 = appended / 100 * 70;
  const int64_t per_partition1 = appended / 100 * 30;
  EXPECT_EQ(source.committed(0), kBase + per_partition0);
  EXPECT_EQ(source.committed(1), kBase + per_partition1);
  EXPECT_EQ(runner.totals().records_in, static_cast<uint64_t>(appended));
  // Every commit is preceded by a flush since the previous commit.
  bool flushed = false;
  for (const std::string& e : log.events()) {
    if (e == "flush") flushed = true;
    if (e.rfind("commit", 0) == 0) {
      EXPECT_TRUE(flushed) << join(log.events());
      flushed = false;
    }
  }
  EXPECT_EQ(source.closes_, 1);
}

TEST(JobRunnerTest, RevokingAPartitionPausesFlushesCommitsAndRemovesIt) {
  EventLog log;
  JobSink sink(log);
  std::atomic<bool> stop{false};
  sink.slow_writes(20us);  // ~4 ms per partition: the revocation meets a busy task
  FakeSource source({.partitions = {0, 1}, .records = 2000}, sink, log);
  bool revoked = false;
  int flushes_before = 0, flushes_after = 0;
  int64_t written_at_revoke = -1, committed_at_revoke = -1;
  bool destroyed_at_revoke = false;
  std::size_t commits_at_revoke = 0;
  source.on_poll = [&](FakeSource& s) {
    if (!revoked && sink.count(1) >= 1) {
      flushes_before = sink.flushes();
      s.revoke({1});
      revoked = true;
      flushes_after = sink.flushes();
      written_at_revoke = sink.written_next(1);
      committed_at_revoke = s.committed(1);
      destroyed_at_revoke = s.reader_destroyed(1);
      commits_at_revoke = s.commits_.size();
    }
    if (revoked && sink.count(0) == 2000) stop = true;
  };
  JobRunner runner(runner_options(10s, &stop), source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  ASSERT_TRUE(revoked);
  EXPECT_GT(flushes_after, flushes_before);               // flushed during on_revoked
  EXPECT_EQ(committed_at_revoke, written_at_revoke);      // its position committed during on_revoked
  EXPECT_EQ(committed_at_revoke, kBase + sink.count(1));  // = last offset written + 1
  EXPECT_TRUE(destroyed_at_revoke);                       // task removed
  EXPECT_EQ(sink.written_next(1), written_at_revoke);     // nothing processed after the revocation
  EXPECT_EQ(source.committed(1), committed_at_revoke);
  for (std::size_t i = commits_at_revoke; i < source.commits_.size(); ++i) {
    for (const PartitionPosition& p : source.commits_[i]) EXPECT_NE(p.partition.partition, 1);
  }
  EXPECT_EQ(source.committed(0), kBase + 2000);
  EXPECT_TRUE(source.violations_.empty()) << join(source.violations_);
  // The removed task's counters still count.
  EXPECT_EQ(runner.totals().records_in, static_cast<uint64_t>(2000 + sink.count(1)));
  EXPECT_EQ(source.closes_, 1);
}

TEST(JobRunnerTest, SinkWriteFailureFailsTheRunAndNothingIsCommittedAfterIt) {
  EventLog log;
  JobSink sink(log);
  FakeSource source({.partitions = {0, 1}, .records = 0}, sink, log);
  source.on_poll = [&](FakeSource& s) {
    s.append(0, 5);
    s.append(1, 5);
    if (s.commits_.size() >= 2) sink.fail_writes();
  };
  JobRunner runner(runner_options(10ms), source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.to_string();
  EXPECT_EQ(status.message(), "the sink broke");
  const std::vector<std::string> events = log.events();
  EXPECT_GE(source.commits_.size(), 2u);
  EXPECT_FALSE(commit_after(events, "write-failed")) << join(events);
  EXPECT_TRUE(source.violations_.empty()) << join(source.violations_);
  EXPECT_EQ(source.closes_, 1);
}

TEST(JobRunnerTest, SinkFlushDataLossFailsTheRunAndCommitsNothing) {
  EventLog log;
  JobSink sink(log);
  sink.fail_flushes(1000, Status::data_loss("3 results were not delivered"));
  FakeSource source({.partitions = {0, 1}, .records = 50}, sink, log);
  JobRunner runner(runner_options(10ms), source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.to_string();
  EXPECT_EQ(status.message(), "3 results were not delivered");
  EXPECT_TRUE(source.commits_.empty()) << join(log.events());
  EXPECT_EQ(source.closes_, 1);
}

TEST(JobRunnerTest, BoundedJobWhoseFinalFlushLosesDataFails) {
  EventLog log;
  JobSink sink(log);
  sink.fail_flushes(1000, Status::data_loss("lost"));
  FakeSource source({.partitions = {0}, .records = 30, .bounded = true}, sink, log);
  JobRunner runner(runner_options(10s), source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.to_string();
  EXPECT_TRUE(source.commits_.empty()) << join(log.events());
  EXPECT_EQ(source.closes_, 1);
}

TEST(JobRunnerTest, PeriodicFlushThatIsOnlySlowDoesNotFailTheJob) {
  EventLog log;
  JobSink sink(log);
  sink.fail_flushes(1, Status::unavailable("flush timed out"));
  std::atomic<bool> stop{false};
  FakeSource source({.partitions = {0}, .records = 0}, sink, log);
  int64_t appended = 0;
  source.on_poll = [&](FakeSource& s) {
    if (s.commits_.empty()) {
      s.append(0, 4);
      appended += 4;
    } else if (sink.total() == appended) {
      stop = true;
    }
  };
  JobRunner runner(runner_options(10ms, &stop), source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(log.events().at(1), "flush-failed") << join(log.events());
  EXPECT_EQ(source.committed(0), kBase + appended);
  EXPECT_TRUE(source.violations_.empty()) << join(source.violations_);
}

TEST(JobRunnerTest, StopFlagEndsTheRunCleanly) {
  EventLog log;
  JobSink sink(log);
  std::atomic<bool> stop{false};
  FakeSource source({.partitions = {0, 1}, .records = 300}, sink, log);
  std::thread stopper([&] {
    sink.wait_for_total(600);
    stop = true;  // as the SIGTERM handler does
  });
  JobRunner runner(runner_options(10s, &stop), source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  stopper.join();
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(sink.total(), 600);
  EXPECT_EQ(source.committed(0), kBase + 300);
  EXPECT_EQ(source.committed(1), kBase + 300);
  EXPECT_TRUE(source.violations_.empty()) << join(source.violations_);
  EXPECT_EQ(source.closes_, 1);
  EXPECT_TRUE(source.reader_destroyed(0));
  EXPECT_TRUE(source.reader_destroyed(1));
  EXPECT_EQ(runner.totals().records_in, 600u);
}

TEST(JobRunnerTest, StopRequestedBeforeRunStillStartsAndCloses) {
  EventLog log;
  JobSink sink(log);
  std::atomic<bool> stop{true};
  FakeSource source({.partitions = {0}, .records = 10}, sink, log);
  JobRunner runner(runner_options(10s, &stop), source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(source.starts_, 1);
  EXPECT_EQ(source.closes_, 1);
  EXPECT_TRUE(source.commits_.empty());
  EXPECT_EQ(runner.totals().records_in, 0u);
}

// Exactly-once output: a state backend and a transaction that log what the
// runner asks of them, in the same log as the sink and the source.
TEST(JobRunnerTest, DecodeFailureUnderFailPolicyFailsTheRun) {
  EventLog log;
  JobSink sink(log);
  FakeSource source({.partitions = {0}, .records = 20, .bounded = true}, sink, log);
  JobRunner runner(runner_options(10s), source, JobSinks(&sink), make_factory(ErrorPolicy::kFail, /*reject_sevens=*/true));
  Status status = runner.run();
  EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("in/0 offset 1007"));
  EXPECT_TRUE(source.commits_.empty()) << join(log.events());
  EXPECT_EQ(source.closes_, 1);
}

}  // namespace
}  // namespace kappa
