#include "state/recovery.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "state/checkpoint_store.h"
#include "state/files.h"
#include "state/reconcile.h"
#include "state/state_dir.h"

namespace kappa::state_internal {
namespace {

std::string join(const std::string& dir, std::string_view name) { return dir + "/" + std::string(name); }

// SST and blob files never change once RocksDB wrote them: they can be
// shared through hard links. Everything else (MANIFEST-*, CURRENT,
// OPTIONS-*, logs) RocksDB may rewrite, so it is copied.
bool is_immutable(const std::string& name) { return name.ends_with(".sst") || name.ends_with(".blob"); }

Status verify_files(const std::string& dir, const Manifest& manifest, FileDigestCache& cache) {
  for (const ManifestFile& file : manifest.files) {
    Result<FileDigest> digest = cache.digest(join(dir, file.name), is_immutable(file.name));
    if (!digest.is_ok() && digest.status().code() == StatusCode::kNotFound) {
      return Status::corruption("file " + file.name + " is missing");
    }
    if (!digest.is_ok()) return digest.status();
    if (digest->size != file.size) {
      return Status::corruption("file " + file.name + " is " + std::to_string(digest->size) +
                                " bytes, the manifest says " + std::to_string(file.size));
    }
    if (digest->crc32c != file.crc32c) {
      return Status::corruption("file " + file.name + " has CRC32C " + crc_to_hex(digest->crc32c) +
                                ", the manifest says " + crc_to_hex(file.crc32c));
    }
  }
  return Status::ok();
}

// Checkpoints exist, none verifies, and one at least is damaged.
Status no_usable_checkpoint(const std::string& state_dir, const std::string& problems) {
  return Status::corruption("state dir " + state_dir + " has no usable checkpoint (" + problems +
                            "): the job's state is lost; move the directory aside to start over with empty "
                            "state, or put back a copy of it");
}

// Exactly-once: verifies every checkpoint, asks for the group's committed
// offsets and restores the checkpoint they match (reconcile.h).
Result<RecoveryPlan> plan_committed(const std::string& state_dir, const std::string& job_id, FileDigestCache& cache,
                                    const CommittedOffsets& committed_offsets) {
  KAPPA_ASSIGN_OR_RETURN(const std::vector<uint64_t> ids, list_checkpoints(state_dir));
  RecoveryPlan plan;
  if (!ids.empty()) plan.highest_id = ids.back();
  std::vector<CheckpointCandidate> candidates;
  std::map<uint64_t, Manifest> manifests;
  std::vector<PartitionId> partitions;
  std::string problems;  // "chk-2: ...; chk-1: ..."
  bool damaged = false;
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    Result<Manifest> verified = verify_checkpoint(state_dir, *it, job_id, cache);
    if (!verified.is_ok()) {
      const StatusCode code = verified.status().code();
      if (code != StatusCode::kNotFound && code != StatusCode::kCorruption) return verified.status();
      damaged = damaged || code == StatusCode::kCorruption;
      const std::string name = checkpoint_dir_name(*it);
      spdlog::warn("state: skipping checkpoint {}/{}: {}", state_dir, name, verified.status().message());
      problems += (problems.empty() ? "" : "; ") + name + ": " + verified.status().message();
      continue;
    }
    const std::string confirmed = join(join(state_dir, checkpoint_dir_name(*it)), kConfirmedFile);
    candidates.push_back({*it, verified->offsets, path_exists(confirmed)});
    for (const auto& [partition, offset] : verified->offsets) partitions.push_back(partition);
    manifests.emplace(*it, std::move(verified).value());
  }
  if (candidates.empty()) {
    if (damaged) return no_usable_checkpoint(state_dir, problems);
    if (!ids.empty()) spdlog::warn("state: no checkpoint in {} ever completed; starting with empty state", state_dir);
    return plan;
  }
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  Result<std::map<PartitionId, int64_t>> committed = committed_offsets(partitions);
  if (!committed.is_ok()) {
    return Status(committed.status().code(),
                  "cannot read the consumer group's committed offsets, which say which checkpoint in " + state_dir +
                      " to resume from: " + committed.status().message());
  }
  Result<std::optional<uint64_t>> chosen = choose_committed_checkpoint(candidates, *committed);
  if (!chosen.is_ok()) {
    return Status::invalid_argument(
        "state dir " + state_dir + " and the consumer group disagree: " + chosen.status().message() +
        "; restoring a checkpoint would publish results twice or lose some (offsets moved by hand, the checkpoint "
        "they belong to damaged, or another process with this --job-id?): move the directory aside to start "
        "over with empty state from the group's offsets, or run once without --exactly-once to resume "
        "at-least-once from the newest checkpoint");
  }
  for (const CheckpointCandidate& candidate : candidates) {
    if (chosen->has_value() && candidate.id <= **chosen) {
      plan.complete.push_back(candidate.id);
    } else {
      spdlog::warn(
          "state: discarding checkpoint {}/{}: the consumer group's offsets ({}) are not its own, so its "
          "output transaction never committed",
          state_dir, checkpoint_dir_name(candidate.id), offsets_text(*committed));
    }
  }
  std::reverse(plan.complete.begin(), plan.complete.end());
  if (chosen->has_value()) {
    plan.checkpoint = std::move(manifests.at(**chosen));
    plan.confirmed = true;
    spdlog::info("state: restoring checkpoint {} of job '{}' from {}: {}", **chosen, job_id, state_dir,
                 committed->empty() ? "the newest confirmed one (the consumer group has no committed offsets)"
                                    : "the consumer group's committed offsets are its own");
  } else {
    spdlog::info("state: no output transaction of job '{}' ever committed; starting with empty state", job_id);
  }
  return plan;
}

}  // namespace

