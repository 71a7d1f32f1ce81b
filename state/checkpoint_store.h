// CheckpointStore: a job's keyed state in RocksDB and its checkpoints on
// disk (DESIGN.md §5). One per process, for one job id, in one --state-dir.
//
// How the job runner uses it:
//   start-up     open(); seek every partition to offset(p) (nullopt: use
//                --from), give its task watermark(p);
//   assignment   task(p) is the TaskState the task's stages restore from;
//   checkpoint   at the barrier each task's stages write what changed
//                through task(p).writer(stage); once the sink is flushed,
//                commit(positions, watermarks) makes those changes, the
//                positions and the watermarks one checkpoint on disk;
//   revocation   drop_task(p).
//
// With exactly-once output (StoreOptions::committed_offsets), open()
// restores the checkpoint the consumer group's committed offsets match
// (state/reconcile.h), a committed checkpoint is pending until confirm()
// says its output transaction committed, and pruning never deletes the
// newest confirmed one.
//
// Threads. open(), commit(), task(), drop_task() and the accessors: one
// thread at a time (the job runner's coordinator, which hands each commit()
// to a thread of its own and waits for it before it uses the store again).
// A TaskState and the writers and readers it hands out: the thread running
// that task; tasks on different threads may write at the same time.
// REQUIRES: every write meant for a checkpoint happens before commit() is
// called, and none during it (the barrier gives the first; the runner waits
// for the commit before the next barrier).
//
// Reads (TaskState::reader) see the committed state only: the restored
// checkpoint plus every commit() since. Writes are pending until commit().
//
// Errors come back as Status/Result with one sentence; nothing throws.
// A commit() that fails before its batch reached the database leaves the
// store refusing further commits (the pending changes are gone): stop the
// job, and the next open() restores the last complete checkpoint. A commit()
// that fails after that point (checkpoint files, manifest) leaves the store
// usable: the next commit covers what the failed one would have.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/record.h"
#include "runtime/source.h"
#include "runtime/state.h"
#include "runtime/status.h"

namespace kappa {

namespace state_internal {
class FileDigestCache;
class PendingWrites;
class RocksTaskState;
class StateDirLock;
class WorkingDb;
}  // namespace state_internal

// The layout of the state directory, the meta entries and the manifest.
// A store refuses a state directory written in another version.
// 2: keyed tables keep a timer index (operators/keyed/key_table.h).
inline constexpr int kStateFormatVersion = 2;

// Exactly-once: given partitions, the next offset the consumer group
// committed for each that has one (the positions the last committed output
// transaction carried). A partition without one is left out.
using CommittedOffsets =
    std::function<Result<std::map<PartitionId, int64_t>>(const std::vector<PartitionId>& partitions)>;

struct StoreOptions {
  // Complete checkpoints kept on disk; older ones are deleted once a new
  // one is complete. At least 2 (DESIGN.md §5), so that a damaged newest
  // checkpoint always has a predecessor. Default 2.
  int keep_checkpoints = 2;
  // Set for exactly-once output (--exactly-once): open() calls it once, with
  // the partitions its checkpoints record, and restores the checkpoint the
  // answer matches instead of the newest (state/README.md, "Exactly-once").
  // Default: none (the newest checkpoint that verifies).
  CommittedOffsets committed_offsets = nullptr;
  // --state-memory: the bytes of keyed state the job's operators keep in
  // memory (an estimate); past it they keep their coldest entries in the
  // database only (operators/keyed/key_table.h). 0 (the default): no budget.
  int64_t memory_budget_bytes = 0;
};

// What one commit() did, for logs, metrics and the benchmark.
struct CheckpointInfo {
  uint64_t id = 0;
  // Bytes in the checkpoint's files, its manifest included. SST files are
  // hard links shared with the working database and the other checkpoints,
  // so the disk space a checkpoint adds is at most this.
  uint64_t size_bytes = 0;
  std::size_t files = 0;
  // State entries (puts and removes) the checkpoint's batch applied.
  std::size_t state_changes = 0;
  // Keyed state entries in the checkpoint (WorkingDb::estimate_entries).
  uint64_t state_entries = 0;
  // Time spent in each step, and in all of commit().
  std::chrono::microseconds write_batch{0};       // one atomic write, WAL synced
  std::chrono::microseconds checkpoint_files{0};  // RocksDB flush and hard links
  std::chrono::microseconds manifest{0};          // checksums, temp file, fsync, rename
  std::chrono::microseconds prune{0};             // deleting older checkpoints
  std::chrono::microseconds release_memory{0};    // with a memory budget: freed memory back to the system
  std::chrono::microseconds total{0};
};

class CheckpointStore final : public StateBackend {
 public:
  // Opens `state_dir` (created if needed) for `job_id` and restores its
  // newest checkpoint whose manifest and checksums verify. Newer ones that
  // do not are skipped with a warning in the log saying what was wrong.
  // With no checkpoint the store starts empty. Refuses, with one sentence
  // saying what was found and what to do:
  //   - a directory holding another job's state, or another format version;
  //   - a directory another process has open;
  //   - a directory whose checkpoints all fail to verify (the state is
  //     damaged: see state/README.md "Recovery").
  static Result<std::unique_ptr<CheckpointStore>> open(const std::string& state_dir, const std::string& job_id,
                                                       const StoreOptions& options = {});
  ~CheckpointStore() override;
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  // The newest complete checkpoint: the restored one, then each committed
  // one. 0 when there is none.
  uint64_t checkpoint_id() const { return checkpoint_id_; }
  // Exactly-once: the newest checkpoint whose output transaction is known to
  // have committed (the restored one, then each confirm()ed one). 0 when
  // there is none.
  uint64_t confirmed_id() const { return confirmed_id_; }
  // The next offset to read from `partition`, as of checkpoint_id();
  // nullopt for a partition never committed.
  std::optional<int64_t> offset(const PartitionId& partition) const;
  // The watermark `partition`'s task had, as of checkpoint_id().
  std::optional<Timestamp> watermark(const PartitionId& partition) const;
  // Every partition ever committed, with its next offset.
  std::vector<PartitionPosition> positions() const;
  const std::map<PartitionId, Timestamp>& watermarks() const { return watermarks_; }

