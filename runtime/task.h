// Task: one input partition's instance of the operator chain.
//
// The runtime creates a Task when a partition is assigned and drives it from
// one thread at a time (see TaskRunner), one batch per call. PipelineTask is
// the compiled form: decode with the input codec, push through the Pipeline,
// encode with the output codec, with no virtual call per record.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/codec.h"
#include "runtime/output_batch.h"
#include "runtime/pipeline.h"
#include "runtime/record.h"
#include "runtime/source.h"
#include "runtime/stage_context.h"
#include "runtime/state.h"
#include "runtime/status.h"

namespace kappa {

// What a task does with a record that fails to decode or makes user code throw.
enum class ErrorPolicy {
  kFail,        // stop the job with an error naming the record
  kSkip,        // count it, log it (rate-limited) and go on
  kDeadLetter,  // write it to TaskOutput::dead_letters (with the headers below), count it, log it and go on
};

// Why a record is bad.
enum class BadRecordKind {
  kDecode,    // the input codec rejected its value
  kUserCode,  // the job's code threw on it
};

// A dead letter is the bad record's key, value and timestamp as they came,
// its own headers, then these (appended, so that Java's lastHeader() finds
// them on a dead letter that went through a dead-letter queue before).
namespace dead_letter_header {
inline constexpr std::string_view kSourceTopic = "kappa.source.topic";
inline constexpr std::string_view kSourcePartition = "kappa.source.partition";  // decimal
inline constexpr std::string_view kSourceOffset = "kappa.source.offset";        // decimal
inline constexpr std::string_view kErrorKind = "kappa.error.kind";              // error_kind_name()
inline constexpr std::string_view kErrorMessage = "kappa.error.message";        // the codec's or exception's message
}  // namespace dead_letter_header

// The kappa.error.kind of a dead letter: "decode" or "user-code".
std::string_view error_kind_name(BadRecordKind kind);

// Totals a task updates once per batch; read by the runtime from any thread.
struct TaskCounters {
  std::atomic<uint64_t> records_in{0};
  std::atomic<uint64_t> records_out{0};
  std::atomic<uint64_t> records_skipped{0};
  std::atomic<uint64_t> records_dead_lettered{0};
  std::atomic<uint64_t> records_late{0};
  // The task's watermark: the event time its input has reached (epoch ms;
  // kMinTimestamp before the first, kMaxTimestamp once a bounded input
  // ended). Stays at kMinTimestamp for a pipeline without event time.
  std::atomic<Timestamp> watermark{kMinTimestamp};
};

// What a task produces from a batch: results for the sink, the input
// records that came too late for an operator (for the late output), and
// the bad records under ErrorPolicy::kDeadLetter.
struct TaskOutput {
  OutputBatch results;
  OutputBatch late;
  std::vector<OutputBatch> side;  // one per side output of the job (JobSinks::side)
  OutputBatch dead_letters;

  // Writes the batches above to the sinks. A task calls it in the middle of
  // a batch once its results take kFlushBytes, and then clears them, so
  // that a fire of many windows (a window end many keys share, the end of
  // the input) does not wait in memory for the end of the batch. A record
  // that throws after it was called takes back only the output emitted
  // since. Set by the runner; empty (the default): the output waits.
  std::function<Status()> flush;
  static constexpr std::size_t kFlushBytes = 8 << 20;

  void clear() {
    results.clear();
    late.clear();
    for (OutputBatch& batch : side) batch.clear();
    dead_letters.clear();
  }
};

class Task {
 public:
  Task(PartitionId partition, ErrorPolicy policy) : partition_(std::move(partition)), policy_(policy) {}
  virtual ~Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  // Processes one batch, appending to `out` (which the caller clears). An
  // error means the job must stop.
  virtual Status process(std::span<const Record> batch, TaskOutput& out) = 0;

  // The input has ended for good (a bounded input read to its end): emits
  // whatever waits for event time to pass, such as open windows.
  virtual Status finish(TaskOutput& out) = 0;

