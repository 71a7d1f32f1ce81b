// JobRunner with a state backend and at-least-once output: the tasks wait at
// a checkpoint only until their state is serialized; the backend commits in
// the background, and the positions reach the source only after it did.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "runtime/job_runner.h"
#include "tests/runtime/job_runner_fakes.h"
#include "tests/support/memory_state.h"

namespace kappa {
namespace {

using namespace job_runner_test;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

// A backend whose commits can be held (until release()) or made to fail,
// and which logs when each one starts and ends.
class GatedState final : public MemoryTasksBackend {
 public:
  explicit GatedState(EventLog& log) : log_(log) {}

  Result<CheckpointStats> checkpoint(const std::vector<PartitionPosition>& positions) override {
    std::unique_lock lock(mu_);
    const uint64_t id = ++started_;
    log_.add("checkpoint " + std::to_string(id) + positions_text(positions));
    if (id == hold_) {
      held_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return released_; });
    }
    if (id == fail_) return Status::unavailable("the disk is full");
    log_.add("checkpoint-done " + std::to_string(id));
    return CheckpointStats{id, 0, {}, 0};
  }

  bool over_memory_budget() const override { return over_budget_.load(); }

  void set_over_budget(bool over) { over_budget_ = over; }
  uint64_t started() {
    std::lock_guard lock(mu_);
    return started_;
  }
  void hold(uint64_t id) { hold_ = id; }
  void fail(uint64_t id) { fail_ = id; }
  // Waits (up to 10 s) until the held commit has started.
  bool wait_until_held() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 10s, [&] { return held_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  EventLog& log_;
  std::mutex mu_;
  std::condition_variable changed_;
  uint64_t started_ = 0;
  uint64_t hold_ = 0;
  uint64_t fail_ = 0;
  bool held_ = false;
  bool released_ = false;
  std::atomic<bool> over_budget_{false};
};

// The index of the first event equal to `event`, or events.size().
std::size_t index_of(const std::vector<std::string>& events, const std::string& event) {
  return static_cast<std::size_t>(std::find(events.begin(), events.end(), event) - events.begin());
}

TEST(JobRunnerStateTest, TasksGoOnWhileTheCheckpointCommitsAndPositionsFollowTheCommit) {
  EventLog log;
  JobSink sink(log);
  std::atomic<bool> stop{false};
  sink.slow_writes(20us);
  // Not strict: the tasks have written past a checkpoint's positions by the
  // time its commit is done.
  FakeSource source({.partitions = {0, 1}, .records = 0, .strict = false}, sink, log);
  GatedState state(log);
  state.hold(2);
  source.on_poll = [&](FakeSource& s) {
    s.append(0, 20);
    s.append(1, 10);
  };
  // While checkpoint 2 is held, the tasks must keep writing results.
  int64_t written_while_held = 0;
  std::size_t commits_while_held = 0;
  std::thread watcher([&] {
    if (!state.wait_until_held()) return;
    const int64_t at_hold = sink.total();
    sink.wait_for_total(at_hold + 500);
    written_while_held = sink.total() - at_hold;
    commits_while_held = log.events().size();
    state.release();
    std::this_thread::sleep_for(250ms);
    stop = true;
  });
  // Long enough for the tasks to write 500 results before the next
  // checkpoint waits for the held one.
  JobRunnerOptions options = runner_options(100ms, &stop);
  options.state = &state;
  JobRunner runner(options, source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  watcher.join();
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  EXPECT_GE(written_while_held, 500) << "the tasks stopped while the backend committed";
  EXPECT_TRUE(source.violations_.empty()) << join(source.violations_);
  const std::vector<std::string> events = log.events();
  // Each checkpoint's positions go to the source after its commit, never
  // before: none of checkpoint 2's while it was held.
  const std::size_t held = index_of(events, "checkpoint-done 2");
  ASSERT_LT(held, events.size()) << join(events);
  ASSERT_GE(held, commits_while_held) << join(events);
  int checkpoints = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].rfind("checkpoint ", 0) != 0) continue;
    ++checkpoints;
    const std::string id = events[i].substr(11, events[i].find(' ', 11) - 11);
    const std::string positions = events[i].substr(11 + id.size());
    const std::size_t done = index_of(events, "checkpoint-done " + id);
    const std::size_t committed = index_of(events, "commit" + positions);
    ASSERT_LT(done, events.size()) << join(events);
    EXPECT_LT(done, committed) << "checkpoint " << id << join(events);
    EXPECT_LT(committed, events.size()) << "checkpoint " << id << join(events);
    // The next checkpoint starts only after this one's commit is done.
    const std::size_t next = index_of(events, "checkpoint " + std::to_string(std::stoi(id) + 1));
    if (next < events.size()) {
      EXPECT_LT(committed, next) << join(events);
    }
  }
  EXPECT_GE(checkpoints, 3);
  // The final checkpoint covered everything.
  EXPECT_EQ(source.committed(0), sink.written_next(0));
  EXPECT_EQ(source.committed(1), sink.written_next(1));
}

