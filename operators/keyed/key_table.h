// KeyTable: the per-key state of a keyed operator plus one event-time timer
// per key, and what of it changed since the last checkpoint.
//
// State lives inside the hash map (one probe finds it; no second array to
// chase), so references to it last only until the next insertion or removal.
// Timers sit in buckets by time and name their key and the sequence number
// they were set with; a key's timer can only move earlier, so a bucket entry
// whose sequence is no longer its key's is stale and skipped. A watermark
// step touches only the keys whose timers are due, in time order and, within
// a time, in the order they were set, which is deterministic for a given
// input. The sequence numbers go into checkpoints, so a restored table fires
// its timers in the same order.
//
// Checkpoints (runtime/state.h). An entry touched through find_or_add(),
// schedule() or a due timer is dirty; checkpoint() puts the dirty keys and
// removes the keys forgotten since the last checkpoint. The per-record path
// pays no lookup for this: a flag in the slot, and the key appended to a list
// the first time the flag is set. Nothing is listed before the first
// checkpoint or restore, so a job that never checkpoints keeps no list; the
// first checkpoint of a table that was not restored therefore writes every
// key, into a namespace that must be empty (a new task's).
//
// Namespace layout (one per operator and task; the keys sort as listed):
//   kMetaKey  "\0"               -> the operator's own small state (meta)
//   kKeyTag   "\1" + state key   -> timer (i64), timer sequence (varint), the
//                                   operator's bytes for the key's state
// where the state key is key.h's append_state_key(): byte order is key order.
//
// Thread use: one task's thread, like the operator that owns the table.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "operators/keyed/huge_page_allocator.h"
#include "operators/keyed/key.h"
#include "runtime/encoding.h"
#include "runtime/record.h"
#include "runtime/state.h"
#include "runtime/status.h"

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
using Map = std::conditional_t<
    std::is_same_v<K, std::string>,
    absl::flat_hash_map<K, V, StringHash, StringEqual, HugePageAllocator<std::pair<const K, V>>>,
    absl::flat_hash_map<K, V, absl::container_internal::hash_default_hash<K>,
                        absl::container_internal::hash_default_eq<K>, HugePageAllocator<std::pair<const K, V>>>>;

}  // namespace key_table_detail

template <class K, class State>
class KeyTable {
 public:
  struct Slot {
    State state;
    Timestamp timer = kMaxTimestamp;  // the pending timer, if any
    uint64_t timer_sequence = 0;      // which bucket entry is the pending timer; 0: none was ever set
    bool dirty = false;               // changed since the last checkpoint
  };
  using Entry = std::pair<const K, Slot>;

  static constexpr std::string_view kMetaKey{"\0", 1};
  static constexpr char kKeyTag = '\1';

  // The key's entry, created (with a default State, or make_state()'s) if it
  // has none. Valid until the next find_or_add() or forget().
  template <class KeyArg>
  Entry& find_or_add(const KeyArg& key) {
    auto it = map_.find(key);
    if (it == map_.end()) it = map_.try_emplace(K(key)).first;
    touch(*it);
    return *it;
  }
  template <class KeyArg, class MakeState>
  Entry& find_or_add(const KeyArg& key, MakeState&& make_state) {
    auto it = map_.find(key);
    if (it == map_.end()) it = map_.try_emplace(K(key), Slot{make_state()}).first;
    touch(*it);
    return *it;
  }

  // Sets the entry's timer to `when` unless it is already due earlier.
  void schedule(Entry& entry, Timestamp when) {
    // Most calls change nothing: only this test sits on the per-record path.
    if (when < entry.second.timer) set_timer(entry, when);
  }

  // Calls due(Entry&) for every key whose timer is at or before `now`, in
  // timer order; the timer is cleared first, so due() may set a new one
  // (after `now`) or forget the key.
  template <class F>
  void run_timers(Timestamp now, F&& due) {
    while (!timers_.empty() && timers_.begin()->first <= now) {
      auto bucket = timers_.extract(timers_.begin());
      for (const Timer& timer : bucket.mapped()) {
        auto it = map_.find(timer.key);
        if (it == map_.end() || it->second.timer_sequence != timer.sequence) continue;  // superseded or forgotten
        it->second.timer = kMaxTimestamp;
        touch(*it);
        due(*it);
      }
    }
  }

  // Drops the key and its state.
  void forget(const K& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    if (tracking_) forgotten_.push_back(key);
    map_.erase(it);
  }

  std::size_t size() const { return map_.size(); }

