#include "operators/keyed/key_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "runtime/encoding.h"
#include "tests/support/memory_state.h"

namespace kappa {
namespace {

using ::testing::ElementsAre;
using testing::MemoryState;
using ::testing::Pair;
using Table = KeyTable<std::string, int>;

void checkpoint(Table& table, MemoryState& state) {
  table.checkpoint(state.writer(0), "meta",
                   [](const std::string&, const int& value, std::string& out) { encoding::put_i64(out, value); });
}

Status restore(Table& table, MemoryState& state, std::string* meta = nullptr) {
  return table.restore(
      state.reader(0),
      [&](std::string_view bytes) {
        if (meta != nullptr) *meta = bytes;
        return Status::ok();
      },
      [](const std::string&, std::string_view bytes) -> Result<int> {
        int64_t value;
        if (!encoding::get_i64(bytes, value) || !bytes.empty()) return Status::corruption("bad value");
        return static_cast<int>(value);
      });
}

std::map<std::string, int> contents(const Table& table) {
  std::map<std::string, int> out;
  table.for_each([&](const std::string& key, const int& value) { out.emplace(key, value); });
  return out;
}

TEST(KeyTableTest, CheckpointsWriteTheTouchedKeysAndRemoveTheForgottenOnes) {
  Table table;
  for (const char* key : {"a", "b", "c", "d"}) table.find_or_add(std::string(key)).second.state = 1;
  MemoryState state;
  checkpoint(table, state);
  EXPECT_EQ(state.stage(0).take_counts().puts, 4u + 1);

  table.find_or_add(std::string("b")).second.state = 2;
  table.find_or_add(std::string("b")).second.state = 3;  // twice: written once
  table.forget("c");
  table.forget("a");
  table.find_or_add(std::string("a")).second.state = 4;  // forgotten, then added again: present
  table.schedule(table.find_or_add(std::string("e")), 10);
  checkpoint(table, state);
  const testing::WriteCounts counts = state.stage(0).take_counts();
  EXPECT_EQ(counts.puts, 3u + 1 + 1);  // a, b, e, e's timer in the timer index and the meta entry
  EXPECT_EQ(counts.removes, 1u);   // c

  Table restored;
  std::string meta;
  ASSERT_TRUE(restore(restored, state, &meta).is_ok());
  EXPECT_EQ(meta, "meta");
  EXPECT_EQ(contents(restored), contents(table));
  EXPECT_THAT(contents(restored), ElementsAre(Pair("a", 4), Pair("b", 3), Pair("d", 1), Pair("e", 0)));
  // Restored, the table writes only changes from then on.
  checkpoint(restored, state);
  EXPECT_EQ(state.stage(0).take_counts().writes(), 1u);
}

// A checkpoint finds the changed keys one by one when few changed, and in
// one pass over the table when many did: both write the same.
TEST(KeyTableTest, FewAndManyChangesAreWrittenAlike) {
  Table table;
  for (int i = 0; i < 1000; ++i) table.find_or_add("k" + std::to_string(i)).second.state = i;
  MemoryState state;
  checkpoint(table, state);
  state.stage(0).take_counts();
  for (const int changed : {10, 600}) {
    SCOPED_TRACE(std::to_string(changed) + " keys changed");
    for (int i = 100; i < 100 + changed; ++i) table.find_or_add("k" + std::to_string(i)).second.state += 1000;
    table.forget("k3");
    table.forget("k1");  // forgotten, then added again: present
    table.find_or_add(std::string("k1")).second.state = -1;
    table.forget("new");  // never there
    checkpoint(table, state);
    const testing::WriteCounts counts = state.stage(0).take_counts();
    EXPECT_EQ(counts.removes, 1u);                                      // k3
    EXPECT_EQ(counts.puts, static_cast<std::size_t>(changed) + 1 + 1);  // changed keys, k1 and the meta entry
    Table restored;
    ASSERT_TRUE(restore(restored, state).is_ok());
    EXPECT_EQ(contents(restored), contents(table));
    table.find_or_add(std::string("k3"));
    table.find_or_add(std::string("k3")).second.state = 3;
  }
}

// Under a memory budget a table evicts cold entries at checkpoints and reads
// them back when needed; whatever it does, it must behave like a table that
// keeps everything in memory. Random operations on both, compared step by step.
// Entries take about 130 bytes, evicted keys 38: 32 KiB holds about a third
// of the 500 keys, 1 KiB none (every entry that may go goes, at each
// checkpoint).
class KeyTableBudgetTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(KeyTableBudgetTest, ATableBehavesLikeOneWithout) {
  StateMemory memory(GetParam());
  const bool feasible = GetParam() >= (20 << 10);
  {
    MemoryState budget_state, plain_state;
    budget_state.stage(0).set_memory(&memory);
    budget_state.stage(0).defer_writes();  // each checkpoint lands just before the next
    Table budgeted, plain;
    ASSERT_TRUE(restore(budgeted, budget_state).is_ok());
    ASSERT_TRUE(restore(plain, plain_state).is_ok());
    std::mt19937 random(7);
    Timestamp now = 0;
    std::size_t most_evicted = 0;
    for (int step = 0; step < 20'000; ++step) {
      const std::string key = "k" + std::to_string(random() % 500);
      const unsigned op = random() % 100;
      if (op < 70) {
        Table::Entry& a = budgeted.find_or_add(key);
        Table::Entry& b = plain.find_or_add(key);
        ASSERT_EQ(a.second.state, b.second.state) << key << " at step " << step;
        const int add = static_cast<int>(random() % 100);
        a.second.state += add;
        b.second.state += add;
        if (op < 20) {
          const Timestamp when = now + static_cast<Timestamp>(random() % 50);
          budgeted.schedule(a, when);
          plain.schedule(b, when);
        }
      } else if (op < 75) {
        budgeted.forget(key);
        plain.forget(key);
      } else if (op < 95) {
        now += static_cast<Timestamp>(random() % 10);
        std::vector<std::pair<std::string, int>> fired_a, fired_b;
        budgeted.run_timers(now, [&](Table::Entry& e) { fired_a.emplace_back(e.first, e.second.state); });
        plain.run_timers(now, [&](Table::Entry& e) { fired_b.emplace_back(e.first, e.second.state); });
        ASSERT_EQ(fired_a, fired_b) << "at step " << step;
      } else {
        budget_state.stage(0).apply_pending();
        checkpoint(budgeted, budget_state);
        checkpoint(plain, plain_state);
        if (feasible) {
          ASSERT_LE(memory.used(), memory.budget()) << "at step " << step;
        }
        most_evicted = std::max(most_evicted, budgeted.size() - budgeted.resident());
      }
      ASSERT_EQ(budgeted.size(), plain.size()) << "at step " << step;
    }
    EXPECT_GT(most_evicted, 150u) << "the budget never made the table evict";
    EXPECT_GT(budget_state.stage(0).gets + budget_state.stage(0).got_many, 100u)
        << "evicted entries were never read back";

    // What the budgeted table checkpointed restores to the plain table's contents.
    budget_state.stage(0).apply_pending();
    checkpoint(budgeted, budget_state);
    budget_state.stage(0).apply_pending();
    checkpoint(plain, plain_state);
    budget_state.stage(0).set_memory(nullptr);  // restored without a budget: contents() sees every key
    Table from_budgeted, from_plain;
    ASSERT_TRUE(restore(from_budgeted, budget_state).is_ok());
    ASSERT_TRUE(restore(from_plain, plain_state).is_ok());
    EXPECT_EQ(contents(from_budgeted), contents(from_plain));
  }
  EXPECT_EQ(memory.used(), 0) << "a table gone still counts against the budget";
}

INSTANTIATE_TEST_SUITE_P(Budgets, KeyTableBudgetTest, ::testing::Values(32 << 10, 1 << 10));

TEST(KeyTableTest, ARestoreUnderAMemoryBudgetLoadsOnlyWhatFits) {
  MemoryState state;
  Table full;
  for (int i = 0; i < 1000; ++i) full.schedule(full.find_or_add("k" + std::to_string(i)), i);
  for (int i = 0; i < 1000; ++i) full.find_or_add("k" + std::to_string(i)).second.state = i;
  checkpoint(full, state);

  // About 130 bytes an entry (slot, timer and encoded state), 38 an evicted
  // key: room for about 300 entries.
  StateMemory memory(64 << 10);
  state.stage(0).set_memory(&memory);
  Table restored;
  ASSERT_TRUE(restore(restored, state).is_ok());
  EXPECT_EQ(restored.size(), 1000u);
  EXPECT_GT(restored.resident(), 250u);
  EXPECT_LT(restored.resident(), 800u);
  // The keys evicted after the room ran out take the estimate somewhat over
  // the budget; the first checkpoint brings it back.
  checkpoint(restored, state);
  EXPECT_LE(memory.used(), memory.budget());
  EXPECT_GT(restored.resident(), 250u);
  // Every timer fires, in order, with its entry's state read back as needed.
  std::vector<int> fired;
  restored.run_timers(2000, [&](Table::Entry& e) { fired.push_back(e.second.state); });
  ASSERT_EQ(fired.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(fired[static_cast<std::size_t>(i)], i);
}

// A window end many keys share fires their timers together: their evicted
// entries come back in a few batched reads, not one read each.
TEST(KeyTableTest, TimersDueTogetherReadTheirEvictedEntriesBackInBatches) {
  constexpr int kKeys = 100'000;  // more than one batch
  MemoryState state;
  Table full;
  for (int i = 0; i < kKeys; ++i) {
    Table::Entry& entry = full.find_or_add("k" + std::to_string(i));
    entry.second.state = i;
    full.schedule(entry, 1000);
  }
  checkpoint(full, state);

  StateMemory memory(64 << 10);
  state.stage(0).set_memory(&memory);
  Table restored;
  ASSERT_TRUE(restore(restored, state).is_ok());
  const std::size_t evicted = restored.size() - restored.resident();
  ASSERT_GT(evicted, kKeys / 2);
  std::vector<int> fired;
  restored.run_timers(1000, [&](Table::Entry& e) {
    fired.push_back(e.second.state);
    restored.forget(e.first);
  });
  // In the order the timers were set, each with its own state.
  ASSERT_EQ(fired.size(), static_cast<std::size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) ASSERT_EQ(fired[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(state.stage(0).gets, 0u);
  EXPECT_EQ(state.stage(0).got_many, evicted);
  EXPECT_LE(state.stage(0).get_many_calls, 2u);
  EXPECT_EQ(restored.size(), 0u);
}

// A table left with no key at a checkpoint (all fired and forgotten, as at
// the end of a bounded input) removes its keys and timers in one change.
TEST(KeyTableTest, ATableLeftWithNoKeyRemovesItsEntriesInOneChange) {
  MemoryState state;
  Table table;
  for (int i = 0; i < 100; ++i) table.schedule(table.find_or_add("k" + std::to_string(i)), i);
  checkpoint(table, state);
  ASSERT_EQ(state.stage(0).entries.size(), 1u + 100 + 100);
  state.stage(0).take_counts();

  table.run_timers(49, [&](Table::Entry& e) { table.forget(e.first); });
  checkpoint(table, state);
  testing::WriteCounts counts = state.stage(0).take_counts();
  EXPECT_EQ(counts.removes, 50u + 50) << "keys are left: one removal per key and timer";
  table.run_timers(99, [&](Table::Entry& e) { table.forget(e.first); });
  table.schedule(table.find_or_add(std::string("new")), 200);
  table.forget("new");  // added and forgotten in the same interval
  checkpoint(table, state);
  counts = state.stage(0).take_counts();
  EXPECT_EQ(counts.removes, 1u);
  EXPECT_EQ(counts.puts, 1u);  // the meta entry
  EXPECT_THAT(state.stage(0).entries, ElementsAre(Pair(std::string(Table::kMetaKey), "meta")));
  checkpoint(table, state);
  EXPECT_EQ(state.stage(0).take_counts().removes, 0u) << "an empty table removes nothing more";

  Table restored;
  ASSERT_TRUE(restore(restored, state).is_ok());
  EXPECT_EQ(restored.size(), 0u);
}

// The timer index (namespace entries tagged kTimerTag) as of the last
// checkpoint: (time, key) in firing order.
std::vector<std::pair<Timestamp, std::string>> timer_index(MemoryState& state) {
  std::vector<std::pair<Timestamp, std::string>> index;
  for (const auto& [key, value] : state.stage(0).entries) {
    if (key.front() != Table::kTimerTag) continue;
    int64_t time;
    EXPECT_TRUE(parse_state_key(std::string_view(key).substr(1, 8), time)) << "a malformed index key";
    index.emplace_back(time, value);
  }
  return index;
}

TEST(KeyTableTest, TheTimerIndexHoldsTheTimersAsOfTheLastCheckpoint) {
  MemoryState state;
  Table table;
  for (const char* key : {"a", "b", "c", "d"}) table.schedule(table.find_or_add(std::string(key)), 100);
  table.schedule(table.find_or_add(std::string("e")), 50);
  table.find_or_add(std::string("f"));  // no timer
  checkpoint(table, state);
  EXPECT_THAT(timer_index(state), ElementsAre(Pair(50, "e"), Pair(100, "a"), Pair(100, "b"), Pair(100, "c"),
                                              Pair(100, "d")));

  table.schedule(table.find_or_add(std::string("c")), 20);  // earlier: after the others at 20
  table.schedule(table.find_or_add(std::string("b")), 20);
  table.schedule(table.find_or_add(std::string("d")), 200);  // later: no change
  table.forget("a");
  table.schedule(table.find_or_add(std::string("a")), 300);  // forgotten, then back with a new timer
  checkpoint(table, state);
  EXPECT_THAT(timer_index(state), ElementsAre(Pair(20, "c"), Pair(20, "b"), Pair(50, "e"), Pair(100, "d"),
                                              Pair(300, "a")));

  // Fired timers leave the index; one set again joins it.
  table.run_timers(60, [&](Table::Entry& e) {
    if (e.first == "b") table.schedule(e, 400);
    if (e.first == "e") table.forget(e.first);
  });
  checkpoint(table, state);
  EXPECT_THAT(timer_index(state), ElementsAre(Pair(100, "d"), Pair(300, "a"), Pair(400, "b")));

  // A restored table fires what the index says, in its order.
  Table restored;
  ASSERT_TRUE(restore(restored, state).is_ok());
  std::vector<std::string> fired;
  restored.run_timers(1000, [&](Table::Entry& e) { fired.push_back(e.first); });
  EXPECT_THAT(fired, ElementsAre("d", "a", "b"));
}

// Under a budget an evicted entry's timer is in the index only; the entry
// comes back when the timer is due, in its place among the timers of the
// entries still in memory.
TEST(KeyTableTest, EvictedEntriesTimersLeaveMemoryAndFireInTheirPlace) {
  MemoryState state;
  StateMemory memory(16 << 10);
  state.stage(0).set_memory(&memory);
  state.stage(0).defer_writes();
  Table budgeted, plain;
  ASSERT_TRUE(restore(budgeted, state).is_ok());
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "k" + std::to_string(i);
    const Timestamp when = 100 + (i * 7919) % 50;  // 50 times, each shared by 20 keys set out of key order
    budgeted.schedule(budgeted.find_or_add(key), when);
    plain.schedule(plain.find_or_add(key), when);
  }
  checkpoint(budgeted, state);
  state.stage(0).apply_pending();
  budgeted.shed_memory();
  ASSERT_LT(budgeted.resident(), 300u);
  EXPECT_LT(budgeted.timers_in_memory(), 300u) << "evicted entries' timers stayed in memory";

  // Some keys come back through a record, and move their timers.
  for (int i = 0; i < 1000; i += 97) {
    const std::string key = "k" + std::to_string(i);
    budgeted.schedule(budgeted.find_or_add(key), 90 + i % 30);
    plain.schedule(plain.find_or_add(key), 90 + i % 30);
  }
  for (const Timestamp now : {95, 110, 125, 125, 160}) {
    std::vector<std::string> fired_budgeted, fired_plain;
    budgeted.run_timers(now, [&](Table::Entry& e) { fired_budgeted.push_back(e.first); });
    plain.run_timers(now, [&](Table::Entry& e) { fired_plain.push_back(e.first); });
    ASSERT_EQ(fired_budgeted, fired_plain) << "at " << now;
  }
  EXPECT_EQ(budgeted.timers_in_memory(), 0u);
}

// New keys are all touched in the interval before the checkpoint that writes
// them, so that checkpoint cannot evict them; once it is committed,
// shed_memory() can.
TEST(KeyTableTest, ShedMemoryEvictsWhatTheCommittedCheckpointWrote) {
  MemoryState state;
  StateMemory memory(64 << 10);  // about 90 bytes an entry, 38 an evicted key
  state.stage(0).set_memory(&memory);
  state.stage(0).defer_writes();
  Table table;
  ASSERT_TRUE(restore(table, state).is_ok());
  for (int i = 0; i < 1000; ++i) table.find_or_add("k" + std::to_string(i)).second.state = i;
  checkpoint(table, state);
  EXPECT_EQ(table.resident(), 1000u) << "evicted before its bytes were committed";
  EXPECT_GT(memory.used(), memory.budget());

  state.stage(0).apply_pending();  // the commit
  table.shed_memory();
  EXPECT_LE(memory.used(), memory.budget());
  EXPECT_LT(table.resident(), 600u);
  EXPECT_EQ(table.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(table.find_or_add("k" + std::to_string(i)).second.state, i);
}

// grown() (the job runner's cue for an early checkpoint) counts from what the
// last eviction could not free, not from the budget alone.
TEST(StateMemoryTest, GrownCountsFromWhatTheLastEvictionLeft) {
  StateMemory memory(1000);
  EXPECT_FALSE(memory.grown()) << "no state";
  memory.add(10);
  EXPECT_TRUE(memory.grown()) << "state no eviction has measured yet: the estimate knows its slots only";
  memory.settled();
  EXPECT_FALSE(memory.grown());
  memory.add(1190);
  EXPECT_FALSE(memory.grown()) << "over, but by less than a quarter of the budget";
  memory.add(100);
  EXPECT_TRUE(memory.grown());
  memory.settled();  // an eviction left 1300 bytes it could not free
  EXPECT_FALSE(memory.grown());
  memory.add(250);
  EXPECT_FALSE(memory.grown());
  memory.add(1);
  EXPECT_TRUE(memory.grown());
  memory.add(-1551 + 500);
  memory.settled();
  memory.add(751);
  EXPECT_TRUE(memory.grown()) << "under the budget, the budget is the floor";
}

// An evicted entry leaves nothing in memory, its key and timer included: a
// budget smaller than the keys' slots alone still holds, and every key is
// still found, by a record or by its timer.
TEST(KeyTableTest, EvictedEntriesLeaveNothingInMemory) {
  MemoryState state;
  StateMemory memory(8 << 10);  // less than 1000 keys' slots alone
  state.stage(0).set_memory(&memory);
  Table table;
  ASSERT_TRUE(restore(table, state).is_ok());
  for (int i = 0; i < 1000; ++i) {
    Table::Entry& entry = table.find_or_add("k" + std::to_string(i));
    entry.second.state = i;
    table.schedule(entry, 100 + i);
  }
  checkpoint(table, state);
  checkpoint(table, state);
  EXPECT_LT(table.resident(), 100u);
  EXPECT_EQ(table.timers_in_memory(), table.resident());
  EXPECT_EQ(table.size(), 1000u);
  EXPECT_LE(memory.used(), memory.budget());
  EXPECT_FALSE(memory.grown()) << "nothing to evict";
  for (int i = 1000; i < 3000; ++i) table.find_or_add("k" + std::to_string(i)).second.state = i;
  EXPECT_TRUE(memory.grown()) << "new entries that an eviction could free";
  EXPECT_EQ(table.size(), 3000u);

  std::map<std::string, int> resident = contents(table);
  int evicted = 0;
  while (resident.contains("k" + std::to_string(evicted))) ++evicted;
  const std::size_t gets = state.stage(0).gets;
  EXPECT_EQ(table.find_or_add("k" + std::to_string(evicted)).second.state, evicted);
  EXPECT_EQ(state.stage(0).gets, gets + 1);
  std::vector<std::pair<std::string, int>> fired;
  table.run_timers(100 + 999, [&](Table::Entry& e) { fired.emplace_back(e.first, e.second.state); });
  ASSERT_EQ(fired.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(fired[static_cast<std::size_t>(i)], std::make_pair("k" + std::to_string(i), i));
  }
  EXPECT_EQ(table.size(), 3000u);
}

TEST(KeyTableTest, UnderABudgetTheEstimateFollowsNewKeysBetweenCheckpoints) {
  MemoryState state;
  StateMemory memory(1 << 20);
  state.stage(0).set_memory(&memory);
  Table table;
  ASSERT_TRUE(restore(table, state).is_ok());
  const int64_t empty = memory.used();
  for (int i = 0; i < 10'000; ++i) table.find_or_add("k" + std::to_string(i)).second.state = i;
  // No checkpoint yet: the estimate grew with the keys all the same.
  EXPECT_GT(memory.used(), empty + 9'000 * static_cast<int64_t>(sizeof(Table::Entry)));
}

TEST(KeyTableTest, ARestoredTableFiresTimersInTheOrderTheyWereSet) {
  Table table;
  // "x" is set for 20, moved to 10, fires, and is set for 20 again: behind
  // "y" and "z", though its first, stale, entry at 20 is ahead of them.
  table.schedule(table.find_or_add(std::string("x")), 20);
  table.schedule(table.find_or_add(std::string("x")), 10);
  table.schedule(table.find_or_add(std::string("z")), 20);
  table.schedule(table.find_or_add(std::string("y")), 20);
  std::vector<std::string> fired;
  table.run_timers(10, [&](Table::Entry& entry) {
    fired.push_back(entry.first);
    table.schedule(entry, 20);
  });
  table.schedule(table.find_or_add(std::string("w")), 20);
  MemoryState state;
  checkpoint(table, state);
  Table restored;
  ASSERT_TRUE(restore(restored, state).is_ok());

  auto record = [&](std::vector<std::string>& out) { return [&](Table::Entry& entry) { out.push_back(entry.first); }; };
  std::vector<std::string> original_order, restored_order;
  table.run_timers(20, record(original_order));
  restored.run_timers(20, record(restored_order));
  EXPECT_THAT(fired, ElementsAre("x"));
  EXPECT_THAT(original_order, ElementsAre("z", "y", "x", "w"));
  EXPECT_EQ(restored_order, original_order);
}

// Under --on-error skip, user code that throws while a window fires skips
// one record; the keys due after the one it threw for must still fire.
TEST(KeyTableTest, ATimerThatThrowsLeavesTheTimersAfterItToTheNextRun) {
  Table table;
  for (const char* key : {"x", "y", "z"}) table.schedule(table.find_or_add(std::string(key)), 10);
  table.schedule(table.find_or_add(std::string("later")), 20);
  std::vector<std::string> fired;
  auto fire = [&](Table::Entry& entry) {
    fired.push_back(entry.first);
    if (entry.first == "y") throw std::runtime_error("user code");
  };
  EXPECT_THROW(table.run_timers(15, fire), std::runtime_error);
  EXPECT_THAT(fired, ElementsAre("x", "y"));
  table.run_timers(15, fire);
  EXPECT_THAT(fired, ElementsAre("x", "y", "z"));
  table.run_timers(20, fire);
  EXPECT_THAT(fired, ElementsAre("x", "y", "z", "later"));
}

TEST(KeyTableTest, IntegerKeysAreWrittenInTheirOrder) {
  KeyTable<int64_t, int> table;
  for (int64_t key : std::vector<int64_t>{3, -5, 0, INT64_MIN, -1, INT64_MAX}) table.find_or_add(key);
  MemoryState state;
  table.checkpoint(state.writer(0), "", [](const int64_t&, const int&, std::string&) {});
  std::vector<int64_t> keys;
  for (const auto& [entry_key, value] : state.stage(0).entries) {
    if (entry_key == Table::kMetaKey) continue;
    int64_t key;
    ASSERT_TRUE(parse_state_key(std::string_view(entry_key).substr(1), key));
    keys.push_back(key);
  }
  EXPECT_THAT(keys, ElementsAre(INT64_MIN, -5, -1, 0, 3, INT64_MAX));
}

TEST(KeyTableTest, RestoreRejectsEntriesItDidNotWrite) {
  Table table;
  table.find_or_add(std::string("a")).second.state = 7;
  table.schedule(table.find_or_add(std::string("b")), 10);
  MemoryState good;
  checkpoint(table, good);

  MemoryState empty;
  Table from_empty;
  EXPECT_TRUE(restore(from_empty, empty).is_ok());
  EXPECT_EQ(from_empty.size(), 0u);

  StateMemory ample(int64_t{1} << 40);
  auto rejected = [&](auto spoil, StateMemory* budget = nullptr) {
    MemoryState spoilt = good;
    spoil(spoilt.stage(0).entries);
    spoilt.stage(0).set_memory(budget);
    Table target;
    target.find_or_add(std::string("kept"));
    const bool failed = !restore(target, spoilt).is_ok();
    return failed && target.size() == 1;  // and left as it was
  };
  const std::string index_entry = good.stage(0).entries.rbegin()->first;
  ASSERT_EQ(index_entry.front(), Table::kTimerTag);
  EXPECT_TRUE(rejected([](auto& entries) { entries.erase(std::string(Table::kMetaKey)); }));
  EXPECT_TRUE(rejected([](auto& entries) { entries["\x03z"] = "x"; }));
  EXPECT_TRUE(rejected([](auto& entries) { entries[std::string(1, Table::kKeyTag) + "c"] = "short"; }));
  // The value's own check.
  EXPECT_TRUE(rejected([](auto& entries) { entries[std::string(1, Table::kKeyTag) + "a"] += "!"; }));
  // The timer index is read, and checked against the key entries, under a
  // memory budget only (without one it is not used).
  auto index_spoilt = [&](auto spoil) { return rejected(spoil, &ample) && !rejected(spoil); };
  EXPECT_TRUE(index_spoilt([](auto& entries) { entries["\x02z"] = "x"; }));
  EXPECT_TRUE(index_spoilt([&](auto& entries) { entries.erase(index_entry); }));
  EXPECT_TRUE(index_spoilt([&](auto& entries) { entries[index_entry] = "a"; }));  // another key's
  EXPECT_TRUE(index_spoilt([&](auto& entries) {
    std::string later = index_entry;
    ++later.back();  // another sequence
    entries[later] = entries[index_entry];
    entries.erase(index_entry);
  }));
}

}  // namespace
}  // namespace kappa