TEST(JobRunnerStateTest, AFailedBackgroundCommitStopsTheJobWithoutCommittingItsPositions) {
  EventLog log;
  JobSink sink(log);
  FakeSource source({.partitions = {0}, .records = 0}, sink, log);
  GatedState state(log);
  state.fail(2);
  source.on_poll = [&](FakeSource& s) { s.append(0, 5); };
  JobRunnerOptions options = runner_options(10ms);
  options.state = &state;
  JobRunner runner(options, source, JobSinks(&sink), make_factory());
  Status status = runner.run();
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("checkpoint failed"));
  EXPECT_THAT(status.message(), HasSubstr("the disk is full"));
  const std::vector<std::string> events = log.events();
  ASSERT_EQ(source.commits_.size(), 1u) << join(events);  // checkpoint 1's only
  EXPECT_LT(index_of(events, "checkpoint-done 1"), events.size()) << join(events);
  EXPECT_EQ(index_of(events, "checkpoint 3"), events.size()) << "no checkpoint after the failure: " << join(events);
}

// A job reading 5 records a poll, with a backend whose budget a test can say
// it is over (GatedState::set_over_budget), memory checkpoints at least
// 50 ms apart, and periodic ones every `interval`.
struct BudgetedJob {
  explicit BudgetedJob(std::chrono::milliseconds interval) : options(runner_options(interval, &stop)) {
    source.on_poll = [](FakeSource& s) { s.append(0, 5); };
    options.memory_checkpoint_gap = 50ms;
    options.state = &state;
  }
  EventLog log;
  JobSink sink{log};
  std::atomic<bool> stop{false};
  FakeSource source{{.partitions = {0}, .records = 0, .strict = false}, sink, log};
  GatedState state{log};
  JobRunnerOptions options;
};

// Over its memory budget, the backend gets checkpoints (which evict) before
// the interval is up, each at least memory_checkpoint_gap after the one
// before; under it, only the interval's.
TEST(JobRunnerStateTest, StateOverItsMemoryBudgetBringsCheckpointsForward) {
  BudgetedJob job(std::chrono::hours(1));
  auto& [log, sink, stop, source, state, options] = job;
  JobRunner runner(options, source, JobSinks(&sink), make_factory());
  uint64_t under_budget = 0;
  uint64_t over_budget = 0;
  std::thread watcher([&] {
    std::this_thread::sleep_for(300ms);
    under_budget = state.started();
    state.set_over_budget(true);
    std::this_thread::sleep_for(500ms);
    over_budget = state.started() - under_budget;
    state.set_over_budget(false);
    stop = true;
  });
  Status status = runner.run();
  watcher.join();
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(under_budget, 0u) << "a checkpoint before the hour's interval, under the budget: " << join(log.events());
  // 500 ms at one checkpoint per 50 ms at most.
  EXPECT_GE(over_budget, 2u) << join(log.events());
  EXPECT_LE(over_budget, 11u) << join(log.events());
  EXPECT_EQ(source.committed(0), sink.written_next(0));
}

// A stage that passes its input on and logs each Task::shed_memory.
struct ShedLogger {
  using input_type = std::string;
  using output_type = std::string;
  EventLog* log;
  template <class Emit>
  void process(Element<std::string>&& e, Emit& emit) {
    emit(std::move(e));
  }
  void shed_memory() { log->add("shed"); }
};
struct ShedLoggerSpec {
  EventLog* log;
  template <class T>
  ShedLogger make_stage() const {
    return {log};
  }
};

// Over the budget, the tasks wait for the checkpoint's commit and only then
// drop state: what it wrote may leave memory at once. Periodic checkpoints
// commit in the background and leave state as it is.
TEST(JobRunnerStateTest, OverItsBudgetATaskShedsStateOnceTheCheckpointIsCommitted) {
  BudgetedJob job(100ms);
  auto& [log, sink, stop, source, state, options] = job;
  TaskFactory factory = [&](const PartitionId& partition) -> std::unique_ptr<Task> {
    auto p = pipeline<std::string>().then(ShedLoggerSpec{&log});
    return std::make_unique<PipelineTask<decltype(p), TestCodec, BytesCodec>>(partition, ErrorPolicy::kFail, p,
                                                                              TestCodec{}, BytesCodec{});
  };
  JobRunner runner(options, source, JobSinks(&sink), factory);
  std::thread watcher([&] {
    std::this_thread::sleep_for(350ms);
    log.add("over");
    state.set_over_budget(true);
    std::this_thread::sleep_for(400ms);
    state.set_over_budget(false);
    stop = true;
  });
  Status status = runner.run();
  watcher.join();
  ASSERT_TRUE(status.is_ok()) << status.to_string();

  const std::vector<std::string> events = log.events();
  std::size_t sheds = 0;
  bool over = false;            // the budget may have been exceeded
  std::string last_checkpoint;  // the newest "checkpoint <id>" event, and "done" once it is
  for (const std::string& e : events) {
    if (e == "over") over = true;
    if (e.rfind("checkpoint ", 0) == 0) last_checkpoint = e.substr(0, e.find(' ', 11));
    if (e.rfind("checkpoint-done ", 0) == 0 && last_checkpoint == "checkpoint " + e.substr(16)) {
      last_checkpoint = "done";
    }
    if (e != "shed") continue;
    ++sheds;
    EXPECT_TRUE(over) << "a shed under the budget:\n" << join(events);
    EXPECT_EQ(last_checkpoint, "done") << "a shed before its checkpoint was committed:\n" << join(events);
  }
  EXPECT_GE(sheds, 2u) << join(events);
  EXPECT_GE(std::count(events.begin(), events.end(), "checkpoint-done 1"), 1) << "no periodic checkpoint first";
  EXPECT_EQ(source.committed(0), sink.written_next(0));
}

}  // namespace
}  // namespace kappa
