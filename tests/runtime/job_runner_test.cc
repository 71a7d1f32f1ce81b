#include "runtime/job_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "connectors/codec/bytes_codec.h"
#include "runtime/output_transaction.h"
#include "runtime/pipeline.h"
#include "runtime/state.h"
#include "tests/support/memory_state.h"

namespace kappa {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr int64_t kBase = 1000;  // first offset of every partition
const std::string kTopic = "in";

// An ordered record of what the sink and the source saw, to check that
// commits follow flushes and that nothing is committed after a failure.
class EventLog {
 public:
  void add(std::string event) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }
  std::vector<std::string> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> events_;
};

// Decodes "partition:offset" values from the reader; results pass through
// unchanged. Optionally rejects values ending in '7' (to test skipping).
struct TestCodec {
  bool reject_sevens = false;
  Status decode(std::string_view bytes, std::string& value) const {
    if (reject_sevens && !bytes.empty() && bytes.back() == '7') return Status::corruption("ends in 7");
    value.assign(bytes);
    return Status::ok();
  }
  void encode(const std::string& value, std::string& out) const { out.append(value); }
};

// Records every result; checks per-partition order; can fail writes or flushes.
class JobSink final : public Sink {
 public:
  explicit JobSink(EventLog& log) : log_(log) {}

  Status write(const OutputBatch& batch) override {
    // Slowness only: keeps tasks busy while the coordinator checkpoints.
    if (write_delay_.count() > 0) std::this_thread::sleep_for(write_delay_);
    std::lock_guard lock(mu_);
    if (fail_writes_) {
      if (!write_failed_) log_.add("write-failed");
      write_failed_ = true;
      return Status::data_loss("the sink broke");
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::string value(batch.value(i));
      const auto colon = value.find(':');
      const int32_t partition = std::stoi(value.substr(0, colon));
      const int64_t offset = std::stoll(value.substr(colon + 1));
      auto it = written_next_.find(partition);
      if (it != written_next_.end() && offset < it->second) out_of_order_ = true;
      if (it == written_next_.end() && offset != kBase && !allow_gaps_) out_of_order_ = true;
      if (it != written_next_.end() && offset != it->second && !allow_gaps_) out_of_order_ = true;
      written_next_[partition] = offset + 1;
      ++count_[partition];
      ++total_;
    }
    cv_.notify_all();
    return Status::ok();
  }

  Status flush(std::chrono::milliseconds) override {
    std::lock_guard lock(mu_);
    ++flushes_;
    if (flush_failures_left_ > 0) {
      --flush_failures_left_;
      log_.add("flush-failed");
      return flush_failure_;
    }
    log_.add("flush");
    flushed_next_ = written_next_;
    return Status::ok();
  }

  void fail_writes() {
    std::lock_guard lock(mu_);
    fail_writes_ = true;
  }
  void fail_flushes(int n, Status status) {
    std::lock_guard lock(mu_);
    flush_failures_left_ = n;
    flush_failure_ = std::move(status);
  }
  // Call before run().
  void slow_writes(std::chrono::microseconds delay) { write_delay_ = delay; }
  void allow_gaps() {
    std::lock_guard lock(mu_);
    allow_gaps_ = true;
  }
  int64_t written_next(int32_t partition) {
    std::lock_guard lock(mu_);
    auto it = written_next_.find(partition);
    return it == written_next_.end() ? -1 : it->second;
  }
  int64_t flushed_next(int32_t partition) {
    std::lock_guard lock(mu_);
    auto it = flushed_next_.find(partition);
    return it == flushed_next_.end() ? -1 : it->second;
  }
  int64_t count(int32_t partition) {
    std::lock_guard lock(mu_);
    return count_[partition];
  }
  int64_t total() {
    std::lock_guard lock(mu_);
    return total_;
  }
  int flushes() {
    std::lock_guard lock(mu_);
    return flushes_;
  }
  bool out_of_order() {
    std::lock_guard lock(mu_);
    return out_of_order_;
  }
  bool wait_for_total(int64_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return total_ >= n; });
  }

 private:
  EventLog& log_;
  std::chrono::microseconds write_delay_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int32_t, int64_t> written_next_;
  std::map<int32_t, int64_t> flushed_next_;
  std::map<int32_t, int64_t> count_;
  int64_t total_ = 0;
  int flushes_ = 0;
  bool fail_writes_ = false;
  bool write_failed_ = false;
  int flush_failures_left_ = 0;
  Status flush_failure_;
  bool allow_gaps_ = false;
  bool out_of_order_ = false;
};

