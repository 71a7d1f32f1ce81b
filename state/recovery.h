// Recovery: which checkpoint of a state directory to restore, and the
// restore itself. Internal to state/; CheckpointStore::open runs it.
//
// A checkpoint chk-<n>/ is
//   complete   if it has a MANIFEST.kappa, and
//   verified   if that manifest decodes, its checksum matches, it names this
//              job, this format and id n, and every file it lists exists
//              with the listed size and CRC32C.
// Recovery takes the newest verified checkpoint. Newer ones that fail are
// skipped with a warning naming what was wrong. If none verifies:
//   - when every one is incomplete (no manifest: crashes during the first
//     checkpoints of a job), the store starts empty, with a warning;
//   - when one has a manifest that does not verify, recovery refuses: the
//     job's state existed and is damaged, and starting over silently would
//     replace it with state built from wherever the inputs resume.
// A manifest of another job or another format version is refused outright
// (never skipped): that is a misconfiguration, not damage.
//
// With exactly-once output (a CommittedOffsets given), every checkpoint is
// verified and the choice among those that do is reconcile.h's: the one the
// consumer group's committed offsets match. Newer ones are left out of the
// plan (their output transactions never committed) and pruned later.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/status.h"
#include "state/checkpoint_store.h"
#include "state/checksum.h"
#include "state/manifest.h"

namespace kappa::state_internal {

struct RecoveryPlan {
  // The newest verified checkpoint; nullopt to start empty.
  std::optional<Manifest> checkpoint;
  // Ids of the checkpoints that pruning counts as complete: the chosen one
  // and the older ones that have a manifest (not verified: only the newest
  // verified one is ever restored). Ascending.
  std::vector<uint64_t> complete;
  // The highest chk-<n> present, verified or not: ids are never reused.
  uint64_t highest_id = 0;
  // Exactly-once: the chosen checkpoint's output transaction is known to
  // have committed (the group's offsets match it, or it is marked so).
  bool confirmed = false;
};

// Checks chk-<id> against its manifest (see above). Fails with kNotFound if
// it has no manifest, kCorruption if it does not verify, kInvalidArgument if
// it belongs to another job or format, anything else on an I/O error. The
// message is one clause: "its manifest is missing", "file 000012.sst is 0
// bytes, the manifest says 4096". Digests go through `cache`.
Result<Manifest> verify_checkpoint(const std::string& state_dir, uint64_t id, const std::string& job_id,
                                   FileDigestCache& cache);

// Chooses the checkpoint to restore (logging a warning for each one
// skipped), or refuses with one sentence saying what was found and what to
// do. With `committed_offsets` (exactly-once), by the group's committed
// offsets; it is called once, with the partitions the verified checkpoints
// record, and only if there is one.
Result<RecoveryPlan> plan_recovery(const std::string& state_dir, const std::string& job_id, FileDigestCache& cache,
                                   const CommittedOffsets& committed_offsets = {});

// Replaces <state_dir>/work with a database holding exactly `checkpoint`
// (copies of its files, so that the working database shares no inode with
// a checkpoint it was restored from), or with nothing if `checkpoint` is
// null.
Status restore_working_db(const std::string& state_dir, const Manifest* checkpoint);

}  // namespace kappa::state_internal
