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
// its timers in the same order. Checkpoints also keep a timer index, in
// that order, so that the timers of evicted entries need not stay in memory
// (below).
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
// table reports an estimate of its memory to the budget: slots and timers,
// plus each entry's encoded size standing in for what its state holds
// outside the slot. While the job is over budget, each checkpoint evicts the
// table's share of the excess, coldest entries first (those untouched for
// the most checkpoints), key, state and timer: the database has them all
// (the timer in the timer index), and memory only their count. A restore
// loads entries only while there is room. An evicted entry is read back when
// a record needs its key (StateReader::get: while any entry is evicted, a
// key not in memory is looked up, unless it was forgotten since the last
// committed checkpoint) or when its timer is due (a watermark step reads the
// index's due timers, StateReader::read_while); timers due together read
// theirs back in batches (StateReader::get_many), which is several times
// faster over many keys. Only entries untouched since before the last
// checkpoint are evicted: their bytes are in the database already (the job
// runner finishes a checkpoint's commit before the next barrier), so a read
// brings back exactly what was evicted. Between checkpoints the estimate
// follows the entries coming into memory, so that a job whose state
// outgrows the budget checkpoints early (StateBackend::over_memory_budget);
// the runner waits for that checkpoint's commit and calls shed_memory(),
// which may evict what the checkpoint wrote too. The entries touched since
// the last checkpoint stay in memory, and so do the lists of keys changed
// and forgotten: the budget bounds the rest.
//
// Namespace layout (one per operator and task; the keys sort as listed):
//   kMetaKey  "\0"               -> the operator's own small state (meta)
//   kKeyTag   "\1" + state key   -> timer (i64), timer sequence (varint), the
//                                   operator's bytes for the key's state
//   kTimerTag "\2" + time + timer sequence
//                                -> state key: one entry per key entry
//                                   with a timer, in firing order
// where the state key is key.h's append_state_key() (byte order is key
// order), and time and sequence are append_state_key()'s too (8 bytes each).
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
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "operators/keyed/key.h"
#include "operators/keyed/timers.h"
#include "runtime/encoding.h"
#include "runtime/huge_page_allocator.h"
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
    bool indexed = false;             // the timer index has this timer (as of the last checkpoint)
    uint32_t touched_in = 0;          // the checkpoint interval it was last touched in (0: not since restored)
  };
  using Entry = std::pair<const K, Slot>;

  static constexpr std::string_view kMetaKey{"\0", 1};
  static constexpr char kKeyTag = '\1';
  static constexpr char kTimerTag = '\2';

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
    const TimerPosition all_due{now, kLastSequence};
    for (;;) {
      // Evicted entries' timers are in the index only: bring the due ones
      // into memory, a chunk at a time, then fire what is in memory up to
      // where the chunk ends.
      const TimerPosition through = cold_keys_ == 0 ? all_due : read_back_due(now);
      fire_resident(through, due);
      if (through == all_due) return;
    }
  }

  // Drops the key and its state.
  void forget(const K& key) {
    auto it = find(key);  // an evicted entry is read back: its timer leaves the index
    if (it == map_.end()) return;
    // Listed before the erase: `key` may be the entry's own.
    if (tracking_) forgotten_.insert(key);
    unindex(it->second);
    map_.erase(it);
  }

  // Keys with state, in memory or evicted.
  std::size_t size() const { return map_.size() + cold_keys_; }
  // Keys whose state is in memory.
  std::size_t resident() const { return map_.size(); }
  // Timer entries in memory: one for each resident key's pending timer, and
  // stale ones not yet dropped.
  std::size_t timers_in_memory() const { return timers_.size(); }

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
    write_removals(out);
    write_changes(out, write_state);
    tracking_ = true;
    dirty_.clear();
    // The removals just written may reach the database only with this
    // checkpoint's commit: until then (the next checkpoint, or shed_memory())
    // their keys must not be looked up there.
    if (cold_ != nullptr) forgotten_before_ = std::move(forgotten_);
    forgotten_.clear();
    out.put(kMetaKey, meta);
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
    forgotten_before_.clear();
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
    // With a budget, an evicted entry's timer is found in the timer index
    // only: it must hold the key entries' timers, no more, no less.
    const bool read_index = restored.memory_ != nullptr;
    RestoreScan scan;
    auto read_entry = [&](std::string_view entry_key, std::string_view value) -> Status {
      if (entry_key == kMetaKey) {
        scan.has_meta = true;
        return read_meta(value);
      }
      if (read_index && !entry_key.empty() && entry_key.front() == kTimerTag) {
        TimerPosition timer;
        K key{};
        if (!parse_index_key(entry_key, timer) || !parse_state_key(value, key)) {
          return bad("a malformed timer index entry");
        }
        scan.index.add(timer, value);
        return Status::ok();
      }
      return restored.restore_key_entry(entry_key, value, room, read_index, scan, read_state);
    };
    if (read_index) {
      KAPPA_RETURN_IF_ERROR(in.scan(read_entry));
      if (!(scan.timers == scan.index)) return bad("the timer index does not match the key entries' timers");
    } else {
      // Without a budget the index is not read (it has as many entries as
      // there are timers, and a restore reads them all): only what is
      // before and after it. A restore with a budget checks it.
      const char index_tag[] = {kTimerTag, kTimerTag + 1};
      KAPPA_RETURN_IF_ERROR(in.scan({}, {&index_tag[0], 1}, read_entry));
      KAPPA_RETURN_IF_ERROR(in.scan({&index_tag[1], 1}, {}, read_entry));
    }
    if (scan.seen > 0) restored.value_bytes_ = static_cast<double>(scan.seen_bytes) / static_cast<double>(scan.seen);
    restored.charge_.set(restored.memory_, restored.estimate());
    *this = std::move(restored);
    return Status::ok();
  }

 private:
  // checkpoint()'s removals: the keys forgotten since the last one and the
  // timers that left the index.
  void write_removals(StateWriter& out) {
    std::string entry_key;
    if (map_.empty() && cold_keys_ == 0 && !forgotten_.empty()) {
      // No key left (the end of a bounded input, a window end after which
      // no key has state): the key entries and the timer index go in one
      // range removal, not one removal per key and timer, which a
      // checkpoint would hold twice while it sorts and writes them.
      const char range[] = {kKeyTag, kTimerTag + 1};
      out.remove_range({&range[0], 1}, {&range[1], 1});
    } else {
      for (const TimerPosition& timer : unindexed_) {
        set_index_key(timer, entry_key);
        out.remove(entry_key);
      }
      // A key forgotten and then added again is put by write_changes().
      for (const K& key : forgotten_) {
        if (map_.contains(key)) continue;
        set_entry_key(key, entry_key);
        out.remove(entry_key);
      }
    }
    unindexed_.clear();
  }

  // checkpoint()'s puts: the dirty entries (every entry at the first
  // checkpoint, unless restored), and their timers when the index lacks them.
  template <class WriteState>
  void write_changes(StateWriter& out, WriteState& write_state) {
    std::string entry_key;
    std::string value;
    std::string index_key;
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
      if (!slot.indexed && slot.timer != kMaxTimestamp) {
        set_index_key({slot.timer, slot.timer_sequence}, index_key);
        out.put(index_key, std::string_view(entry_key).substr(1));
        slot.indexed = true;
      }
    };
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
        // Absent: forgotten. Clean: listed twice (forgotten, then added
        // again), and written already.
        if (it != map_.end() && it->second.dirty) put(key, it->second);
      }
    }
    if (written > 0) value_bytes_ = static_cast<double>(written_bytes) / static_cast<double>(written);
  }

  // What restore() has read so far.
  struct RestoreScan {
    std::size_t seen = 0;  // key entries
    std::size_t seen_bytes = 0;
    bool has_meta = false;
    TimerDigest timers;  // the key entries' timers and the index's (with a budget only)
    TimerDigest index;
  };
  static Status bad(const char* what) { return Status::corruption(std::string("keyed state: ") + what); }

  // restore()'s key entry: loaded while the budget has room for it (an
  // estimate from the average entry so far), counted as evicted otherwise.
  template <class ReadState>
  Status restore_key_entry(std::string_view entry_key, std::string_view value, double room, bool read_index,
                           RestoreScan& scan, ReadState& read_state) {
    K key{};
    if (entry_key.empty() || entry_key.front() != kKeyTag || !parse_state_key(entry_key.substr(1), key)) {
      return bad("an entry whose key is neither the meta entry nor a key's");
    }
    if (!scan.has_meta) return bad("key entries without the meta entry");
    ++scan.seen;
    scan.seen_bytes += value.size();
    const double average = static_cast<double>(scan.seen_bytes) / static_cast<double>(scan.seen);
    const bool load = static_cast<double>(map_.size() + 1) * entry_bytes(average) <= room;
    Timestamp timer;
    uint64_t sequence;
    if (!decode_timer(value, timer, sequence)) return bad("a key entry too short for its timer");
    if (read_index && timer != kMaxTimestamp) scan.timers.add({timer, sequence}, entry_key.substr(1));
    if (load) {
      Result<State> state = read_state(std::as_const(key), value);
      if (!state.is_ok()) return state.status();
      if (timer != kMaxTimestamp) timers_.add({timer, sequence}, key);
      map_.try_emplace(std::move(key), stored_slot(std::move(state).value(), timer, sequence));
    } else {
      ++cold_keys_;
    }
    next_sequence_ = std::max(next_sequence_, sequence + 1);
    return Status::ok();
  }

  // Due timers whose evicted entries are read back together (read_back):
  // enough that a fire over most keys finds several of them in each database
  // block it reads (reading them back one at a time, bench/state_memory_bench
  // took 2.60 times the unbudgeted run, 2.16 with batches of 65536), few
  // enough that the entries read back for one batch are a small part of a
  // budget (a few MiB).
  static constexpr std::size_t kReadBackChunk = 65536;

  void set_timer(Entry& entry, Timestamp when) {
    unindex(entry.second);
    entry.second.timer = when;
    entry.second.timer_sequence = next_sequence_++;
    timers_.add({when, entry.second.timer_sequence}, entry.first);
    touch(entry);
  }

  // The slot's timer leaves the index at the next checkpoint (it is about to
  // change, fire or go with its key).
  void unindex(Slot& slot) {
    if (!slot.indexed) return;
    unindexed_.push_back({slot.timer, slot.timer_sequence});
    slot.indexed = false;
  }

  // Fires the timers in memory up to `through`, in order: see run_timers().
  template <class F>
  void fire_resident(TimerPosition through, F& due) {
    timers_.pop_through(through, [&](const K& key, TimerPosition timer) {
      auto it = map_.find(key);
      // Not in memory: forgotten, or evicted (the index has its timer).
      if (it == map_.end() || it->second.timer != timer.time || it->second.timer_sequence != timer.sequence) return;
      unindex(it->second);
      it->second.timer = kMaxTimestamp;
      touch(*it);
      due(*it);
    });
  }

  // Reads back, in timer order, the evicted entries whose timers are due at
  // `now`, up to kReadBackChunk of them; their timers join those in memory.
  // Returns how far the timers in memory are now complete: up to the last
  // one read back when the chunk filled, all those due at `now` otherwise.
  //
  // The index is read from cold_from_ on. Behind it, no evicted entry has a
  // due timer: only eviction makes new ones (and sets it back to the index's
  // start), and the index's entries for timers set later are after it.
  TimerPosition read_back_due(Timestamp now) {
    const TimerPosition all_due{now, kLastSequence};
    if (now < cold_next_) return all_due;
    TimerPosition through = all_due;
    std::vector<K> keys;
    std::string last;                  // the last index key read
    Timestamp next = kMaxTimestamp;    // the first timer after `now` in the index
    bool damaged = false;
    const char index_end = kTimerTag + 1;
    auto visit = [&](std::string_view key, std::string_view value) {
      TimerPosition timer;
      K owned{};
      if (!parse_index_key(key, timer) || !parse_state_key(value, owned)) {
        damaged = true;
        return false;
      }
      if (timer.time > now) {
        next = timer.time;
        return false;
      }
      last.assign(key);
      // Keys in memory have their timers there.
      if (map_.contains(owned) || forgotten(owned)) return true;
      keys.push_back(std::move(owned));
      if (keys.size() < kReadBackChunk) return true;
      through = timer;
      next = kMinTimestamp;  // unknown: read on from `last`
      return false;
    };
    const Status read = cold_->read_while(cold_from_, {&index_end, 1}, visit);
    check_read_back(damaged ? Status::corruption("a timer index entry is malformed") : read);
    if (!last.empty()) cold_from_ = last.append(1, '\0');
    cold_next_ = next;
    read_back(keys);
    return through;
  }

  void touch(Entry& entry) {
    if (entry.second.dirty) return;
    entry.second.dirty = true;
    entry.second.touched_in = interval_;
    if (tracking_) dirty_.push_back(entry.first);
  }

  // The key's entry, read back from the database if it was evicted;
  // map_.end() if the key has none. A key not in memory is looked up in
  // the database only while some are evicted: a new key then costs a
  // lookup that finds nothing (RocksDB's Bloom filters make it cheap).
  template <class KeyArg>
  auto find(const KeyArg& key) {
    auto it = map_.find(key);
    if (it != map_.end() || cold_keys_ == 0 || forgotten(key)) return it;
    K owned(key);
    std::string entry_key;
    set_entry_key(owned, entry_key);
    Result<std::optional<std::string>> bytes = cold_->get(entry_key);
    if (bytes.is_ok() && !bytes->has_value()) return it;
    return bring_back(std::move(owned), bytes.status(), bytes.is_ok() ? *bytes : std::nullopt);
  }

  // Whether the key was forgotten since the last checkpoint whose commit
  // is known to be done: the database may still have its entry.
  template <class KeyArg>
  bool forgotten(const KeyArg& key) const {
    return forgotten_.contains(key) || forgotten_before_.contains(key);
  }

  // Brings evicted entries back into memory, in one
  // StateReader::get_many(): a fire of many timers (a window end that many
  // keys share, the end of a bounded input) reading them back one find() at
  // a time spends most of its time in the database.
  void read_back(std::vector<K>& keys) {
    if (keys.empty()) return;
    std::vector<std::pair<std::string, K>> wanted;  // the entry key, the key
    wanted.reserve(keys.size());
    for (K& key : keys) {
      wanted.emplace_back(std::string(), std::move(key));
      set_entry_key(wanted.back().second, wanted.back().first);
    }
    std::sort(wanted.begin(), wanted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    wanted.erase(
        std::unique(wanted.begin(), wanted.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
        wanted.end());
    std::vector<std::string> entry_keys;
    entry_keys.reserve(wanted.size());
    for (auto& [entry_key, key] : wanted) entry_keys.push_back(std::move(entry_key));
    std::vector<std::optional<std::string>> values(wanted.size());
    const Status read = cold_->get_many(entry_keys, [&](std::size_t i, std::string_view value) { values[i] = value; });
    for (std::size_t i = 0; i < wanted.size(); ++i) bring_back(std::move(wanted[i].second), read, values[i]);
  }

  // Puts an evicted entry, read back as `bytes` (nullopt: not found) by a
  // read that returned `read`, back into memory, its timer too.
  typename key_table_detail::Map<K, Slot>::iterator bring_back(K key, const Status& read,
                                                               const std::optional<std::string>& bytes) {
    Result<Slot> slot = !read.is_ok() ? Result<Slot>(read)
                        : !bytes      ? Result<Slot>(Status::not_found("the entry is missing"))
                                      : decode_slot(key, *bytes, read_state_);
    check_read_back(slot.status());
    --cold_keys_;
    if (slot->timer != kMaxTimestamp) timers_.add({slot->timer, slot->timer_sequence}, key);
    auto it = map_.try_emplace(std::move(key), std::move(slot).value()).first;
    grew();
    return it;
  }

  // The entries were in the database when they were evicted: only a damaged
  // or vanished database loses them, and the state cannot go on without.
  static void check_read_back(const Status& read) {
    KAPPA_CHECK(read.is_ok(), "keyed state: an entry evicted under --state-memory cannot be read back (" +
                                  read.message() + "); restart the job to restore its last checkpoint");
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
    return stored_slot(std::move(state).value(), timer, sequence);
  }
  // The slot of an entry as the database has it.
  static Slot stored_slot(State state, Timestamp timer, uint64_t sequence) {
    Slot slot{std::move(state), timer, sequence};
    slot.indexed = timer != kMaxTimestamp;
    return slot;
  }

  // Estimated bytes of one entry in memory: its slot (the table keeps about
  // 1 slot in 8 empty), its timer's and, standing in for what the state
  // holds outside the slot, its encoded size.
  static double entry_bytes(double encoded_bytes) {
    return sizeof(Entry) * 8.0 / 7.0 + sizeof(typename TimerQueue<K>::Timer) + encoded_bytes;
  }
  int64_t estimate() const {
    return static_cast<int64_t>(static_cast<double>(map_.size()) * entry_bytes(value_bytes_));
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
    const double saved = entry_bytes(value_bytes_);  // by each eviction
    const auto share = static_cast<std::size_t>(std::ceil(excess * static_cast<double>(estimate()) / saved));
    if (share < cold.size()) {
      std::nth_element(cold.begin(), cold.begin() + static_cast<std::ptrdiff_t>(share), cold.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      cold.resize(share);
    }
    if (cold.empty()) return;
    // The evicted entries' timers leave memory too; the index has them.
    std::vector<TimerPosition> timers;
    for (const auto& [touched_in, key] : cold) {
      auto it = map_.find(*key);
      const Slot& slot = it->second;
      KAPPA_CHECK(slot.indexed || slot.timer == kMaxTimestamp,
                  "keyed state: evicting an entry whose timer is not indexed");
      if (slot.indexed) timers.push_back({slot.timer, slot.timer_sequence});
      map_.erase(it);  // erasing moves no other entry, so the other pointers stay valid
      ++cold_keys_;
    }
    map_.rehash(0);  // give the slots back
    timers_.drop(timers);
    // Entries evicted now may have timers behind where the index was read.
    cold_from_.assign(1, kTimerTag);
    cold_next_ = kMinTimestamp;
    charge_.set(memory_, estimate());
  }

  static void set_entry_key(const K& key, std::string& out) {
    out.assign(1, kKeyTag);
    append_state_key(key, out);
  }
  static void set_index_key(TimerPosition timer, std::string& out) {
    out.assign(1, kTimerTag);
    append_timer_position(timer, out);
  }
  static bool parse_index_key(std::string_view key, TimerPosition& timer) {
    return !key.empty() && key.front() == kTimerTag && parse_timer_position(key.substr(1), timer);
  }

  key_table_detail::Map<K, Slot> map_;
  TimerQueue<K> timers_;        // of the entries in memory (some stale: see the top)
  uint64_t next_sequence_ = 1;  // 0 is no timer's, so a fresh slot matches no stale bucket entry
  bool tracking_ = false;       // whether dirty_ and forgotten_ list changes (after the first checkpoint or a restore)
  std::vector<K> dirty_;        // keys that became dirty since the last checkpoint, some twice
  key_table_detail::Set<K> forgotten_;  // keys forgotten since the last checkpoint
  std::vector<TimerPosition> unindexed_;  // timers to remove from the index at the next checkpoint
  uint32_t interval_ = 1;       // checkpoint intervals so far, this one included (touched_in's clock)
  double value_bytes_ = 0;      // the average encoded entry at the last checkpoint or restore

  // With a memory budget (restored from a reader that has one):
  StateMemory* memory_ = nullptr;
  StateReader* cold_ = nullptr;                                          // where evicted entries are read back
  std::function<Result<State>(const K&, std::string_view)> read_state_;  // restore()'s, kept for them
  std::size_t cold_keys_ = 0;                                            // keys whose entry is in cold_ only
  key_table_detail::Set<K> forgotten_before_;  // forgotten_ at the last checkpoint, until its commit is known done
  std::string cold_from_ = std::string(1, kTimerTag);  // where read_back_due() reads the index from
  Timestamp cold_next_ = kMinTimestamp;  // the first timer in the index from there; kMinTimestamp: not known
  StateMemoryCharge charge_;                                             // this table's part of memory_
  uint32_t grown_since_charge_ = 0;                                      // entries come into memory since charge_.set
};

}  // namespace kappa