// One partition's records, shared by the source (which appends) and the
// reader (which the task runner owns and destroys on revocation).
struct Feed {
  std::mutex mu;
  int32_t partition = 0;
  std::deque<std::string> pending;
  int64_t next_to_append = kBase;
  bool end = false;
  bool destroyed = false;
  std::function<void()> wakeup;

  void append(int n) {
    std::function<void()> wake;
    {
      std::lock_guard lock(mu);
      for (int i = 0; i < n; ++i) pending.push_back(std::to_string(partition) + ":" + std::to_string(next_to_append++));
      if (!destroyed) wake = wakeup;
    }
    if (wake) wake();
  }
};

class FeedReader final : public PartitionReader {
 public:
  explicit FeedReader(std::shared_ptr<Feed> feed) : feed_(std::move(feed)), next_offset_(kBase) {}
  ~FeedReader() override {
    std::lock_guard lock(feed_->mu);
    feed_->destroyed = true;
    feed_->wakeup = nullptr;
  }
  void set_wakeup(std::function<void()> wakeup) override {
    std::lock_guard lock(feed_->mu);
    feed_->wakeup = std::move(wakeup);
  }
  Result<ReadStatus> read(std::vector<Record>& batch, std::size_t max_records) override {
    std::lock_guard lock(feed_->mu);
    batch.clear();
    current_.clear();
    if (feed_->pending.empty()) return feed_->end ? ReadStatus::kEnd : ReadStatus::kEmpty;
    while (!feed_->pending.empty() && batch.size() < max_records) {
      current_.push_back(std::move(feed_->pending.front()));
      feed_->pending.pop_front();
      Record r;
      r.key = "k";
      r.value = current_.back();
      r.partition = feed_->partition;
      r.offset = next_offset_++;
      batch.push_back(r);
    }
    return ReadStatus::kRecords;
  }

 private:
  std::shared_ptr<Feed> feed_;
  std::deque<std::string> current_;
  int64_t next_offset_;
};

struct FakeSourceOptions {
  std::vector<int32_t> partitions{0, 1};
  int records = 100;  // preloaded per partition
  bool bounded = false;
  // Check at every commit that the positions are exactly what was written
  // and flushed (off when records are skipped).
  bool strict = true;
};

// Assigns its partitions in the first poll() (as Kafka does), runs a test
// hook in every poll(), checks every commit against the sink, and revokes
// what is still assigned in close().
class FakeSource final : public Source {
 public:
  FakeSource(FakeSourceOptions options, JobSink& sink, EventLog& log) : options_(options), sink_(sink), log_(log) {}

  Status start(SourceListener& listener) override {
    listener_ = &listener;
    started_ = std::chrono::steady_clock::now();
    ++starts_;
    log_.add("start");
    return Status::ok();
  }

