#include "state/checkpoint_store.h"

#include <malloc.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "runtime/kill_point.h"
#include "state/checksum.h"
#include "state/files.h"
#include "state/key_encoding.h"
#include "state/manifest.h"
#include "state/recovery.h"
#include "state/state_dir.h"
#include "state/task_state.h"
#include "state/working_db.h"

namespace kappa {
namespace {

namespace si = state_internal;
using Clock = std::chrono::steady_clock;

std::string join(const std::string& dir, std::string_view name) { return dir + "/" + std::string(name); }

std::chrono::microseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

Status put_meta(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* meta, const std::string& key, int64_t value) {
  return si::from_rocksdb(batch.Put(meta, key, si::encode_int64(value)), "cannot add positions to the checkpoint");
}

}  // namespace

CheckpointStore::CheckpointStore(std::string state_dir, std::string job_id, const StoreOptions& options)
    : state_dir_(std::move(state_dir)),
      job_id_(std::move(job_id)),
      options_(options),
      memory_(options.memory_budget_bytes > 0 ? std::make_unique<StateMemory>(options.memory_budget_bytes) : nullptr) {}

CheckpointStore::~CheckpointStore() = default;

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::open(const std::string& state_dir, const std::string& job_id,
                                                               const StoreOptions& options) {
  if (state_dir.empty()) return Status::invalid_argument("no state dir given: pass --state-dir");
  if (job_id.empty()) return Status::invalid_argument("no job id given: pass --job-id");
  if (options.keep_checkpoints < 2) {
    return Status::invalid_argument("keep_checkpoints is " + std::to_string(options.keep_checkpoints) +
                                    ": at least 2 checkpoints must be kept, so that a damaged one has a predecessor");
  }
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(state_dir, error);
  if (error) return Status::invalid_argument("bad state dir " + state_dir + ": " + error.message());
  std::string dir = absolute.lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();

  std::unique_ptr<CheckpointStore> store(new CheckpointStore(dir, job_id, options));
  KAPPA_RETURN_IF_ERROR(store->recover());
  return store;
}

Status CheckpointStore::recover() {
  KAPPA_RETURN_IF_ERROR(si::create_dirs(state_dir_));
  KAPPA_ASSIGN_OR_RETURN(lock_, si::StateDirLock::acquire(state_dir_));
  KAPPA_RETURN_IF_ERROR(si::check_identity(state_dir_, job_id_, kStateFormatVersion));
  KAPPA_RETURN_IF_ERROR(si::remove_leftovers(state_dir_));

  // Recovery's digests stay out of the one commits use: the working
  // database is restored from copies, so none of its files is one recovery
  // read, and the checkpoints recovery discards are deleted at the first
  // prune, handing their inodes to the files the replay writes next, at the
  // same sizes (a shared cache once put a discarded file's checksum in the
  // manifests of both kept checkpoints).
  si::FileDigestCache recovery_digests;
  KAPPA_ASSIGN_OR_RETURN(si::RecoveryPlan plan,
                         si::plan_recovery(state_dir_, job_id_, recovery_digests, options_.committed_offsets));
  digests_ = std::make_unique<si::FileDigestCache>();
  const si::Manifest* checkpoint = plan.checkpoint ? &*plan.checkpoint : nullptr;
  KAPPA_RETURN_IF_ERROR(si::restore_working_db(state_dir_, checkpoint));
  KAPPA_ASSIGN_OR_RETURN(db_, si::WorkingDb::open(join(state_dir_, si::kWorkDir)));
  pending_ = std::make_unique<si::PendingWrites>();

  KAPPA_ASSIGN_OR_RETURN(si::StoredMeta meta, db_->read_meta());
  const uint64_t expected_id = checkpoint != nullptr ? checkpoint->checkpoint_id : 0;
  const bool agrees =
      meta.checkpoint_id == expected_id &&
      (checkpoint == nullptr ? meta.offsets.empty() && meta.watermarks.empty()
                             : meta.offsets == checkpoint->offsets && meta.watermarks == checkpoint->watermarks);
  if (!agrees) {
    return Status::corruption("checkpoint " + std::to_string(expected_id) + " in " + state_dir_ +
                              " holds positions that disagree with its manifest (database: checkpoint " +
                              std::to_string(meta.checkpoint_id) +
                              "): the state cannot be trusted; move the directory aside to start over");
  }
  checkpoint_id_ = expected_id;
  next_id_ = plan.highest_id + 1;
  complete_ = std::move(plan.complete);
  offsets_ = std::move(meta.offsets);
  watermarks_ = std::move(meta.watermarks);
  // The group's offsets match it, so its transaction committed: mark it, in
  // case the process died before it could.
  if (plan.confirmed) KAPPA_RETURN_IF_ERROR(confirm(checkpoint_id_));
  return Status::ok();
}

Status CheckpointStore::confirm(uint64_t id) {
  if (std::find(complete_.begin(), complete_.end(), id) == complete_.end()) {
    return Status::not_found("checkpoint " + std::to_string(id) + " is not a complete checkpoint of " + state_dir_);
  }
  const std::string dir = join(state_dir_, si::checkpoint_dir_name(id));
  const std::string marker = join(dir, si::kConfirmedFile);
  if (!si::path_exists(marker)) {
    KAPPA_RETURN_IF_ERROR(si::write_file_synced(marker, "output transaction committed\n"));
    KAPPA_RETURN_IF_ERROR(si::sync_dir(dir));
  }
  confirmed_id_ = std::max(confirmed_id_, id);
  return Status::ok();
}

std::optional<int64_t> CheckpointStore::offset(const PartitionId& partition) const {
  auto it = offsets_.find(partition);
  if (it == offsets_.end()) return std::nullopt;
  return it->second;
}

std::optional<Timestamp> CheckpointStore::watermark(const PartitionId& partition) const {
  auto it = watermarks_.find(partition);
  if (it == watermarks_.end()) return std::nullopt;
  return it->second;
}

std::vector<PartitionPosition> CheckpointStore::positions() const {
  std::vector<PartitionPosition> out;
  out.reserve(offsets_.size());
  for (const auto& [partition, next_offset] : offsets_) out.push_back({partition, next_offset});
  return out;
}

TaskState& CheckpointStore::task(const PartitionId& partition) {
  std::unique_ptr<si::RocksTaskState>& task = tasks_[partition];
  if (!task) task = std::make_unique<si::RocksTaskState>(*db_, *pending_, partition, memory_.get());
  return *task;
}

Status CheckpointStore::drop_task(const PartitionId& partition) {
  tasks_.erase(partition);
  return Status::ok();
}

Result<CheckpointInfo> CheckpointStore::commit(const std::vector<PartitionPosition>& offsets,
                                               const std::map<PartitionId, Timestamp>& watermarks) {
  if (!broken_.empty()) return Status::aborted(broken_);
  const Clock::time_point start = Clock::now();
  CheckpointInfo info;
  info.id = next_id_++;

  // 1. State changes, positions and the checkpoint id: one atomic write.
  Result<rocksdb::WriteBatch> taken = pending_->take();
  if (!taken.is_ok()) {
    broken_ = "checkpoint " + std::to_string(info.id) + " lost its state changes (" + taken.status().message() +
              "): restart the job to resume from checkpoint " + std::to_string(checkpoint_id_);
    return Status::aborted(broken_);
  }
  rocksdb::WriteBatch batch = std::move(taken).value();
  info.state_changes = batch.Count();
  std::map<PartitionId, int64_t> new_offsets = offsets_;
  std::map<PartitionId, Timestamp> new_watermarks = watermarks_;
  Status added = Status::ok();
  for (const PartitionPosition& p : offsets) {
    new_offsets[p.partition] = p.next_offset;
    if (added.is_ok()) added = put_meta(batch, db_->meta_family(), si::offset_key(p.partition), p.next_offset);
  }
  for (const auto& [partition, watermark] : watermarks) {
    new_watermarks[partition] = watermark;
    if (added.is_ok()) added = put_meta(batch, db_->meta_family(), si::watermark_key(partition), watermark);
  }
  if (added.is_ok()) {
    added = put_meta(batch, db_->meta_family(), std::string(si::kCheckpointIdKey), static_cast<int64_t>(info.id));
  }
  if (added.is_ok()) added = db_->write(batch);
  if (!added.is_ok()) {
    broken_ = "checkpoint " + std::to_string(info.id) + " could not be written (" + added.message() +
              "): restart the job to resume from checkpoint " + std::to_string(checkpoint_id_);
    return Status::aborted(broken_);
  }
  batch = rocksdb::WriteBatch();  // in the database now; its bytes can go before the steps below
  offsets_ = std::move(new_offsets);
  watermarks_ = std::move(new_watermarks);
  info.write_batch = since(start);
  info.state_entries = db_->estimate_entries();
  KAPPA_KILL_POINT("after_write_batch");

  // 2. The checkpoint's files.
  Clock::time_point step = Clock::now();
  KAPPA_RETURN_IF_ERROR(db_->create_checkpoint(join(state_dir_, si::checkpoint_dir_name(info.id))));
  info.checkpoint_files = since(step);
  KAPPA_KILL_POINT("after_checkpoint_files");

  // 3. The manifest, which makes it complete.
  step = Clock::now();
  KAPPA_RETURN_IF_ERROR(write_manifest(info.id, info));
  info.manifest = since(step);
  checkpoint_id_ = info.id;
  complete_.push_back(info.id);

  KAPPA_KILL_POINT("before_prune");
  step = Clock::now();
  prune();
  info.prune = since(step);
  if (memory_ != nullptr) {
    // The entries the tasks evicted at the barrier and this checkpoint's
    // batch were freed into malloc's arenas, which keep what they free
    // unless asked: without this, a budget lowers the estimate but not the
    // process's memory. Here, not at the barrier: tasks run meanwhile.
    step = Clock::now();
    ::malloc_trim(0);
    info.release_memory = since(step);
  }
  info.total = since(start);
  spdlog::debug("state: checkpoint {} complete: {} bytes in {} files, {} state changes, {} us", info.id,
                info.size_bytes, info.files, info.state_changes, info.total.count());
  if (memory_ != nullptr) {
    spdlog::debug("state: about {} bytes of keyed state in memory (--state-memory {})", memory_->used(),
                  memory_->budget());
  }
  return info;
}

Status CheckpointStore::write_manifest(uint64_t id, CheckpointInfo& info) {
  const std::string dir = join(state_dir_, si::checkpoint_dir_name(id));
  si::Manifest manifest;
  manifest.job_id = job_id_;
  manifest.format_version = kStateFormatVersion;
  manifest.checkpoint_id = id;
  manifest.offsets = offsets_;
  manifest.watermarks = watermarks_;
  KAPPA_ASSIGN_OR_RETURN(const std::vector<std::string> names, si::list_dir(dir));
  for (const std::string& name : names) {
    const bool immutable = name.ends_with(".sst") || name.ends_with(".blob");
    KAPPA_ASSIGN_OR_RETURN(const si::FileDigest digest, digests_->digest(join(dir, name), immutable));
    manifest.files.push_back({name, digest.size, digest.crc32c});
  }
  digests_->drop_unused();
  const std::string text = si::encode_manifest(manifest);
  const std::string path = join(dir, si::kManifestFile);
  const std::string temp = path + ".tmp";
  KAPPA_RETURN_IF_ERROR(si::write_file_synced(temp, text));
  KAPPA_KILL_POINT("after_manifest_temp");
  KAPPA_RETURN_IF_ERROR(si::rename_synced(temp, path));
  // The checkpoint directory's own entry, which RocksDB renamed into place.
  KAPPA_RETURN_IF_ERROR(si::sync_dir(state_dir_));
  KAPPA_KILL_POINT("after_manifest_rename");
  info.files = manifest.files.size() + 1;
  info.size_bytes = manifest.files_bytes() + text.size();
  return Status::ok();
}

void CheckpointStore::prune() {
  const std::size_t keep = static_cast<std::size_t>(options_.keep_checkpoints);
  if (complete_.size() > keep) {
    // The newest confirmed checkpoint stays until a newer one is confirmed:
    // until then it is the one a restart must resume from.
    const bool keep_confirmed = confirmed_id_ != 0 && confirmed_id_ < complete_[complete_.size() - keep];
    std::vector<uint64_t> kept(complete_.end() - static_cast<std::ptrdiff_t>(keep), complete_.end());
    if (keep_confirmed) kept.insert(kept.begin(), confirmed_id_);
    complete_ = std::move(kept);
  }
  Result<std::vector<uint64_t>> on_disk = si::list_checkpoints(state_dir_);
  if (!on_disk.is_ok()) {
    spdlog::warn("state: old checkpoints not deleted: {}", on_disk.status().message());
    return;
  }
  for (const uint64_t id : *on_disk) {
    if (std::find(complete_.begin(), complete_.end(), id) != complete_.end()) continue;
    // Renamed first, so that a crash in the middle of the removal leaves no
    // half-deleted chk-<n> for recovery to report as damaged.
    const std::string dir = join(state_dir_, si::checkpoint_dir_name(id));
    const std::string doomed = dir + ".deleting";
    Status removed = std::rename(dir.c_str(), doomed.c_str()) == 0
                         ? si::remove_all(doomed)
                         : Status::unavailable("cannot rename " + dir + ": " + std::strerror(errno));
    if (!removed.is_ok()) spdlog::warn("state: old checkpoint not deleted: {}", removed.message());
  }
}

}  // namespace kappa
