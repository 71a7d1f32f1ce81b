// The interface between stateful operators and the state backend (DESIGN.md
// §5), with no storage library behind it: operators write their state
// through StateWriter at a checkpoint and read it back through StateReader
// when a task is restored; state/ implements both over RocksDB, tests over
// a map.
//
// Every stateful stage of a task has its own namespace (the backend keys it
// by task and stage: one column family per stateful operator, key = task,
// then the operator's key). Within it the operator chooses the keys: one
// entry per key, or per key and window, so that a checkpoint writes only
// what changed since the previous one.
//
// Hooks a stage may have (found by the Pipeline, like on_watermark):
//   void checkpoint(StateWriter&)     // write what changed since the last
//                                     // checkpoint (or restore)
//   Status restore(StateReader&)      // rebuild from the entries; called
//                                     // once, on a fresh stage, before any
//                                     // element
//   void shed_memory()                // under a memory budget, drop what
//                                     // the last (committed) checkpoint
//                                     // wrote and the budget has no room for
// A restored stage must produce byte-identical output to one that never
// stopped.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/source.h"
#include "runtime/status.h"

namespace kappa {

class StateWriter {
 public:
  virtual ~StateWriter() = default;
  // Sets `key` to `value` (bytes of any content, copied).
  virtual void put(std::string_view key, std::string_view value) = 0;
  // Removes `key`; removing an absent key is fine.
  virtual void remove(std::string_view key) = 0;
  // Removes every entry with `from` <= key < `to` that the previous
  // checkpoint left: it applies before this checkpoint's other changes,
  // whatever the order they were written in. One change, however many
  // entries it removes.
  virtual void remove_range(std::string_view from, std::string_view to) = 0;
};

// The memory budget for keyed state (--state-memory), shared by every task
// of a process. Operators report an estimate of what their state holds in
// memory; past the budget they drop their coldest entries at a checkpoint,
// and read them back through StateReader::get() when next needed
// (operators/keyed/key_table.h). Thread-safe.
class StateMemory {
 public:
  explicit StateMemory(int64_t budget_bytes) : budget_(budget_bytes) {}
  int64_t budget() const { return budget_; }
  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  // Adds to (or, negative, takes from) the estimate.
  void add(int64_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }
  // The share of its in-memory state each holder should drop to bring the
  // total back under the budget: 0 when it is under.
  double excess() const {
    const int64_t used_now = used();
    return used_now <= budget_ ? 0.0 : static_cast<double>(used_now - budget_) / static_cast<double>(used_now);
  }
  // A holder has evicted what it could: what is left now is the floor
  // grown() measures from.
  void settled() {
    floor_.store(used(), std::memory_order_relaxed);
    measured_.store(true, std::memory_order_relaxed);
  }
  // Whether the estimate is over the budget by a quarter of it more than the
  // last eviction left: then evicting again frees at least that. What cannot
  // leave memory (keys, timers, entries touched since the last checkpoint)
  // may alone exceed the budget; measured from the floor, such state does
  // not make every check say yes. Also true while there is state and no
  // eviction has run yet: until a checkpoint has seen the entries' encoded
  // sizes, the estimate counts their slots only, so the first checkpoint
  // should come early.
  bool grown() const {
    if (!measured_.load(std::memory_order_relaxed)) return used() > 0;
    return used() > std::max(budget_, floor_.load(std::memory_order_relaxed)) + budget_ / 4;
  }