  Status poll(std::chrono::milliseconds timeout) override {
    ++polls_;
    // A job that should have ended long ago fails the test instead of hanging it.
    if (std::chrono::steady_clock::now() - started_ > std::chrono::seconds(10)) {
      return Status::internal("test deadline: the job did not end within 10 s");
    }
    if (!assigned_once_) {
      assigned_once_ = true;
      for (int32_t p : options_.partitions) {
        auto feed = std::make_shared<Feed>();
        feed->partition = p;
        feed->end = options_.bounded;
        feeds_[p] = feed;
        feed->append(options_.records);
        assigned_.insert(p);
        listener_->on_assigned(PartitionId{kTopic, p}, std::make_unique<FeedReader>(feed));
      }
    }
    if (on_poll) on_poll(*this);
    // Pace the coordinator like a real poll would, without spinning.
    std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(2)));
    return Status::ok();
  }

  Status commit(const std::vector<PartitionPosition>& positions) override {
    std::string event = "commit";
    for (const PartitionPosition& position : positions) {
      const int32_t p = position.partition.partition;
      event += " " + position.partition.to_string() + "=" + std::to_string(position.next_offset);
      if (position.partition.topic != kTopic || !feeds_.count(p)) {
        violations_.push_back("unknown partition " + position.partition.to_string());
        continue;
      }
      // Everything before the position was written and flushed.
      if (sink_.flushed_next(p) < position.next_offset) {
        violations_.push_back(event + ": not flushed yet (flushed up to " + std::to_string(sink_.flushed_next(p)) +
                              ")");
      }
      // The task is paused: nothing beyond the position was written.
      if (options_.strict && sink_.written_next(p) != position.next_offset) {
        violations_.push_back(event + ": written up to " + std::to_string(sink_.written_next(p)));
      }
      auto last = last_committed_.find(p);
      if (last != last_committed_.end() && position.next_offset <= last->second) {
        violations_.push_back(event + ": not after the previous commit " + std::to_string(last->second));
      }
      last_committed_[p] = position.next_offset;
    }
    log_.add(event);
    commits_.push_back(positions);
    return Status::ok();
  }

  bool bounded() const override { return options_.bounded; }

  Status close() override {
    ++closes_;
    log_.add("close");
    revoke(std::vector<int32_t>(assigned_.begin(), assigned_.end()));
    return Status::ok();
  }

  void revoke(const std::vector<int32_t>& partitions) {
    std::vector<PartitionId> ids;
    for (int32_t p : partitions) {
      ids.push_back(PartitionId{kTopic, p});
      assigned_.erase(p);
    }
    log_.add("revoke");
    listener_->on_revoked(ids);
    log_.add("revoked");
  }

  void append(int32_t partition, int n) { feeds_.at(partition)->append(n); }
  bool reader_destroyed(int32_t partition) {
    std::lock_guard lock(feeds_.at(partition)->mu);
    return feeds_.at(partition)->destroyed;
  }
  // The last committed next offset of a partition, or -1.
  int64_t committed(int32_t partition) const {
    auto it = last_committed_.find(partition);
    return it == last_committed_.end() ? -1 : it->second;
  }

  std::function<void(FakeSource&)> on_poll;  // runs on the coordinator thread

  // Read after run() returned (the coordinator thread is the only writer).
  int starts_ = 0;
  int closes_ = 0;
  int polls_ = 0;
  std::vector<std::vector<PartitionPosition>> commits_;
  std::vector<std::string> violations_;

 private:
  FakeSourceOptions options_;
  JobSink& sink_;
  EventLog& log_;
  SourceListener* listener_ = nullptr;
  std::chrono::steady_clock::time_point started_;
  bool assigned_once_ = false;
  std::map<int32_t, std::shared_ptr<Feed>> feeds_;
  std::set<int32_t> assigned_;
  std::map<int32_t, int64_t> last_committed_;
};

TaskFactory make_factory(ErrorPolicy policy = ErrorPolicy::kFail, bool reject_sevens = false) {
  return [=](const PartitionId& partition) -> std::unique_ptr<Task> {
    using P = decltype(pipeline<std::string>());
    return std::make_unique<PipelineTask<P, TestCodec, BytesCodec>>(partition, policy, pipeline<std::string>(),
                                                                    TestCodec{reject_sevens}, BytesCodec{});
  };
}

JobRunnerOptions runner_options(std::chrono::milliseconds commit_interval, const std::atomic<bool>* stop = nullptr) {
  JobRunnerOptions options;
  options.threads = 2;
  options.commit_interval = commit_interval;
  options.flush_timeout = 5s;
  options.task.batch_size = 10;
  options.task.batches_per_turn = 2;
  options.stop_requested = stop;
  return options;
}

// Whether any "commit" event comes after the first event starting with `marker`.
bool commit_after(const std::vector<std::string>& events, const std::string& marker) {
  bool seen = false;
  for (const std::string& e : events) {
    if (e.rfind(marker, 0) == 0) seen = true;
    if (seen && e.rfind("commit", 0) == 0) return true;
  }
  return false;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

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
std::string positions_text(const std::vector<PartitionPosition>& positions) {
  std::string text;
  for (const PartitionPosition& p : positions)
    text += " " + p.partition.to_string() + "=" + std::to_string(p.next_offset);
  return text;
}

class LoggedState final : public StateBackend {
 public:
  explicit LoggedState(EventLog& log) : log_(log) {}
  TaskState& task(const PartitionId& partition) override { return tasks_[partition]; }
  Status release_task(const PartitionId&) override { return Status::ok(); }
  std::optional<int64_t> resume_offset(const PartitionId&) const override { return std::nullopt; }
  Result<CheckpointStats> checkpoint(const std::vector<PartitionPosition>& positions) override {
    log_.add("checkpoint " + std::to_string(++id_) + positions_text(positions));
    return CheckpointStats{id_, 0, {}};
  }
  Status confirm(uint64_t id) override {
    log_.add("confirm " + std::to_string(id));
    return Status::ok();
  }

 private:
  EventLog& log_;
  std::map<PartitionId, testing::MemoryState> tasks_;
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
