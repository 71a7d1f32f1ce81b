// The layout of a state directory (--state-dir) and the two things that
// guard it: the identity file and the process lock.
//
//   <state_dir>/KAPPA_STATE          identity: job id and state-format version
//   <state_dir>/LOCK                 flock()ed by the process using the directory
//   <state_dir>/work/                the working RocksDB database
//   <state_dir>/chk-0000000012/      a checkpoint: RocksDB's files + MANIFEST.kappa
//                                    (+ CONFIRMED, with exactly-once output)
//
// Left over by a crash, removed at the next open: chk-<n>.tmp/ (RocksDB's
// staging directory), chk-<n>.deleting/ (a pruned checkpoint being
// removed), work.restore/ (a working database being restored).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/status.h"

namespace kappa::state_internal {

inline constexpr std::string_view kIdentityFile = "KAPPA_STATE";
inline constexpr std::string_view kLockFile = "LOCK";
inline constexpr std::string_view kWorkDir = "work";
inline constexpr std::string_view kManifestFile = "MANIFEST.kappa";
// Exactly-once: chk-<n>/CONFIRMED exists once n's output transaction has
// committed. Its presence is the mark (the content is for people), so a
// half-written one still counts. Not listed in the manifest.
inline constexpr std::string_view kConfirmedFile = "CONFIRMED";

// "chk-0000000012": zero-padded so that names sort like ids (up to 10^10).
std::string checkpoint_dir_name(uint64_t id);
// The id in "chk-<digits>"; nullopt for any other name.
std::optional<uint64_t> parse_checkpoint_dir_name(std::string_view name);

// The ids of the chk-<n> directories in `state_dir`, ascending.
Result<std::vector<uint64_t>> list_checkpoints(const std::string& state_dir);
// Removes what a crash may leave behind (see above).
Status remove_leftovers(const std::string& state_dir);

// Makes sure `state_dir` belongs to `job_id` and holds state of
// `format_version`: reads KAPPA_STATE, or writes it into a directory that
// holds no state yet. Fails with kInvalidArgument, in one sentence saying
// what was found and what to do, for another job's or another format's
// state, or for checkpoints without an identity file.
Status check_identity(const std::string& state_dir, const std::string& job_id, int format_version);

// An exclusive flock() on <state_dir>/LOCK, held until destruction, so that
// two processes never share a state directory.
class StateDirLock {
 public:
  // Fails with kUnavailable, naming the holder's pid, if another process
  // holds the lock.
  static Result<std::unique_ptr<StateDirLock>> acquire(const std::string& state_dir);
  ~StateDirLock();
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

 private:
  explicit StateDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace kappa::state_internal
