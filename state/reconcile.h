// Exactly-once recovery (--exactly-once): which checkpoint the consumer
// group's committed offsets belong to. Internal to state/; recovery.cc runs
// it when StoreOptions::committed_offsets is set.
//
// With exactly-once output, checkpoint n is written (pending) before the
// transaction that carries n's outputs and n's positions commits; the group's
// committed offsets are therefore those of the newest checkpoint whose
// transaction committed, and a newer checkpoint's transaction never did (its
// outputs were aborted). The choice, over the checkpoints that verify,
// newest first:
//   1. the newest whose every recorded offset equals the group's committed
//      offset for that partition;
//   2. if the group has no committed offset for any partition they record
//      (no transaction ever committed, or the offsets expired after a long
//      stop): the newest confirmed one (chk-<n>/CONFIRMED: its transaction
//      is known to have committed), or none (start empty);
//   3. otherwise refuse: the group's offsets belong to no checkpoint here,
//      and restoring one would publish results twice or not at all.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/source.h"
#include "runtime/status.h"

namespace kappa::state_internal {

struct CheckpointCandidate {
  uint64_t id = 0;
  std::map<PartitionId, int64_t> offsets;  // as its manifest records them
  bool confirmed = false;                  // chk-<id>/CONFIRMED exists
};

// The id of the checkpoint to restore, or nullopt to start empty, by the
// rules above. `newest_first`: checkpoints that verify, in descending id
// order. `committed`: the group's committed next offsets, for the
// partitions the candidates record that have one. Refuses with
// kInvalidArgument, one clause listing the group's offsets and the newest
// checkpoint's, in case 3.
Result<std::optional<uint64_t>> choose_committed_checkpoint(const std::vector<CheckpointCandidate>& newest_first,
                                                            const std::map<PartitionId, int64_t>& committed);

// "in/0=120,in/1=98": offsets for a message; at most `limit` partitions,
// then ",...".
std::string offsets_text(const std::map<PartitionId, int64_t>& offsets, std::size_t limit = 8);

}  // namespace kappa::state_internal
