#include "runtime/task_runner.h"

#include <chrono>

namespace kappa {

TaskRunner::TaskRunner(std::unique_ptr<Task> task, std::unique_ptr<PartitionReader> reader,
                       const JobSinks& sinks, Executor& executor, TaskRunnerOptions options,
                       std::function<void(const Status&)> on_failure)
    : task_(std::move(task)),
      reader_(std::move(reader)),
      sinks_(sinks),
      executor_(executor),
      options_(options),
      on_failure_(std::move(on_failure)) {
  batch_.reserve(options_.batch_size);
  output_.side.resize(sinks_.side.size());
  output_.flush = [this] { return write_output(); };
}

TaskRunner::~TaskRunner() {
  {
    std::unique_lock lock(mu_);
    KAPPA_CHECK(state_ == State::kIdle, "a task runner was destroyed while a turn was queued or running");
  }
  // The reader goes first: once it is destroyed no wake-up can arrive, so
  // none can touch the mutex while it is being destroyed.
  reader_.reset();
}

void TaskRunner::start() {
  reader_->set_wakeup([this] { wake(); });
  wake();
}

void TaskRunner::wake() {
  std::lock_guard lock(mu_);
  wake_pending_ = true;
  if (state_ == State::kIdle && !paused_ && !failed_ && !finished()) schedule_locked();
}

void TaskRunner::schedule_locked() {
  state_ = State::kQueued;
  executor_.enqueue([this] { run_turn(); });
}

void TaskRunner::pause() {
  std::unique_lock lock(mu_);
  paused_ = true;
  idle_.wait(lock, [this] { return state_ == State::kIdle; });
}

void TaskRunner::resume() {
  std::lock_guard lock(mu_);
  paused_ = false;
  if (wake_pending_ && state_ == State::kIdle && !failed_ && !finished()) schedule_locked();
}

std::optional<int64_t> TaskRunner::next_offset() const {
  const int64_t offset = next_offset_.load(std::memory_order_acquire);
  if (offset < 0) return std::nullopt;
  return offset;
}

void TaskRunner::run_turn() {
  {
    std::lock_guard lock(mu_);
    if (paused_) {
      // This turn was queued for a reason (a wake-up, or records left over
      // from the last turn) that no new wake-up will repeat: keep it for resume().
      wake_pending_ = true;
      state_ = State::kIdle;
      idle_.notify_all();
      return;
    }
    state_ = State::kRunning;
    wake_pending_ = false;
  }
  const Turn turn = process_batches();
  std::lock_guard lock(mu_);
  if (turn == Turn::kEnd) finished_.store(true, std::memory_order_release);
  if (turn == Turn::kFailed) failed_ = true;
  const bool more = (turn == Turn::kMore || wake_pending_) && turn != Turn::kEnd && turn != Turn::kFailed;
  if (more && !paused_) {
    // Back to the end of the queue rather than looping here, so that other
    // partitions get their turn.
    schedule_locked();
  } else {
    state_ = State::kIdle;
    if (more) wake_pending_ = true;
    idle_.notify_all();
  }
}

Status TaskRunner::write_output() {
  if (!output_.results.empty()) KAPPA_RETURN_IF_ERROR(sinks_.results->write(output_.results));
  if (sinks_.late != nullptr && !output_.late.empty()) KAPPA_RETURN_IF_ERROR(sinks_.late->write(output_.late));
  for (std::size_t i = 0; i < sinks_.side.size(); ++i) {
    Sink* side = sinks_.side[i];
    if (side != nullptr && !output_.side[i].empty()) KAPPA_RETURN_IF_ERROR(side->write(output_.side[i]));
  }
  if (!output_.dead_letters.empty()) {
    if (sinks_.dead_letters == nullptr) {
      return Status::internal("the task wrote dead letters but the job has no dead-letter sink (--dlq-topic)");
    }
    KAPPA_RETURN_IF_ERROR(sinks_.dead_letters->write(output_.dead_letters));
  }
  return Status::ok();
}

TaskRunner::Turn TaskRunner::process_batches() {
  for (int i = 0; i < options_.batches_per_turn; ++i) {
    Result<ReadStatus> read = reader_->read(batch_, options_.batch_size);
    Status status = read.status();
    if (read.is_ok() && *read == ReadStatus::kEmpty) return Turn::kDrained;
    output_.clear();
    if (read.is_ok() && *read == ReadStatus::kEndOfRange) {
      // Nothing fires: whoever continues the stream sees the rest of event
      // time, from this position.
      next_offset_.store(reader_->end_of_range(), std::memory_order_release);
      return Turn::kEnd;
    }
    if (read.is_ok() && *read == ReadStatus::kEnd) {
      // Event time is over for this input: open windows fire now.
      status = task_->finish(output_);
      if (status.is_ok()) status = write_output();
      if (status.is_ok()) return Turn::kEnd;
    } else if (read.is_ok()) {
      status = task_->process(batch_, output_);
      if (status.is_ok()) status = write_output();
      if (status.is_ok() && options_.end_to_end_latency != nullptr && !output_.results.empty()) {
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch());
        options_.end_to_end_latency->observe(static_cast<double>(now.count() - batch_.back().timestamp) / 1000.0);
      }
    }
    if (!status.is_ok()) {
      on_failure_(status);
      return Turn::kFailed;
    }
    next_offset_.store(batch_.back().offset + 1, std::memory_order_release);
  }
  return Turn::kMore;
}

}  // namespace kappa
