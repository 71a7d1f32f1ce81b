// The TaskState (runtime/state.h) of one task over the working database,
// and the pending write batch all tasks' writers add to. Internal to state/;
// CheckpointStore hands these out.
//
// Reads see the working database: the state as of the last commit (or the
// restored checkpoint), never a pending write. Writes go into the one
// PendingWrites of the store and reach the database only when
// CheckpointStore::commit applies them, atomically with the positions.
#pragma once

#include <rocksdb/write_batch.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/source.h"
#include "runtime/state.h"
#include "runtime/status.h"
#include "state/working_db.h"

namespace kappa::state_internal {

// The state changes of the next checkpoint, from every task. Thread-safe:
// tasks on different threads write at the same checkpoint barrier.
//
// Changes are appended to a plain buffer and become a RocksDB write batch
// only in take(), sorted by key: the tasks wait at the barrier while they
// write, and the commit that calls take() runs while they go on
// (runtime/job_runner.cc). RocksDB applies a batch in key order several
// times faster than in the order a hash table yields (bench/checkpoint_bench).
class PendingWrites {
 public:
  void put(rocksdb::ColumnFamilyHandle* family, std::string_view prefix, std::string_view key, std::string_view value);
  void remove(rocksdb::ColumnFamilyHandle* family, std::string_view prefix, std::string_view key);
  // The entries in [prefix + from, prefix + to): applied before the other
  // changes (StateWriter::remove_range).
  void remove_range(rocksdb::ColumnFamilyHandle* family, std::string_view prefix, std::string_view from,
                    std::string_view to);
  // Records an error that makes the next commit fail (writers return void).
  void fail(Status status);
  // The changes so far, range removals first, then by column family and
  // key (changes to one key in the order they were written), leaving none
  // pending; or the first error recorded since the previous take().
  Result<rocksdb::WriteBatch> take();

 private:
  enum class Kind : uint8_t { kPut, kRemove, kRemoveRange };
  struct Change {
    rocksdb::ColumnFamilyHandle* family;
    std::size_t key_begin;  // in bytes_: the key is [key_begin, key_end)
    std::size_t key_end;
    std::size_t value_end;  // the value (a range's end) is [key_end, value_end); empty for a removal
    Kind kind;
  };
  void add(rocksdb::ColumnFamilyHandle* family, std::string_view prefix, std::string_view key, std::string_view value,
           Kind kind);

  std::mutex mutex_;
  std::string bytes_;  // every change's key and value, back to back
  std::vector<Change> changes_;
  Status error_;
};

class RocksTaskState final : public TaskState {
 public:
  // `memory`: the budget the task's operators keep their state under; may
  // be null (no budget).
  RocksTaskState(WorkingDb& db, PendingWrites& pending, const PartitionId& partition, StateMemory* memory);
  ~RocksTaskState() override;

  // Called from the task's thread (one at a time); the references last as
  // long as this object.
  StateWriter& writer(std::size_t stage) override;
  StateReader& reader(std::size_t stage) override;

 private:
  class StageWriter;
  class StageReader;
  struct Stage {
    std::unique_ptr<StageWriter> writer;
    std::unique_ptr<StageReader> reader;
  };
  Stage& stage(std::size_t index);

  WorkingDb& db_;
  PendingWrites& pending_;
  const std::string prefix_;
  StateMemory* const memory_;
  std::vector<Stage> stages_;
};

}  // namespace kappa::state_internal
