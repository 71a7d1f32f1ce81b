// JobRunner: runs one job in this process, from a Source to a Sink.
//
// It is the coordinator: on its own thread it serves the source's group
// events, creates a TaskRunner for each assigned partition and removes it on
// revocation, and every commit interval it stops all tasks at a batch
// boundary, flushes the sink and commits the positions reached, so a restart
// loses nothing (outputs are at-least-once). It stops on request (SIGTERM),
// at the end of a bounded input, or at the first error.
//
// With an OutputTransaction (exactly-once output) a checkpoint is: pause
// every task, flush, tasks write their state, the state backend makes it a
// checkpoint (pending), the transaction commits the outputs with the
// checkpoint's positions (the source commits nothing itself), the backend
// confirms the checkpoint, and the next transaction begins. Kill points
// before_transaction_commit and after_transaction_commit (kill_point.h)
// bracket the commit.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/executor.h"
#include "runtime/output_transaction.h"
#include "runtime/sink.h"
#include "runtime/source.h"
#include "runtime/state.h"
#include "runtime/task.h"
#include "runtime/task_runner.h"

namespace kappa {

using TaskFactory = std::function<std::unique_ptr<Task>(const PartitionId&)>;

struct JobRunnerOptions {
  // Worker threads for tasks. Default 1.
  int threads = 1;
  // How often output is flushed and positions are committed. Default 10 s.
  std::chrono::milliseconds commit_interval{10'000};
  // Sooner when the state backend is over its memory budget
  // (StateBackend::over_memory_budget), but at least this long after the
  // previous one. Such a checkpoint holds the tasks until it is committed,
  // and then they drop what the budget has no room for (Task::shed_memory);
  // the gap keeps a job whose hot entries alone fill the budget from doing
  // that at every poll. Default 1 s.
  std::chrono::milliseconds memory_checkpoint_gap{1'000};
  // How long a flush may take before the job fails. Default 60 s.
  std::chrono::milliseconds flush_timeout{60'000};
  TaskRunnerOptions task;
  // Set (by a signal handler, say) to stop the job cleanly. Optional.
  const std::atomic<bool>* stop_requested = nullptr;
  // Where tasks keep their state across restarts (state/CheckpointStore).
  // Optional: without it state lives in memory only, and a restart resumes
  // from the group's committed positions with empty state.
  StateBackend* state = nullptr;
  // Exactly-once output: every output goes into this transaction, which each
  // checkpoint commits with its positions (instead of Source::commit).
  // Optional; REQUIRES `state` when set, since after a crash the checkpoint
  // must resume exactly where the committed outputs end.
  OutputTransaction* transaction = nullptr;
  // Called on the coordinator thread about every 100 ms while the job runs
  // (to show progress, say), and once more when it has stopped. Optional.
  std::function<void()> on_tick;
  // Called on the coordinator thread after each checkpoint committed to the
  // state backend. Optional.
  std::function<void(const CheckpointStats&)> on_checkpoint;
};

// Where one task has got to; see JobRunner::task_snapshots().
struct TaskSnapshot {
  PartitionId partition;
  int64_t next_offset = -1;  // after the last batch written; -1 before the first
  Timestamp watermark = kMinTimestamp;
};

struct JobTotals {
  uint64_t records_in = 0;
  uint64_t records_out = 0;
  uint64_t records_skipped = 0;
  uint64_t records_dead_lettered = 0;
  uint64_t records_late = 0;
};

class JobRunner final : private SourceListener {
 public:
  // Tasks write to `sinks` (sinks.results is required).
  JobRunner(JobRunnerOptions options, Source& source, JobSinks sinks, TaskFactory make_task);
  ~JobRunner() override;

  // Runs until a stop is requested, a bounded input ends, or something fails.
  // Before returning it finishes in-flight batches, flushes the sink, commits
  // positions (unless it failed) and closes the source.
  Status run();

  // Safe to call from any thread while run() is going on.
  JobTotals totals() const;
  // One per running task, by partition. Safe to call from any thread.
  std::vector<TaskSnapshot> task_snapshots() const;

 private:
  void on_assigned(const PartitionId& partition, std::unique_ptr<PartitionReader> reader) override;
  void on_revoked(const std::vector<PartitionId>& partitions) override;

  void fail(const Status& status);
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // Whether checkpoint() returns before the state backend's commit is done.
  enum class CommitWait { kBackground, kDone };
  // Pauses the given tasks, flushes the sinks, makes their state changes and
  // positions a checkpoint (with a state backend), then commits the
  // positions to the source, or with the output transaction. Leaves them
  // paused. With a transaction, `tasks` must be every task: the transaction
  // holds the outputs of all of them.
  //
  // With a state backend and no transaction the tasks wait only for their
  // state changes to be serialized: with kBackground, the backend's commit
  // (write, checkpoint files, manifest) and the source commit after it run
  // while the tasks go on, finished by finish_commit(). A transaction cannot
  // let them go on: their next outputs would join the open transaction.
  Status checkpoint(const std::vector<TaskRunner*>& tasks, CommitWait wait);
  // Waits for the checkpoint committing in the background, if any, then
  // commits its positions to the source. Called before anything else uses
  // the state backend or the committed positions, so that checkpoints stay
  // in order and restores read complete ones.
  Status finish_commit();
  // Each task writes its state changes (Task::checkpoint): the coordinator
  // and the executor's idle workers take them in turn. REQUIRES: paused.
  void serialize_states(const std::vector<TaskRunner*>& tasks);
  // The exactly-once end of a checkpoint: commits the transaction with the
  // positions of checkpoint `checkpoint_id`, confirms the checkpoint and
  // begins the next transaction. Any error stops the job.
  Status commit_transaction(const std::vector<PartitionPosition>& positions, uint64_t checkpoint_id);
  // Fails the job if the checkpoint lost output; logs anything else.
  void handle_checkpoint(const Status& status, const char* what);
  // The checkpoint run() takes when the interval is up, or sooner when the
  // state is over its memory budget; resumes the tasks after it.
  void scheduled_checkpoint(bool over_memory_budget);
  std::vector<TaskRunner*> all_tasks();
  bool all_finished();

  JobRunnerOptions options_;
  Source& source_;
  JobSinks sinks_;
  TaskFactory make_task_;
  Executor executor_;

  mutable std::mutex tasks_mu_;  // guards tasks_ and retired_ for totals()
  std::map<PartitionId, std::unique_ptr<TaskRunner>> tasks_;
  JobTotals retired_;  // counters of tasks already removed

  std::map<PartitionId, int64_t> committed_;  // coordinator thread only

  // The checkpoint whose store commit is running (coordinator thread only).
  struct BackgroundCommit {
    std::future<Result<CheckpointStats>> stats;
    std::vector<PartitionPosition> positions;
  };
  std::optional<BackgroundCommit> background_commit_;

  std::mutex failure_mu_;
  Status failure_;
  std::atomic<bool> failed_{false};
};

}  // namespace kappa