  // Checkpoints (runtime/state.h): writes what the task's state changed
  // since the last checkpoint, at a batch boundary; rebuilds the state once,
  // before the first batch. A stateless task has nothing to do.
  virtual void checkpoint(TaskState& /*state*/) {}
  virtual Status restore(TaskState& /*state*/) { return Status::ok(); }
  // Under a memory budget (--state-memory), drops from memory the state the
  // last checkpoint wrote that the budget has no room for. REQUIRES: that
  // checkpoint is committed, and no batch ran since.
  virtual void shed_memory() {}

  const PartitionId& partition() const { return partition_; }
  const TaskCounters& counters() const { return counters_; }

 protected:
  // Applies the error policy to one bad record: an error Status under kFail,
  // OK (counted and logged) under kSkip, and under kDeadLetter OK with the
  // dead letter appended to `dead_letters`.
  Status on_bad_record(const Record& record, BadRecordKind kind, std::string_view detail, OutputBatch& dead_letters);
  void publish_watermark(Timestamp t) { counters_.watermark.store(t, std::memory_order_relaxed); }
  void count_batch(uint64_t in, uint64_t out, uint64_t late) {
    counters_.records_in.fetch_add(in, std::memory_order_relaxed);
    counters_.records_out.fetch_add(out, std::memory_order_relaxed);
    counters_.records_late.fetch_add(late, std::memory_order_relaxed);
  }

 private:
  PartitionId partition_;
  ErrorPolicy policy_;
  TaskCounters counters_;
  // Logs a skipped or dead-lettered record, rate-limited so that a topic
  // full of bad records cannot flood the log.
  void log_bad_record(const char* done, const Record& record, BadRecordKind kind, std::string_view detail);

  std::chrono::steady_clock::time_point last_bad_record_log_{};
  uint64_t bad_records_not_logged_ = 0;
};

template <class P, class InCodec, class OutCodec>
  requires Codec<InCodec, typename P::input_type> && Codec<OutCodec, typename P::output_type>
class PipelineTask final : public Task, private StageContext {
 public:
  using In = typename P::input_type;
  using Out = typename P::output_type;

  PipelineTask(PartitionId partition, ErrorPolicy policy, P pipeline, InCodec in_codec, OutCodec out_codec)
      : Task(std::move(partition), policy),
        pipeline_(std::move(pipeline)),
        in_codec_(std::move(in_codec)),
        out_codec_(std::move(out_codec)) {
    pipeline_.bind(*this);
  }

  Status process(std::span<const Record> batch, TaskOutput& out) override {
    start_output(out);
    ResultSink emit{this, &out.results};
    for (const Record& record : batch) {
      if (!flush_error_.is_ok()) break;
      // Decode into the same element every time, so decoding allocates only when
      // a value outgrows what the previous one left (or a stage moves it out).
      Status decoded = in_codec_.decode(record.value, scratch_.value);
      if (!decoded.is_ok()) {
        KAPPA_RETURN_IF_ERROR(on_bad_record(record, BadRecordKind::kDecode, decoded.message(), out.dead_letters));
        continue;
      }
      scratch_.meta = RecordMeta{record.key, record.timestamp, record.partition, record.offset};
      current_ = &record;
      reported_late_ = false;
      mark_output(out);
      try {
        pipeline_.push(std::move(scratch_), emit);
      } catch (const std::exception& e) {
        // A bad record leaves no result: drop what it emitted before throwing.
        undo_output(out);
        KAPPA_RETURN_IF_ERROR(on_bad_record(record, BadRecordKind::kUserCode, e.what(), out.dead_letters));
      } catch (...) {
        undo_output(out);
        KAPPA_RETURN_IF_ERROR(
            on_bad_record(record, BadRecordKind::kUserCode, "a non-standard exception", out.dead_letters));
      }
    }
    current_ = nullptr;
    return end_output(batch.size());
  }

