// A deterministic history of checkpoints for the state tests and for
// state_commit_helper, the process the crash tests kill: step s (1, 2, ...)
// writes and removes some entries of three tasks in two stages and commits
// positions and watermarks, some partitions only in some steps. The
// expected store after steps 1..n is computed by replaying them on maps.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/source.h"
#include "state/checkpoint_store.h"

namespace kappa::state_test {

using Entries = std::map<std::string, std::string>;
// (partition, stage) -> that task's entries in that stage
using Contents = std::map<std::pair<PartitionId, std::size_t>, Entries>;

// "orders" and "orders-eu" check that a topic that is a prefix of another
// does not see the other's entries.
inline const std::vector<PartitionId> kStepPartitions = {{"orders", 0}, {"orders", 1}, {"orders-eu", 0}};
inline const std::vector<std::size_t> kStepStages = {0, 2};

struct Change {
  PartitionId partition;
  std::size_t stage = 0;
  std::string key;
  std::optional<std::string> value;  // nullopt: remove
};

inline std::string step_key(int k) {
  // Key bytes 0x00 and 0xff must survive and sort like any others.
  if (k == 5) return std::string("k5\0\xff", 4);
  return "k" + std::to_string(k);
}

inline std::vector<Change> step_changes(int step) {
  std::vector<Change> changes;
  for (std::size_t i = 0; i < kStepPartitions.size(); ++i) {
    for (const std::size_t stage : kStepStages) {
      for (int k = 0; k < 10; ++k) {
        const std::size_t mix = static_cast<std::size_t>(k) + i + stage + static_cast<std::size_t>(step);
        if (mix % 3 == 0) {
          changes.push_back({kStepPartitions[i], stage, step_key(k),
                             kStepPartitions[i].to_string() + "/stage" + std::to_string(stage) + "/k" +
                                 std::to_string(k) + "/step" + std::to_string(step)});
        } else if ((static_cast<std::size_t>(k) * 7 + i + static_cast<std::size_t>(step)) % 4 == 0) {
          changes.push_back({kStepPartitions[i], stage, step_key(k), std::nullopt});
        }
      }
    }
  }
  return changes;
}

// Partition 2's offset only in odd steps, partition 1's watermark only in
// even ones: a partition left out keeps its previous value.
inline std::vector<PartitionPosition> step_offsets(int step) {
  std::vector<PartitionPosition> offsets = {{kStepPartitions[0], 100 * step}, {kStepPartitions[1], 100 * step + 1}};
  if (step % 2 == 1) offsets.push_back({kStepPartitions[2], 100 * step + 2});
  return offsets;
}

inline std::map<PartitionId, Timestamp> step_watermarks(int step) {
  std::map<PartitionId, Timestamp> watermarks = {{kStepPartitions[0], 1000 * step},
                                                 {kStepPartitions[2], 1000 * step + 2}};
  if (step % 2 == 0) watermarks[kStepPartitions[1]] = 1000 * step + 1;
  return watermarks;
}

// Writes step's changes through the store's task writers and commits.
inline Result<CheckpointInfo> commit_step(CheckpointStore& store, int step) {
  for (const Change& c : step_changes(step)) {
    StateWriter& writer = store.task(c.partition).writer(c.stage);
    if (c.value) {
      writer.put(c.key, *c.value);
    } else {
      writer.remove(c.key);
    }
  }
  return store.commit(step_offsets(step), step_watermarks(step));
}

struct Expected {
  Contents contents;
  std::map<PartitionId, int64_t> offsets;
  std::map<PartitionId, Timestamp> watermarks;
};

// What the store holds after steps 1..steps committed.
inline Expected expected_after(int steps) {
  Expected e;
  for (int step = 1; step <= steps; ++step) {
    for (const Change& c : step_changes(step)) {
      Entries& entries = e.contents[{c.partition, c.stage}];
      if (c.value) {
        entries[c.key] = *c.value;
      } else {
        entries.erase(c.key);
      }
    }
    for (const PartitionPosition& p : step_offsets(step)) e.offsets[p.partition] = p.next_offset;
    for (const auto& [p, w] : step_watermarks(step)) e.watermarks[p] = w;
  }
  // A task and stage without entries reads as empty: leave it out, as read_contents() does.
  std::erase_if(e.contents, [](const auto& item) { return item.second.empty(); });
  return e;
}

}  // namespace kappa::state_test
