// TaskRunner: schedules one Task on the Executor, reading batches from its
// partition's reader and writing results to the sink.
//
// A runner is queued when its reader signals records (wake-up) and runs a few
// batches per turn, so many partitions share few threads fairly. It never
// spins: with nothing to read it goes idle until the next wake-up.
// pause() stops it at a batch boundary; that is the barrier the job uses
// before flushing output and committing positions.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "runtime/executor.h"
#include "runtime/metrics.h"
#include "runtime/output_batch.h"
#include "runtime/sink.h"
#include "runtime/source.h"
#include "runtime/task.h"

namespace kappa {

struct TaskRunnerOptions {
  // Records per batch read from the source. Default 1000.
  std::size_t batch_size = 1000;
  // Batches per turn on a thread before the runner yields to others. Default 8.
  int batches_per_turn = 8;
  // Where to observe, for each batch that produced results, the age in
  // seconds of its newest input record (by record timestamp) when the
  // results went to the sink. Optional.
  Histogram* end_to_end_latency = nullptr;
};

class TaskRunner {
 public:
  // Output goes to `sinks` (see JobSinks), which outlive the runner. `on_failure` is
  // called once, from a worker thread, if reading, processing or writing
  // fails; the runner then stays idle.
  TaskRunner(std::unique_ptr<Task> task, std::unique_ptr<PartitionReader> reader, const JobSinks& sinks,
             Executor& executor, TaskRunnerOptions options, std::function<void(const Status&)> on_failure);
  // REQUIRES: paused (or never started).
  ~TaskRunner();

  // Starts processing. Call once, from the coordinator thread.
  void start();
  // Returns once no batch is running or queued; wake-ups are remembered.
  void pause();
  void resume();

  // Whether a bounded input has been read to its end.
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  // The offset after the last batch handed to the sink, if any was.
  std::optional<int64_t> next_offset() const;
  const Task& task() const { return *task_; }
  // Writes the task's state changes (Task::checkpoint). REQUIRES: paused.
  void checkpoint_state(TaskState& state) { task_->checkpoint(state); }
  // Task::shed_memory. REQUIRES: paused since a checkpoint that is committed.
  void shed_memory() { task_->shed_memory(); }

 private:
  enum class State { kIdle, kQueued, kRunning };
  enum class Turn { kDrained, kMore, kEnd, kFailed };

  void wake();
  void run_turn();
  Turn process_batches();
  // Writes output_ to the sinks.
  Status write_output();
  void schedule_locked();  // REQUIRES: mu_ held, state_ == kIdle

  std::unique_ptr<Task> task_;
  std::unique_ptr<PartitionReader> reader_;
  const JobSinks& sinks_;
  Executor& executor_;
  TaskRunnerOptions options_;
  std::function<void(const Status&)> on_failure_;

  // Owned by whichever thread runs the turn.
  std::vector<Record> batch_;
  TaskOutput output_;

  std::mutex mu_;
  std::condition_variable idle_;
  State state_ = State::kIdle;  // guarded by mu_
  bool wake_pending_ = false;   // guarded by mu_
  bool paused_ = false;         // guarded by mu_
  bool failed_ = false;         // guarded by mu_
  std::atomic<bool> finished_{false};
  std::atomic<int64_t> next_offset_{-1};
};

}  // namespace kappa
