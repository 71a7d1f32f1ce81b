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
// A restored stage must produce byte-identical output to one that never
// stopped.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
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
};

class StateReader {
 public:
  virtual ~StateReader() = default;
  // Calls f(key, value) for every entry, in ascending byte order of the
  // keys; the views last for the call. Stops at, and returns, the first
  // error f returns, or an error reading the entries.
  virtual Status scan(const std::function<Status(std::string_view key, std::string_view value)>& f) = 0;
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
};

}  // namespace kappa
