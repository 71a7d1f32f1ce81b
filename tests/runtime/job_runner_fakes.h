// The fakes the JobRunner tests share: a source of scripted partitions, a
// sink and a task factory that log what they see into one ordered event list.
#pragma once

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
#include "runtime/job_runner.h"
#include "runtime/output_transaction.h"
#include "runtime/pipeline.h"
#include "runtime/state.h"
#include "tests/support/memory_state.h"

namespace kappa::job_runner_test {

using namespace std::chrono_literals;

constexpr int64_t kBase = 1000;  // first offset of every partition
inline const std::string kTopic = "in";

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
    if (on_commit) on_commit(positions);
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
  // Runs in every commit, after the built-in checks, on the coordinator thread.
  std::function<void(const std::vector<PartitionPosition>&)> on_commit;

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

inline TaskFactory make_factory(ErrorPolicy policy = ErrorPolicy::kFail, bool reject_sevens = false) {
  return [=](const PartitionId& partition) -> std::unique_ptr<Task> {
    using P = decltype(pipeline<std::string>());
    return std::make_unique<PipelineTask<P, TestCodec, BytesCodec>>(partition, policy, pipeline<std::string>(),
                                                                    TestCodec{reject_sevens}, BytesCodec{});
  };
}

inline JobRunnerOptions runner_options(std::chrono::milliseconds commit_interval, const std::atomic<bool>* stop = nullptr) {
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
inline bool commit_after(const std::vector<std::string>& events, const std::string& marker) {
  bool seen = false;
  for (const std::string& e : events) {
    if (e.rfind(marker, 0) == 0) seen = true;
    if (seen && e.rfind("commit", 0) == 0) return true;
  }
  return false;
}

// " in/0=1820 in/1=1410": positions as the fakes log them.
inline std::string positions_text(const std::vector<PartitionPosition>& positions) {
  std::string text;
  for (const PartitionPosition& p : positions) text += " " + p.partition.to_string() + "=" + std::to_string(p.next_offset);
  return text;
}

// A state backend whose task states are in memory and which restores
// nothing; tests say what a checkpoint does.
class MemoryTasksBackend : public StateBackend {
 public:
  TaskState& task(const PartitionId& partition) override { return tasks_[partition]; }
  Status release_task(const PartitionId&) override { return Status::ok(); }
  std::optional<int64_t> resume_offset(const PartitionId&) const override { return std::nullopt; }

 private:
  std::map<PartitionId, testing::MemoryState> tasks_;  // the runner's coordinator thread only
};

inline std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace kappa::job_runner_test
