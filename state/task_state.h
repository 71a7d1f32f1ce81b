// The TaskState (runtime/state.h) of one task over the working database,
// and the pending write batch all tasks' writers add to. Internal to state/;
// CheckpointStore hands these out.
//
// Reads see the working database: the state as of the last commit (or the
// restored checkpoint), never a pending write. Writes go into the task's
// log in the one PendingWrites of the store and reach the database only
// when CheckpointStore::commit applies them, atomically with the positions.
#pragma once

#include <rocksdb/write_batch.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/huge_page_allocator.h"
#include "runtime/source.h"
#include "runtime/state.h"
#include "runtime/status.h"
#include "state/working_db.h"

namespace kappa::state_internal {

// The state changes of the next checkpoint, from every task.
//
// Each task appends its changes to a Log of its own, with no lock: the
// job runner's barrier ends every task's writes before the commit that
// calls take() starts, and that commit ends before the next barrier
// (runtime/job_runner.cc). Changes are plain bytes until take(), which
// sorts them by key into a RocksDB write batch: the tasks wait at the
// barrier while they write, and the commit runs while they go on. RocksDB
// applies a batch in key order several times faster than in the order a
// hash table yields (bench/checkpoint_bench).
class PendingWrites {
  enum class Kind : uint8_t { kPut, kRemove, kRemoveRange };

 public:
  // One task's changes since the last take(). Written from one thread at a
  // time, never during take().
  class Log {
   public:
    void put(rocksdb::ColumnFamilyHandle* family, std::string_view prefix, std::string_view key,
             std::string_view value) {
      add(family, Kind::kPut, prefix, key, value);
    }
    void remove(rocksdb::ColumnFamilyHandle* family, std::string_view prefix, std::string_view key) {
      add(family, Kind::kRemove, prefix, key, {});
    }
    // The entries in [prefix + from, prefix + to): applied before the other
    // changes (StateWriter::remove_range).
    void remove_range(rocksdb::ColumnFamilyHandle* family, std::string_view prefix, std::string_view from,
                      std::string_view to);

   private:
    friend class PendingWrites;
    // Before each change's key and value.
    struct Header {
      rocksdb::ColumnFamilyHandle* family;
      // Full sizes: an entry too large for RocksDB fails the commit there.
      std::size_t key_size;    // the prefix and the key
      std::size_t value_size;  // for a range removal, its end (prefixed)
      Kind kind;
    };
    struct Free {
      std::size_t capacity;
      void operator()(char* data) const { HugePageAllocator<char>().deallocate(data, capacity); }
    };
    // Changes, Header then key then value, back to back.
    struct Block {
      std::unique_ptr<char[], Free> data;
      std::size_t size = 0;
      std::size_t capacity = 0;
    };
    void add(rocksdb::ColumnFamilyHandle* family, Kind kind, std::string_view prefix, std::string_view key,
             std::string_view value);
    char* extend(std::size_t bytes) {
      if (blocks_.empty() || bytes > blocks_.back().capacity - blocks_.back().size) add_block(bytes);
      Block& block = blocks_.back();
      char* at = block.data.get() + block.size;
      block.size += bytes;
      return at;
    }
    void add_block(std::size_t bytes);

    // A full block is followed by one twice as large, so that no change is
    // ever copied at the barrier; the first is as large as what the last
    // take() found, and a quarter more. The blocks of 2 MiB and more are on
    // huge pages: one page fault per 2 MiB.
    std::vector<Block> blocks_;
    std::size_t last_size_ = 0;  // bytes at the last take()
    bool closed_ = false;        // its task is gone: dropped once taken
  };

  // A log for a new task, kept until close() and the take() after it.
  Log& open();
  // The log's task is gone; the changes it holds stay pending.
  void close(Log& log);
  // Records an error that makes the next commit fail (writers return void).
  void fail(Status status);
  // The changes so far, range removals first, then by column family and
  // key (changes to one key in the order they were written), leaving none
  // pending; or the first error recorded since the previous take().
  Result<rocksdb::WriteBatch> take();

 private:
  // The changes in `blocks`, in take()'s order, as one write batch.
  static Result<rocksdb::WriteBatch> sorted_batch(const std::vector<Log::Block>& blocks);

  std::mutex mutex_;
  std::vector<std::unique_ptr<Log>> logs_;  // in the order they were opened
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
  PendingWrites::Log& log_;
  const std::string prefix_;
  StateMemory* const memory_;
  std::vector<Stage> stages_;
};

}  // namespace kappa::state_internal
