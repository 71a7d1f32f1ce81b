// Running a pipeline with checkpoints and a restore in the middle, and
// restoring from spoilt state: what the operator tests share to check that a
// restored stage continues exactly as one that never stopped (runtime/state.h)
// and that bad state is an error, never a crash.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "runtime/record.h"
#include "runtime/stage_context.h"
#include "runtime/status.h"
#include "tests/support/memory_state.h"

namespace kappa::testing {

struct RestorePlan {
  // Checkpoint before these inputs (inputs.size(): before finishing), and go on.
  std::vector<std::size_t> checkpoints;
  // Checkpoint before this input, then go on in a fresh copy of the
  // pipeline restored from the state. Past the inputs: no restore.
  std::size_t restore_at = std::numeric_limits<std::size_t>::max();
};

// Pushes `inputs` through a copy of `prototype`, then finishes it, as a task
// would; sink(Element<output>&&) gets the results. Checkpoints go into
// `state`, which may hold earlier checkpoints of the same run. Every copy
// of the pipeline is bound to `context` if given. Returns the restore's error.
template <class P, class Sink>
Status run_with_restore(const P& prototype, const std::vector<Element<typename P::input_type>>& inputs,
                        const RestorePlan& plan, MemoryState& state, Sink&& sink, StageContext* context = nullptr) {
  std::optional<P> p(prototype);
  if (context != nullptr) p->bind(*context);
  for (std::size_t i = 0; i <= inputs.size(); ++i) {
    if (std::find(plan.checkpoints.begin(), plan.checkpoints.end(), i) != plan.checkpoints.end()) {
      p->checkpoint(state);
    }
    if (i == plan.restore_at) {
      p->checkpoint(state);
      p.emplace(prototype);
      if (context != nullptr) p->bind(*context);
      KAPPA_RETURN_IF_ERROR(p->restore(state));
    }
    if (i == inputs.size()) break;
    Element<typename P::input_type> e = inputs[i];
    p->push(std::move(e), sink);
  }
  p->finish(sink);
  return Status::ok();
}

// How many restores from spoilt copies of `state` succeeded, by the way one
// entry of stage `stage` was spoilt. restore(MemoryState&) -> Status
// restores a fresh stage or pipeline. The copies have a memory budget that
// holds all of their state: keyed tables check their timer index only when
// they have one (operators/keyed/key_table.h).
struct SpoiltRestores {
  int truncated = 0;   // an entry's value (never empty) one byte short: every format rejects it
  int extended = 0;    // a byte appended to an entry's value: likewise
  int retagged = 0;    // an entry's key with another first byte: likewise
  int flipped = 0;     // random bytes flipped: may decode; must not crash
  int flip_trials = 0;
};

template <class Restore>
SpoiltRestores restore_spoilt(const MemoryState& state, std::size_t stage, Restore&& restore, int flip_trials,
                              uint64_t seed = 1) {
  SpoiltRestores accepted;
  const auto& entries = state.stages().at(stage).entries;
  StateMemory ample(int64_t{1} << 40);
  auto try_restore = [&](auto&& spoil) {
    MemoryState copy = state;
    spoil(copy.stage(stage).entries);
    copy.stage(stage).set_memory(&ample);
    return restore(copy).is_ok();
  };
  for (const auto& [key, value] : entries) {
    accepted.truncated += try_restore([&](auto& map) {
      if (!value.empty()) map[key].pop_back();
    });
    accepted.extended += try_restore([&](auto& map) { map[key].push_back('\x07'); });
    accepted.retagged += try_restore([&](auto& map) {
      std::string other = key;
      other[0] = static_cast<char>(other[0] + 2);
      map.erase(key);
      map[other] = value;
    });
  }
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < flip_trials; ++trial) {
    accepted.flipped += try_restore([&](auto& map) {
      for (int flips = 0; flips < 3; ++flips) {
        auto it = std::next(map.begin(), static_cast<std::ptrdiff_t>(rng() % map.size()));
        auto flip = [&](std::string& bytes) { bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255); };
        if (rng() % 4 != 0) {
          if (!it->second.empty()) flip(it->second);
        } else {  // a key: taken out and put back, so the map stays sorted
          auto node = map.extract(it);
          flip(node.key());
          map.insert(std::move(node));
        }
      }
    });
  }
  accepted.flip_trials = flip_trials;
  return accepted;
}

}  // namespace kappa::testing