 private:
  const int64_t budget_;
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> floor_{0};
  std::atomic<bool> measured_{false};  // settled() was called
};

// What one holder (a KeyTable) has added to a StateMemory, taken back when
// the holder goes; moving it moves the charge. Holders are copied only
// before they have a budget (pipelines are prototypes each task copies):
// copying one that has is a bug.
class StateMemoryCharge {
 public:
  StateMemoryCharge() = default;
  StateMemoryCharge(const StateMemoryCharge& other) { check_uncharged(other); }
  StateMemoryCharge& operator=(const StateMemoryCharge& other) {
    check_uncharged(other);
    release();
    memory_ = nullptr;
    return *this;
  }
  StateMemoryCharge(StateMemoryCharge&& other) noexcept
      : memory_(other.memory_), bytes_(std::exchange(other.bytes_, 0)) {}
  StateMemoryCharge& operator=(StateMemoryCharge&& other) noexcept {
    if (this != &other) {
      release();
      memory_ = other.memory_;
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  ~StateMemoryCharge() { release(); }

  // The holder now has `bytes` in `memory` (nullptr: no budget).
  void set(StateMemory* memory, int64_t bytes) {
    if (memory != memory_) {
      release();
      memory_ = memory;
    }
    if (memory_ == nullptr) return;
    memory_->add(bytes - bytes_);
    bytes_ = bytes;
  }

 private:
  void release() {
    if (memory_ != nullptr) memory_->add(-bytes_);
    bytes_ = 0;
  }
  static void check_uncharged(const StateMemoryCharge& other) {
    KAPPA_CHECK(other.memory_ == nullptr, "state kept under a memory budget cannot be copied");
  }

  StateMemory* memory_ = nullptr;
  int64_t bytes_ = 0;
};

class StateReader {
 public:
  virtual ~StateReader() = default;
  // Calls f(key, value) for every entry with `from` <= key < `to` (an empty
  // `to`: to the last entry), in ascending byte order of the keys; the views
  // last for the call. Stops at, and returns, the first error f returns, or
  // an error reading the entries.
  virtual Status scan(std::string_view from, std::string_view to,
                      const std::function<Status(std::string_view key, std::string_view value)>& f) = 0;
  // Every entry.
  Status scan(const std::function<Status(std::string_view key, std::string_view value)>& f) { return scan({}, {}, f); }
  // Calls f(key, value) for the entries with `from` <= key < `to`, in
  // ascending byte order, until f returns false; the views last for the
  // call. For short reads done often (a keyed table's due timers), where
  // scan() is for reading a whole namespace once. Reads what scan() reads.
  virtual Status read_while(std::string_view from, std::string_view to,
                            const std::function<bool(std::string_view key, std::string_view value)>& f) = 0;
  // The value of one entry, nothing if it has none. Like scan(), it reads
  // the state as of the last checkpoint (or restore).
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  // Several entries at once, as get() reads each: calls found(i, value) for
  // every keys[i] that has a value, in no particular order; `keys` must be in
  // ascending byte order. Much faster than a get() per key when there are
  // many: a backend over files reads each of their blocks once for all the
  // keys in it. This default calls get() per key.
  virtual Status get_many(std::span<const std::string> keys,
                          const std::function<void(std::size_t i, std::string_view value)>& found) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      KAPPA_ASSIGN_OR_RETURN(std::optional<std::string> value, get(keys[i]));
      if (value) found(i, *value);
    }
    return Status::ok();
  }
  // The budget this task's state counts against; nullptr (the default):
  // none, the state stays in memory.
  virtual StateMemory* memory() const { return nullptr; }
};

// One task's state in the backend: the namespaces of its stages, by the
// stage's position in the pipeline.
class TaskState {
 public:
  virtual ~TaskState() = default;
  virtual StateWriter& writer(std::size_t stage) = 0;
  virtual StateReader& reader(std::size_t stage) = 0;
};

struct CheckpointStats {
  uint64_t id = 0;
  uint64_t size_bytes = 0;  // on disk
  std::chrono::microseconds duration{0};
  uint64_t state_entries = 0;  // keyed state entries in the checkpoint (an estimate)
};

// What the job runner needs of a state backend (state/CheckpointStore):
// task states to write into at a checkpoint and restore from, the positions
// the last checkpoint recorded, and the commit of a checkpoint. Called from
// the runner's coordinator thread, except that each TaskState is used by
// its task (while the coordinator waits).
class StateBackend {
 public:
  virtual ~StateBackend() = default;
  virtual TaskState& task(const PartitionId& partition) = 0;
  // The task left this process; its state stays in the backend.
  virtual Status release_task(const PartitionId& partition) = 0;
  // Where the restored checkpoint says to resume reading the partition;
  // nothing when it has no position for it.
  virtual std::optional<int64_t> resume_offset(const PartitionId& partition) const = 0;
  // Makes everything written through the tasks since the last checkpoint,
  // with these positions, one durable checkpoint.
  virtual Result<CheckpointStats> checkpoint(const std::vector<PartitionPosition>& positions) = 0;
  // With exactly-once output (runtime/output_transaction.h): the transaction
  // carrying checkpoint `id`'s outputs and positions has committed, so a
  // restart may resume from it (and checkpoints before it may go). Until
  // then it is pending. Backends that do not distinguish the two (their
  // checkpoints never wait for an output transaction) need not override it.
  virtual Status confirm(uint64_t id) {
    (void)id;
    return Status::ok();
  }
  // Whether the keyed state in memory has grown past its budget
  // (--state-memory) by enough that the next checkpoint should not wait for
  // the interval: the runner then takes one, waits for its commit and has
  // the tasks evict what the budget has no room for (Task::shed_memory).
  // Cheap: the runner asks at every poll. Backends without a budget need
  // not override it.
  virtual bool over_memory_budget() const { return false; }
};

}  // namespace kappa
