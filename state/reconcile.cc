#include "state/reconcile.h"

namespace kappa::state_internal {
namespace {

// Every offset the checkpoint records is the group's. Partitions the group
// has and the checkpoint does not record are not compared: they can only
// come from commits made before this state directory existed.
bool matches(const CheckpointCandidate& candidate, const std::map<PartitionId, int64_t>& committed) {
  for (const auto& [partition, offset] : candidate.offsets) {
    auto it = committed.find(partition);
    if (it == committed.end() || it->second != offset) return false;
  }
  return true;
}

}  // namespace

std::string offsets_text(const std::map<PartitionId, int64_t>& offsets, std::size_t limit) {
  std::string text;
  std::size_t n = 0;
  for (const auto& [partition, offset] : offsets) {
    if (n++ == limit) return text + ",...";
    text += (text.empty() ? "" : ",") + partition.to_string() + "=" + std::to_string(offset);
  }
  return text.empty() ? "none" : text;
}

Result<std::optional<uint64_t>> choose_committed_checkpoint(const std::vector<CheckpointCandidate>& newest_first,
                                                            const std::map<PartitionId, int64_t>& committed) {
  for (const CheckpointCandidate& candidate : newest_first) {
    if (matches(candidate, committed)) return std::optional<uint64_t>(candidate.id);
  }
  if (committed.empty()) {
    for (const CheckpointCandidate& candidate : newest_first) {
      if (candidate.confirmed) return std::optional<uint64_t>(candidate.id);
    }
    return std::optional<uint64_t>();
  }
  std::string newest = newest_first.empty() ? std::string("no checkpoint")
                                            : "checkpoint " + std::to_string(newest_first.front().id) + " records " +
                                                  offsets_text(newest_first.front().offsets);
  return Status::invalid_argument("the consumer group committed " + offsets_text(committed) +
                                  ", which no checkpoint records (" + newest + ")");
}

}  // namespace kappa::state_internal