  // The state of `partition`'s task. The same object until drop_task(), and
  // valid until then or until the store is destroyed.
  TaskState& task(const PartitionId& partition) override;
  // Releases the task's in-memory handles (its partition was revoked). Its
  // state stays in the database and in later checkpoints, for when the
  // partition comes back; its writes not yet committed are committed by the
  // next commit(). Dropping a task that was never opened does nothing.
  // REQUIRES: nothing uses the task's TaskState any more.
  Status drop_task(const PartitionId& partition);

  // Step 3 of the checkpoint protocol: applies every pending state change,
  // `offsets` and `watermarks` in one atomic write; takes a RocksDB
  // checkpoint into <state_dir>/chk-<n>/; writes its manifest (temp file,
  // fsync, rename, directory fsync); then deletes checkpoints beyond
  // StoreOptions::keep_checkpoints. The checkpoint is complete, and
  // recovery may use it, once the manifest is renamed into place.
  // A partition missing from `offsets` (or `watermarks`) keeps the value of
  // the previous checkpoint: the store keeps every partition it has seen.
  Result<CheckpointInfo> commit(const std::vector<PartitionPosition>& offsets,
                                const std::map<PartitionId, Timestamp>& watermarks);

  // Exactly-once: checkpoint `id`'s output transaction committed. Writes
  // chk-<id>/CONFIRMED (synced), which recovery trusts when the consumer
  // group's offsets are gone, and from then on pruning may delete the
  // checkpoints before it. Fails with kNotFound for an id that is not a
  // complete checkpoint of this store; an I/O error leaves it unconfirmed
  // (recovery still finds it by the group's offsets).
  Status confirm(uint64_t id) override;

  // The job runner's view (runtime/state.h): the same operations. The
  // watermarks a checkpoint records stay those of the previous one: tasks
  // keep their watermarks in their own state (the event-time stage's).
  Status release_task(const PartitionId& partition) override { return drop_task(partition); }
  std::optional<int64_t> resume_offset(const PartitionId& partition) const override { return offset(partition); }
  Result<CheckpointStats> checkpoint(const std::vector<PartitionPosition>& positions) override {
    KAPPA_ASSIGN_OR_RETURN(CheckpointInfo info, commit(positions, {}));
    return CheckpointStats{info.id, info.size_bytes, info.total, info.state_entries};
  }

  // With a memory budget: the estimate has grown past it (StateMemory::grown).
  bool over_memory_budget() const override { return memory_ != nullptr && memory_->grown(); }

  // The state directory, as an absolute path.
  const std::string& state_dir() const { return state_dir_; }
  const std::string& job_id() const { return job_id_; }

 private:
  CheckpointStore(std::string state_dir, std::string job_id, const StoreOptions& options);
  Status recover();
  // Writes chk-<id>/MANIFEST.kappa; adds the files' count and size to `info`.
  Status write_manifest(uint64_t id, CheckpointInfo& info);
  // Deletes every checkpoint but the newest keep_checkpoints complete ones
  // and the newest confirmed one.
  void prune();

  std::string state_dir_;
  std::string job_id_;
  StoreOptions options_;
  // Declared in the order they must be built; destroyed in reverse.
  std::unique_ptr<state_internal::StateDirLock> lock_;
  std::unique_ptr<state_internal::FileDigestCache> digests_;
  std::unique_ptr<state_internal::WorkingDb> db_;
  std::unique_ptr<state_internal::PendingWrites> pending_;
  std::unique_ptr<StateMemory> memory_;  // with a memory budget only
  std::map<PartitionId, std::unique_ptr<state_internal::RocksTaskState>> tasks_;

  uint64_t checkpoint_id_ = 0;
  uint64_t confirmed_id_ = 0;
  uint64_t next_id_ = 1;
  std::vector<uint64_t> complete_;  // complete checkpoints on disk, ascending
  std::map<PartitionId, int64_t> offsets_;
  std::map<PartitionId, Timestamp> watermarks_;
  std::string broken_;  // why commits are refused, once a batch was lost
};

}  // namespace kappa