  // Calls f(const K&, const State&) for every key, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [key, slot] : map_) f(key, slot.state);
  }

  // Writes the keys changed since the last checkpoint (all of them at the
  // first, unless restored) and `meta` under kMetaKey, in no particular
  // order (state/ sorts a checkpoint's changes for RocksDB after the barrier).
  // write_state(const K&, const State&, std::string& value) appends the
  // state's bytes to `value`.
  template <class WriteState>
  void checkpoint(StateWriter& out, std::string_view meta, WriteState&& write_state) {
    std::string entry_key;
    std::string value;
    auto put = [&](const K& key, Slot& slot) {
      set_entry_key(key, entry_key);
      value.clear();
      encoding::put_i64(value, slot.timer);
      encoding::put_varint(value, slot.timer_sequence);
      write_state(key, std::as_const(slot.state), value);
      out.put(entry_key, value);
      slot.dirty = false;
    };
    // A key forgotten and then added again is put below.
    for (const K& key : forgotten_) {
      if (map_.contains(key)) continue;
      set_entry_key(key, entry_key);
      out.remove(entry_key);
    }
    // Finding a key costs a cache miss or two (the table's order is the
    // hash's), a pass over every slot a few nanoseconds each: once more than
    // 1 key in kScanAbove changed, the pass is faster (bench/checkpoint_bench).
    constexpr std::size_t kScanAbove = 16;
    if (!tracking_ || dirty_.size() * kScanAbove > map_.size()) {
      for (Entry& entry : map_) {
        if (entry.second.dirty || !tracking_) put(entry.first, entry.second);
      }
    } else {
      for (const K& key : dirty_) {
        auto it = map_.find(key);
        // Absent: forgotten (above). Clean: listed twice (forgotten, then
        // added again), and written already.
        if (it != map_.end() && it->second.dirty) put(key, it->second);
      }
    }
    tracking_ = true;
    dirty_.clear();
    forgotten_.clear();
    out.put(kMetaKey, meta);
  }

  // Replaces the table with the one a sequence of checkpoint() calls wrote
  // into `in`: read_meta(std::string_view) -> Status gets the meta entry,
  // read_state(const K&, std::string_view) -> Result<State> each key's
  // bytes, in key order after the meta entry. An empty namespace (nothing
  // was ever checkpointed) restores an empty table without calling either.
  // Returns Corruption on malformed entries, or the first error a callback
  // returns, and then leaves the table as it was.
  template <class ReadMeta, class ReadState>
  [[nodiscard]] Status restore(StateReader& in, ReadMeta&& read_meta, ReadState&& read_state) {
    auto bad = [](const char* what) { return Status::corruption(std::string("keyed state: ") + what); };
    KeyTable restored;
    restored.tracking_ = true;  // the namespace holds the table: later checkpoints write changes
    bool has_meta = false;
    K key{};
    KAPPA_RETURN_IF_ERROR(in.scan([&](std::string_view entry_key, std::string_view value) -> Status {
      if (entry_key == kMetaKey) {
        has_meta = true;
        return read_meta(value);
      }
      if (entry_key.empty() || entry_key.front() != kKeyTag || !parse_state_key(entry_key.substr(1), key)) {
        return bad("an entry whose key is neither the meta entry nor a key's");
      }
      if (!has_meta) return bad("key entries without the meta entry");
      Timestamp timer;
      uint64_t sequence;
      if (!encoding::get_i64(value, timer) || !encoding::get_varint(value, sequence)) {
        return bad("a key entry too short for its timer");
      }
      Result<State> state = read_state(std::as_const(key), value);
      if (!state.is_ok()) return state.status();
      if (timer != kMaxTimestamp) restored.timers_[timer].push_back({key, sequence});
      restored.next_sequence_ = std::max(restored.next_sequence_, sequence + 1);
      restored.map_.try_emplace(key, Slot{std::move(state).value(), timer, sequence, false});
      return Status::ok();
    }));
    for (auto& [time, bucket] : restored.timers_) {
      std::sort(bucket.begin(), bucket.end(), [](const Timer& a, const Timer& b) { return a.sequence < b.sequence; });
    }
    *this = std::move(restored);
    return Status::ok();
  }

 private:
  struct Timer {
    K key;
    uint64_t sequence;
  };

  void set_timer(Entry& entry, Timestamp when) {
    entry.second.timer = when;
    entry.second.timer_sequence = next_sequence_++;
    timers_[when].push_back({entry.first, entry.second.timer_sequence});
    touch(entry);
  }

  void touch(Entry& entry) {
    if (entry.second.dirty) return;
    entry.second.dirty = true;
    if (tracking_) dirty_.push_back(entry.first);
  }

  static void set_entry_key(const K& key, std::string& out) {
    out.assign(1, kKeyTag);
    append_state_key(key, out);
  }

  key_table_detail::Map<K, Slot> map_;
  std::map<Timestamp, std::vector<Timer>> timers_;
  uint64_t next_sequence_ = 1;  // 0 is no timer's, so a fresh slot matches no stale bucket entry
  bool tracking_ = false;       // whether dirty_ and forgotten_ list changes (after the first checkpoint or a restore)
  std::vector<K> dirty_;        // keys that became dirty since the last checkpoint, some twice
  std::vector<K> forgotten_;    // keys forgotten since the last checkpoint
};

}  // namespace kappa
