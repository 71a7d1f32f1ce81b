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
// Memory budget (--state-memory; StateReader::memory() at restore). The
// table reports an estimate of its memory to the budget: slots, plus each
// entry's encoded size standing in for what its state holds outside the
// slot. While the job is over budget, each checkpoint evicts the table's
// share of the excess, coldest entries first (those untouched for the most
// checkpoints), keeping only their keys; a restore loads entries only while
// there is room (the keys evicted after it ran out can take the estimate
// over the budget until the first checkpoint). An evicted entry is read back
// when a record (StateReader::get) or its timer next needs it; timers due
// together read theirs back in batches (StateReader::get_many), which is
// several times faster over many keys. Only entries untouched since before the
// last checkpoint are evicted: their bytes are in the database already (the
// job runner finishes a checkpoint's commit before the next barrier), so a
// read brings back exactly what was evicted. Between checkpoints the
// estimate follows the entries coming into memory, so that a job whose
// state outgrows the budget checkpoints early
// (StateBackend::over_memory_budget); the runner waits for that
// checkpoint's commit and calls shed_memory(), which may evict what the
// checkpoint wrote too. Keys and timers stay in memory, and so do the
// entries touched since the last checkpoint: the budget bounds the rest.
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
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
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

template <class K>
using Set = std::conditional_t<std::is_same_v<K, std::string>, absl::flat_hash_set<K, StringHash, StringEqual>,
                               absl::flat_hash_set<K>>;

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
    uint32_t touched_in = 0;          // the checkpoint interval it was last touched in (0: not since restored)
  };
  using Entry = std::pair<const K, Slot>;

  static constexpr std::string_view kMetaKey{"\0", 1};
  static constexpr char kKeyTag = '\1';

  // The key's entry, created (with a default State, or make_state()'s) if it
  // has none. Valid until the next find_or_add() or forget().
  template <class KeyArg>
  Entry& find_or_add(const KeyArg& key) {
    auto it = find(key);
    if (it == map_.end()) {
      it = map_.try_emplace(K(key)).first;
      grew();
    }
    touch(*it);
    return *it;
  }
  template <class KeyArg, class MakeState>
  Entry& find_or_add(const KeyArg& key, MakeState&& make_state) {
    auto it = find(key);
    if (it == map_.end()) {
      it = map_.try_emplace(K(key), Slot{make_state()}).first;
      grew();
    }
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
      const std::vector<Timer>& timers = bucket.mapped();
      for (std::size_t begin = 0; begin < timers.size(); begin += kReadBackChunk) {
        const std::span<const Timer> chunk(timers.data() + begin, std::min(kReadBackChunk, timers.size() - begin));
        if (!evicted_.empty()) read_back(chunk);
        for (const Timer& timer : chunk) {
          auto it = find(timer.key);
          if (it == map_.end() || it->second.timer_sequence != timer.sequence) continue;  // superseded or forgotten
          it->second.timer = kMaxTimestamp;
          touch(*it);
          due(*it);
        }
      }
    }
  }

  // Drops the key and its state.
  void forget(const K& key) {
    auto it = map_.find(key);
    // Listed before the erase: `key` may be the entry's own.
    if (it == map_.end()) {
      auto evicted = evicted_.find(key);
      if (evicted == evicted_.end()) return;
      if (tracking_) forgotten_.push_back(key);
      evicted_.erase(evicted);
      return;
    }
    if (tracking_) forgotten_.push_back(key);
    map_.erase(it);
  }

  // Keys with state, in memory or evicted.
  std::size_t size() const { return map_.size() + evicted_.size(); }
  // Keys whose state is in memory.
  std::size_t resident() const { return map_.size(); }

  // Calls f(const K&, const State&) for every key in memory, in no
  // particular order.
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
    std::size_t written = 0;
    std::size_t written_bytes = 0;
    auto put = [&](const K& key, Slot& slot) {
      set_entry_key(key, entry_key);
      value.clear();
      encoding::put_i64(value, slot.timer);
      encoding::put_varint(value, slot.timer_sequence);
      write_state(key, std::as_const(slot.state), value);
      out.put(entry_key, value);
      slot.dirty = false;
      ++written;
      written_bytes += value.size();
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
    if (written > 0) value_bytes_ = static_cast<double>(written_bytes) / static_cast<double>(written);
    if (memory_ != nullptr) evict_over_budget();
    ++interval_;
  }

  // Under a memory budget, evicts the table's share of the job's excess over
  // it as checkpoint() does, but the entries the last checkpoint wrote may go
  // too. REQUIRES: that checkpoint's commit has finished (their bytes are in
  // the database) and nothing was touched since. The job runner calls it
  // when state has outgrown its budget (StateBackend::over_memory_budget)
  // and the tasks wait for a checkpoint's commit: without it, entries
  // touched in the interval before a checkpoint stay in memory until the
  // next one.
  void shed_memory() {
    if (memory_ != nullptr) evict_over_budget();
  }

  // Replaces the table with the one a sequence of checkpoint() calls wrote
  // into `in`: read_meta(std::string_view) -> Status gets the meta entry,
  // read_state(const K&, std::string_view) -> Result<State> each key's
  // bytes, in key order after the meta entry. An empty namespace (nothing
  // was ever checkpointed) restores an empty table without calling either.
  // Returns Corruption on malformed entries, or the first error a callback
  // returns, and then leaves the table as it was.
  // With a memory budget (in.memory()), the table keeps `in` and a copy of
  // read_state to read evicted entries back later: both must outlive it, so
  // read_state must not refer to the caller's locals (capture the operator,
  // by pointer, and values).
  template <class ReadMeta, class ReadState>
  [[nodiscard]] Status restore(StateReader& in, ReadMeta&& read_meta, ReadState&& read_state) {
    auto bad = [](const char* what) { return Status::corruption(std::string("keyed state: ") + what); };
    KeyTable restored;
    restored.tracking_ = true;  // the namespace holds the table: later checkpoints write changes
    restored.memory_ = in.memory();
    if (restored.memory_ != nullptr) {
      restored.cold_ = &in;
      restored.read_state_ = read_state;
    }
    // With a budget, entries are loaded while the estimate leaves room for
    // them; the others are evicted from the start.
    const double room = restored.memory_ == nullptr
                            ? INFINITY
                            : static_cast<double>(restored.memory_->budget() - restored.memory_->used());
    std::size_t seen = 0;
    std::size_t seen_bytes = 0;
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
      ++seen;
      seen_bytes += value.size();
      const double average = static_cast<double>(seen_bytes) / static_cast<double>(seen);
      const bool load = static_cast<double>(restored.map_.size() + 1) * entry_bytes(average) +
                            static_cast<double>(restored.evicted_.size()) * kEvictedKeyBytes <=
                        room;
      Timestamp timer;
      uint64_t sequence;
      if (!decode_timer(value, timer, sequence)) return bad("a key entry too short for its timer");
      if (load) {
        Result<State> state = read_state(std::as_const(key), value);
        if (!state.is_ok()) return state.status();
        restored.map_.try_emplace(key, Slot{std::move(state).value(), timer, sequence});
      } else {
        restored.evicted_.insert(key);
      }
      if (timer != kMaxTimestamp) restored.timers_[timer].push_back({key, sequence});
      restored.next_sequence_ = std::max(restored.next_sequence_, sequence + 1);
      return Status::ok();
    }));
    for (auto& [time, bucket] : restored.timers_) {
      std::sort(bucket.begin(), bucket.end(), [](const Timer& a, const Timer& b) { return a.sequence < b.sequence; });
    }
    if (seen > 0) restored.value_bytes_ = static_cast<double>(seen_bytes) / static_cast<double>(seen);
    restored.charge_.set(restored.memory_, restored.estimate());
    *this = std::move(restored);
    return Status::ok();
  }

 private:
  struct Timer {
    K key;
    uint64_t sequence;
  };
  // Due timers whose evicted entries are read back together (read_back):
  // enough that a fire over most keys finds several of them in each database
  // block it reads (reading them back one at a time, bench/state_memory_bench
  // took 2.60 times the unbudgeted run, 2.16 with batches of 65536), few
  // enough that the entries read back for one batch are a small part of a
  // budget (a few MiB).
  static constexpr std::size_t kReadBackChunk = 65536;

  void set_timer(Entry& entry, Timestamp when) {
    entry.second.timer = when;
    entry.second.timer_sequence = next_sequence_++;
    timers_[when].push_back({entry.first, entry.second.timer_sequence});
    touch(entry);
  }

  void touch(Entry& entry) {
    if (entry.second.dirty) return;
    entry.second.dirty = true;
    entry.second.touched_in = interval_;
    if (tracking_) dirty_.push_back(entry.first);
  }

  // The key's entry, read back from the database if it was evicted;
  // map_.end() if the key has none.
  template <class KeyArg>
  auto find(const KeyArg& key) {
    auto it = map_.find(key);
    if (it != map_.end() || evicted_.empty()) return it;
    auto evicted = evicted_.find(key);
    if (evicted == evicted_.end()) return it;
    K owned = *evicted;
    evicted_.erase(evicted);
    std::string entry_key;
    set_entry_key(owned, entry_key);
    Result<std::optional<std::string>> bytes = cold_->get(entry_key);
    Slot slot = evicted_slot(owned, bytes.status(), bytes.is_ok() ? *bytes : std::nullopt);
    auto read_back = map_.try_emplace(std::move(owned), std::move(slot)).first;
    grew();
    return read_back;
  }

  // Brings the evicted entries among the timers' keys back into memory, in
  // one StateReader::get_many(): a fire of many timers (a window end that
  // many keys share, the end of a bounded input) reading them back one
  // find() at a time spends most of its time in the database.
  void read_back(std::span<const Timer> timers) {
    std::vector<std::pair<std::string, K>> wanted;  // the entry key, the key
    for (const Timer& timer : timers) {
      if (!evicted_.contains(timer.key)) continue;
      wanted.emplace_back(std::string(), timer.key);
      set_entry_key(timer.key, wanted.back().first);
    }
    if (wanted.empty()) return;
    std::sort(wanted.begin(), wanted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    wanted.erase(
        std::unique(wanted.begin(), wanted.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
        wanted.end());
    std::vector<std::string> entry_keys;
    entry_keys.reserve(wanted.size());
    for (auto& [entry_key, key] : wanted) entry_keys.push_back(std::move(entry_key));
    std::vector<std::optional<std::string>> values(wanted.size());
    const Status read = cold_->get_many(entry_keys, [&](std::size_t i, std::string_view value) { values[i] = value; });
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      K& key = wanted[i].second;
      Slot slot = evicted_slot(key, read, values[i]);
      evicted_.erase(key);
      map_.try_emplace(std::move(key), std::move(slot));
      grew();
    }
  }

  // The slot of an evicted entry, read back as `bytes` (nullopt: not found)
  // by a read that returned `read`.
  Slot evicted_slot(const K& key, const Status& read, const std::optional<std::string>& bytes) {
    Result<Slot> slot = !read.is_ok() ? Result<Slot>(read)
                        : !bytes      ? Result<Slot>(Status::not_found("the entry is missing"))
                                      : decode_slot(key, *bytes, read_state_);
    // The entry was in the database when it was evicted: only a damaged or
    // vanished database loses it, and the state cannot go on without it.
    KAPPA_CHECK(slot.is_ok(), "keyed state: an entry evicted under --state-memory cannot be read back (" +
                                  slot.status().message() + "); restart the job to restore its last checkpoint");
    return std::move(slot).value();
  }

  // An entry came into memory. With a budget, every kChargeEvery of them
  // the estimate is brought up to date, so that the budget sees state grow
  // between checkpoints (StateBackend::over_memory_budget) and not only at
  // them; an atomic add, too costly for every record.
  void grew() {
    constexpr uint32_t kChargeEvery = 1024;
    if (memory_ != nullptr && ++grown_since_charge_ == kChargeEvery) {
      grown_since_charge_ = 0;
      charge_.set(memory_, estimate());
    }
  }

  // A key entry's value is its timer, the timer's sequence, then the
  // operator's bytes: reads the first two off `value`.
  static bool decode_timer(std::string_view& value, Timestamp& timer, uint64_t& sequence) {
    return encoding::get_i64(value, timer) && encoding::get_varint(value, sequence);
  }
  template <class ReadState>
  static Result<Slot> decode_slot(const K& key, std::string_view value, ReadState& read_state) {
    Timestamp timer;
    uint64_t sequence;
    if (!decode_timer(value, timer, sequence)) {
      return Status::corruption("keyed state: a key entry too short for its timer");
    }
    Result<State> state = read_state(key, value);
    if (!state.is_ok()) return state.status();
    return Slot{std::move(state).value(), timer, sequence};
  }

  // Estimated bytes of one entry in memory: its slot (the table keeps about
  // 1 slot in 8 empty) and, standing in for what the state holds outside
  // the slot, its encoded size.
  static double entry_bytes(double encoded_bytes) { return sizeof(Entry) * 8.0 / 7.0 + encoded_bytes; }
  // And of an evicted key: its slot in evicted_.
  static constexpr double kEvictedKeyBytes = (sizeof(K) + 1) * 8.0 / 7.0;
  int64_t estimate() const {
    return static_cast<int64_t>(static_cast<double>(map_.size()) * entry_bytes(value_bytes_) +
                                static_cast<double>(evicted_.size()) * kEvictedKeyBytes);
  }

  // Evicts the table's share of the budget's excess, coldest entries first,
  // among those untouched in this checkpoint interval (see the top; after
  // checkpoint() began a new interval, that includes what it wrote); then
  // tells the budget what is left (StateMemory::settled).
  void evict_over_budget() {
    evict_share();
    memory_->settled();
  }
  void evict_share() {
    charge_.set(memory_, estimate());
    const double excess = memory_->excess();
    if (excess <= 0) return;
    std::vector<std::pair<uint32_t, const K*>> cold;
    for (const Entry& entry : map_) {
      if (entry.second.touched_in < interval_) cold.push_back({entry.second.touched_in, &entry.first});
    }
    // Each eviction saves the entry but for its key.
    const double saved = entry_bytes(value_bytes_) - kEvictedKeyBytes;
    if (saved <= 0) return;
    const auto share = static_cast<std::size_t>(std::ceil(excess * static_cast<double>(estimate()) / saved));
    if (share < cold.size()) {
      std::nth_element(cold.begin(), cold.begin() + static_cast<std::ptrdiff_t>(share), cold.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      cold.resize(share);
    }
    if (cold.empty()) return;
    for (const auto& [touched_in, key] : cold) {
      K owned = *key;
      map_.erase(owned);  // erasing moves no other entry, so the other pointers stay valid
      evicted_.insert(std::move(owned));
    }
    map_.rehash(0);  // give the slots back
    charge_.set(memory_, estimate());
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
  uint32_t interval_ = 1;       // checkpoint intervals so far, this one included (touched_in's clock)
  double value_bytes_ = 0;      // the average encoded entry at the last checkpoint or restore

  // With a memory budget (restored from a reader that has one):
  StateMemory* memory_ = nullptr;
  StateReader* cold_ = nullptr;                                          // where evicted entries are read back
  std::function<Result<State>(const K&, std::string_view)> read_state_;  // restore()'s, kept for them
  key_table_detail::Set<K> evicted_;                                     // keys whose entry is in cold_ only
  StateMemoryCharge charge_;                                             // this table's part of memory_
  uint32_t grown_since_charge_ = 0;                                      // entries come into memory since charge_.set
};

}  // namespace kappa