Result<Manifest> verify_checkpoint(const std::string& state_dir, uint64_t id, const std::string& job_id,
                                   FileDigestCache& cache) {
  const std::string dir = join(state_dir, checkpoint_dir_name(id));
  Result<std::string> text = read_file(join(dir, kManifestFile));
  if (!text.is_ok() && text.status().code() == StatusCode::kNotFound) {
    return Status::not_found("it has no " + std::string(kManifestFile) +
                             " (a checkpoint interrupted before it completed, or a deleted manifest)");
  }
  if (!text.is_ok()) return text.status();
  Result<Manifest> manifest = decode_manifest(*text);
  if (!manifest.is_ok()) return Status::corruption("its manifest is damaged: " + manifest.status().message());
  if (manifest->format_version != kStateFormatVersion) {
    return Status::invalid_argument("checkpoint " + dir + " is in state format version " +
                                    std::to_string(manifest->format_version) + " but this build reads version " +
                                    std::to_string(kStateFormatVersion) +
                                    ": use another --state-dir, or the Kappa version that wrote it");
  }
  if (manifest->job_id != job_id) {
    return Status::invalid_argument("checkpoint " + dir + " belongs to job '" + manifest->job_id + "', not to job '" +
                                    job_id + "': use another --state-dir, or --job-id '" + manifest->job_id +
                                    "' to resume that job");
  }
  if (manifest->checkpoint_id != id) {
    return Status::corruption("its manifest is that of checkpoint " + std::to_string(manifest->checkpoint_id));
  }
  KAPPA_RETURN_IF_ERROR(verify_files(dir, *manifest, cache));
  return manifest;
}

Result<RecoveryPlan> plan_recovery(const std::string& state_dir, const std::string& job_id, FileDigestCache& cache,
                                   const CommittedOffsets& committed_offsets) {
  if (committed_offsets) return plan_committed(state_dir, job_id, cache, committed_offsets);
  KAPPA_ASSIGN_OR_RETURN(const std::vector<uint64_t> ids, list_checkpoints(state_dir));
  RecoveryPlan plan;
  if (!ids.empty()) plan.highest_id = ids.back();
  std::string problems;  // "chk-2: ...; chk-1: ..."
  bool damaged = false;
  std::size_t i = ids.size();
  while (i > 0 && !plan.checkpoint) {
    const uint64_t id = ids[--i];
    Result<Manifest> verified = verify_checkpoint(state_dir, id, job_id, cache);
    if (verified.is_ok()) {
      plan.checkpoint = std::move(verified).value();
      plan.complete.push_back(id);
      break;
    }
    const StatusCode code = verified.status().code();
    if (code != StatusCode::kNotFound && code != StatusCode::kCorruption) return verified.status();
    damaged = damaged || code == StatusCode::kCorruption;
    const std::string name = checkpoint_dir_name(id);
    spdlog::warn("state: skipping checkpoint {}/{}: {}; trying the one before it", state_dir, name,
                 verified.status().message());
    problems += (problems.empty() ? "" : "; ") + name + ": " + verified.status().message();
  }
  // Older checkpoints are kept (up to the limit) as long as they look complete.
  while (i > 0) {
    const uint64_t id = ids[--i];
    if (path_exists(join(join(state_dir, checkpoint_dir_name(id)), kManifestFile))) plan.complete.push_back(id);
  }
  std::reverse(plan.complete.begin(), plan.complete.end());

  if (!plan.checkpoint && damaged) return no_usable_checkpoint(state_dir, problems);
  if (!plan.checkpoint && !ids.empty()) {
    spdlog::warn("state: no checkpoint in {} ever completed; starting with empty state", state_dir);
  }
  if (plan.checkpoint) {
    spdlog::info("state: restoring checkpoint {} of job '{}' from {} ({} partitions, {} files, {} bytes)",
                 plan.checkpoint->checkpoint_id, job_id, state_dir, plan.checkpoint->offsets.size(),
                 plan.checkpoint->files.size(), plan.checkpoint->files_bytes());
  }
  return plan;
}

Status restore_working_db(const std::string& state_dir, const Manifest* checkpoint) {
  const std::string work = join(state_dir, kWorkDir);
  const std::string staging = work + ".restore";
  KAPPA_RETURN_IF_ERROR(remove_all(staging));
  if (checkpoint != nullptr) {
    const std::string source = join(state_dir, checkpoint_dir_name(checkpoint->checkpoint_id));
    KAPPA_RETURN_IF_ERROR(create_dirs(staging));
    for (const ManifestFile& file : checkpoint->files) {
      const std::string from = join(source, file.name);
      const std::string to = join(staging, file.name);
      // Copies, never links: the checkpoints already verified share no
      // inode with a database RocksDB is about to open and write, so
      // nothing it does to its own files can reach them. Costs a copy of
      // the state from the page cache (~50 ms for bench/checkpoint_bench's
      // 36 MiB).
      KAPPA_RETURN_IF_ERROR(copy_file(from, to));
    }
  }
  // No fsync: a crash from here on restores again at the next open.
  KAPPA_RETURN_IF_ERROR(remove_all(work));
  if (checkpoint != nullptr && ::rename(staging.c_str(), work.c_str()) != 0) {
    return Status::unavailable("cannot rename " + staging + " to " + work + ": " + std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace kappa::state_internal
