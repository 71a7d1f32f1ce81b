// KeyTable: the per-key state of a keyed operator plus one event-time timer
// per key.
//
// State lives inside the hash map (one probe finds it; no second array to
// chase), so references to it last only until the next insertion or removal.
// Timers sit in buckets by time and name their key; a key's timer can only
// move earlier, so a bucket entry whose time no longer matches its key's
// timer is stale and skipped. A watermark step touches only the keys whose
// timers are due, in time order and, within a time, in the order they were
// set, which is deterministic for a given input.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/record.h"

namespace kappa {

namespace key_table_detail {

// Debian's Abseil has its own string_view, so a std::string map cannot be
// searched with a std::string_view out of the box: these make the lookup
// transparent, so a key read from a record is found without a copy.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return absl::Hash<absl::string_view>{}({s.data(), s.size()}); }
};
struct StringEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

template <class K, class V>
using Map = std::conditional_t<std::is_same_v<K, std::string>, absl::flat_hash_map<K, V, StringHash, StringEqual>,
                               absl::flat_hash_map<K, V>>;

}  // namespace key_table_detail

template <class K, class State>
class KeyTable {
 public:
  struct Slot {
    State state;
    Timestamp timer = kMaxTimestamp;  // the pending timer, if any
  };
  using Entry = std::pair<const K, Slot>;

  // The key's entry, created (with a default State) if it has none. Valid
  // until the next find_or_add() or forget().
  template <class KeyArg>
  Entry& find_or_add(const KeyArg& key) {
    auto it = map_.find(key);
    if (it == map_.end()) it = map_.try_emplace(K(key)).first;
    return *it;
  }

  // Sets the entry's timer to `when` unless it is already due earlier.
  void schedule(Entry& entry, Timestamp when) {
    if (when >= entry.second.timer) return;
    entry.second.timer = when;
    timers_[when].push_back(entry.first);
  }

  // Calls due(Entry&) for every key whose timer is at or before `now`, in
  // timer order; the timer is cleared first, so due() may set a new one
  // (after `now`) or forget the key.
  template <class F>
  void run_timers(Timestamp now, F&& due) {
    while (!timers_.empty() && timers_.begin()->first <= now) {
      auto bucket = timers_.extract(timers_.begin());
      for (const K& key : bucket.mapped()) {
        auto it = map_.find(key);
        if (it == map_.end() || it->second.timer != bucket.key()) continue;  // superseded or forgotten
        it->second.timer = kMaxTimestamp;
        due(*it);
      }
    }
  }

  // Drops the key and its state.
  void forget(const K& key) { map_.erase(key); }

  std::size_t size() const { return map_.size(); }

 private:
  key_table_detail::Map<K, Slot> map_;
  std::map<Timestamp, std::vector<K>> timers_;
};

}  // namespace kappa