  void checkpoint(TaskState& state) override { pipeline_.checkpoint(state); }
  Status restore(TaskState& state) override { return pipeline_.restore(state); }
  void shed_memory() override { pipeline_.shed_memory(); }

  Status finish(TaskOutput& out) override {
    start_output(out);
    ResultSink emit{this, &out.results};
    try {
      pipeline_.finish(emit);
    } catch (const std::exception& e) {
      output_ = nullptr;
      return Status::internal("the job's code threw at the end of the input: " + std::string(e.what()));
    }
    return end_output(0);
  }

 private:
  struct ResultSink {
    PipelineTask* task;
    OutputBatch* results;
    void operator()(Element<Out>&& result) const {
      results->add(result.meta.key, result.meta.timestamp,
                   [&](std::string& bytes) { task->out_codec_.encode(result.value, bytes); });
      if (results->memory_bytes() >= TaskOutput::kFlushBytes) task->flush_output();
    }
    void watermark(Timestamp t) const { task->publish_watermark(t); }
  };

  // A batch's output: appended to `out` and counted from what it holds now.
  void start_output(TaskOutput& out) {
    output_ = &out;
    counted_results_ = out.results.size();
    counted_late_ = out.late.size();
    flushed_results_ = 0;
    flushed_late_ = 0;
    flush_error_ = Status::ok();
  }
  Status end_output(std::size_t records_in) {
    count_batch(records_in, flushed_results_ + output_->results.size() - counted_results_,
                flushed_late_ + output_->late.size() - counted_late_);
    output_ = nullptr;
    return std::exchange(flush_error_, Status::ok());
  }
  // TaskOutput::flush, then an empty output; the record being pushed can
  // take back only what it emits from here. After an error nothing more is
  // flushed, and the batch stops at the next record.
  void flush_output() {
    TaskOutput& out = *output_;
    if (!out.flush || !flush_error_.is_ok()) return;
    flushed_results_ += out.results.size() - counted_results_;
    flushed_late_ += out.late.size() - counted_late_;
    counted_results_ = 0;
    counted_late_ = 0;
    flush_error_ = out.flush();
    out.clear();
    results_mark_ = 0;
    std::fill(side_marks_.begin(), side_marks_.end(), 0);
  }

  // Remembers the output's sizes before a record, so that a record that
  // throws can take back what it emitted.
  void mark_output(const TaskOutput& out) {
    results_mark_ = out.results.size();
    side_marks_.resize(out.side.size());
    for (std::size_t i = 0; i < out.side.size(); ++i) side_marks_[i] = out.side[i].size();
  }
  void undo_output(TaskOutput& out) {
    out.results.truncate(results_mark_);
    for (std::size_t i = 0; i < out.side.size(); ++i) out.side[i].truncate(side_marks_[i]);
  }

  OutputBatch* side_output(std::size_t index) override {
    return output_ != nullptr && index < output_->side.size() ? &output_->side[index] : nullptr;
  }

  void report_late() override {
    if (reported_late_ || current_ == nullptr) return;
    reported_late_ = true;
    output_->late.add(current_->key, current_->timestamp, [&](std::string& bytes) { bytes.append(current_->value); });
  }

  P pipeline_;
  InCodec in_codec_;
  OutCodec out_codec_;
  Element<In> scratch_{};
  // The record being pushed, for report_late().
  const Record* current_ = nullptr;
  // The output of the batch being processed, for side_output() and report_late().
  TaskOutput* output_ = nullptr;
  bool reported_late_ = false;
  std::size_t results_mark_ = 0;
  std::vector<std::size_t> side_marks_;
  // This batch's output (start_output): where the counts start in the
  // output, what flush_output() wrote, and its error.
  std::size_t counted_results_ = 0;
  std::size_t counted_late_ = 0;
  uint64_t flushed_results_ = 0;
  uint64_t flushed_late_ = 0;
  Status flush_error_;
};

}  // namespace kappa
