// The timers of a KeyTable (key_table.h): their place in firing order, the
// queue of those held in memory, and how a checkpoint's timer index writes
// and checks them.
//
// Thread use: one task's thread, like the table.
#pragma once

#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "operators/keyed/key.h"
#include "runtime/record.h"

namespace kappa {

// A timer's place in firing order: by time, then by the sequence number it
// was set with (unique within a table).
struct TimerPosition {
  Timestamp time;
  uint64_t sequence;
  bool operator==(const TimerPosition&) const = default;
};
inline constexpr uint64_t kLastSequence = UINT64_MAX;

// A position as 16 bytes whose byte order is firing order (append_state_key
// of each half), and back; false if `bytes` cannot be one.
inline void append_timer_position(TimerPosition timer, std::string& out) {
  append_state_key(timer.time, out);
  append_state_key(timer.sequence, out);
}
inline bool parse_timer_position(std::string_view bytes, TimerPosition& timer) {
  constexpr std::size_t kHalf = sizeof(Timestamp);
  return bytes.size() == 2 * kHalf && parse_state_key(bytes.substr(0, kHalf), timer.time) &&
         parse_state_key(bytes.substr(kHalf), timer.sequence);
}

// What a restore compares a table's key entries' timers and its timer index
// by: how many, and a sum of hashes of (time, sequence, state key), which
// does not depend on the order they are added in.
struct TimerDigest {
  uint64_t count = 0;
  uint64_t sum = 0;
  void add(TimerPosition timer, std::string_view state_key) {
    ++count;
    sum += absl::Hash<std::tuple<Timestamp, uint64_t, absl::string_view>>{}(
        {timer.time, timer.sequence, {state_key.data(), state_key.size()}});
  }
  bool operator==(const TimerDigest&) const = default;
};

// Timers in memory, each naming its key, in buckets by time. A bucket keeps
// its timers in sequence order, unless one was added after later ones (a
// timer read back from the index): then it is sorted before it fires.
// Entries are not removed when their key's timer changes: the caller skips
// those that are no longer its key's.
template <class K>
class TimerQueue {
 public:
  struct Timer {
    K key;
    uint64_t sequence;
  };

  void add(TimerPosition timer, const K& key) {
    Bucket& bucket = buckets_[timer.time];
    if (!bucket.timers.empty() && bucket.timers.back().sequence > timer.sequence) bucket.sorted = false;
    bucket.timers.push_back({key, timer.sequence});
  }

  // Takes out the timers at or before `through`, in order, calling
  // f(const K&, TimerPosition) for each; f may add timers after `through`.
  // If f throws (user code, under --on-error skip or dlq), the timer it threw
  // for is out and the ones after it stay in, to fire at the next call.
  template <class F>
  void pop_through(TimerPosition through, F&& f) {
    while (!buckets_.empty() && buckets_.begin()->first <= through.time) {
      auto node = buckets_.extract(buckets_.begin());
      const Timestamp time = node.key();
      std::vector<Timer>& timers = node.mapped().timers;
      if (!node.mapped().sorted) {
        std::sort(timers.begin(), timers.end(), [](const Timer& a, const Timer& b) { return a.sequence < b.sequence; });
      }
      const auto end =
          time < through.time
              ? timers.end()
              : std::upper_bound(timers.begin(), timers.end(), through.sequence,
                                 [](uint64_t sequence, const Timer& timer) { return sequence < timer.sequence; });
      auto it = timers.begin();
      try {
        for (; it != end; ++it) f(std::as_const(it->key), TimerPosition{time, it->sequence});
      } catch (...) {
        timers.erase(timers.begin(), it + 1);
        if (!timers.empty()) put_back(std::move(node));
        throw;
      }
      if (end == timers.end()) continue;
      // The rest are after `through`: back in the queue.
      timers.erase(timers.begin(), end);
      put_back(std::move(node));
      return;
    }
  }

  // Drops the timers at these positions (in any order; sorted by it).
  void drop(std::vector<TimerPosition>& timers) {
    std::sort(timers.begin(), timers.end(),
              [](const TimerPosition& a, const TimerPosition& b) { return a.time < b.time; });
    absl::flat_hash_set<uint64_t> sequences;
    for (std::size_t begin = 0, end = 0; begin < timers.size(); begin = end) {
      const Timestamp time = timers[begin].time;
      sequences.clear();
      for (end = begin; end < timers.size() && timers[end].time == time; ++end) sequences.insert(timers[end].sequence);
      auto bucket = buckets_.find(time);
      if (bucket == buckets_.end()) continue;
      std::erase_if(bucket->second.timers, [&](const Timer& timer) { return sequences.contains(timer.sequence); });
      if (bucket->second.timers.empty()) {
        buckets_.erase(bucket);
      } else {
        bucket->second.timers.shrink_to_fit();
      }
    }
  }

  // Timers held, stale ones included.
  std::size_t size() const {
    std::size_t n = 0;
    for (const auto& [time, bucket] : buckets_) n += bucket.timers.size();
    return n;
  }

 private:
  struct Bucket {
    std::vector<Timer> timers;
    bool sorted = true;
  };
  using Node = typename std::map<Timestamp, Bucket>::node_type;

  // Puts pop_through()'s bucket back, holding the timers it did not fire.
  void put_back(Node&& node) {
    auto inserted = buckets_.insert(std::move(node));
    if (!inserted.inserted) {  // f added timers at that time too
      for (Timer& timer : inserted.node.mapped().timers) add({inserted.node.key(), timer.sequence}, timer.key);
    }
  }

  std::map<Timestamp, Bucket> buckets_;
};

}  // namespace kappa
