#include "state/checkpoint_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "state/manifest.h"
#include "tests/state/checkpoint_steps.h"
#include "tests/state/state_test_util.h"

namespace kappa::state_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

const PartitionId kA{"orders", 0};
const PartitionId kB{"orders", 1};

TEST(CheckpointStoreTest, AnEmptyDirectoryOpensAsAnEmptyStore) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir / "state");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint_id(), 0u);
  EXPECT_EQ(store->offset(kA), std::nullopt);
  EXPECT_EQ(store->watermark(kA), std::nullopt);
  EXPECT_TRUE(store->positions().empty());
  EXPECT_TRUE(read_contents(*store, {kA}, {0, 1}).empty());
  EXPECT_EQ(read_bytes(dir / "state/KAPPA_STATE"),
            "kappa-state\nformat " + std::to_string(kStateFormatVersion) + "\njob job\n");
}

TEST(CheckpointStoreTest, EntriesPositionsAndWatermarksSurviveAReopen) {
  TempDir dir;
  {
    std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
    ASSERT_NE(store, nullptr);
    store->task(kA).writer(0).put("zebra", "1");
    store->task(kA).writer(0).put("apple", "2");
    store->task(kA).writer(3).put("window-7", std::string("bytes\0\xff", 7));
    store->task(kB).writer(0).put("mango", "3");
    store->task(kB).writer(3).put("", "empty key");
    Result<CheckpointInfo> info = store->commit({{kA, 42}, {kB, 7}}, {{kA, 1'700'000'000'000}, {kB, -5}});
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    EXPECT_EQ(info->id, 1u);
    EXPECT_EQ(store->checkpoint_id(), 1u);
  }
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint_id(), 1u);
  const Contents expected = {
      {{kA, 0}, {{"apple", "2"}, {"zebra", "1"}}},
      {{kA, 3}, {{"window-7", std::string("bytes\0\xff", 7)}}},
      {{kB, 0}, {{"mango", "3"}}},
      {{kB, 3}, {{"", "empty key"}}},
  };
  EXPECT_EQ(read_contents(*store, {kA, kB}, {0, 1, 3}), expected);
  EXPECT_EQ(store->offset(kA), 42);
  EXPECT_EQ(store->offset(kB), 7);
  EXPECT_EQ(store->watermark(kA), 1'700'000'000'000);
  EXPECT_EQ(store->watermark(kB), -5);
  EXPECT_EQ(store->offset({"orders", 2}), std::nullopt);
}

TEST(CheckpointStoreTest, ALaterCommitChangesOnlyWhatWasWritten) {
  TempDir dir;
  {
    std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
    for (const char* key : {"a", "b", "c"}) store->task(kA).writer(0).put(key, std::string("v1-") + key);
    store->task(kB).writer(0).put("b", "other task");
    ASSERT_TRUE(store->commit({{kA, 10}, {kB, 20}}, {}).is_ok());
  }
  {
    std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
    store->task(kA).writer(0).remove("b");
    store->task(kA).writer(0).remove("never-there");
    store->task(kA).writer(0).put("a", "v2-a");
    store->task(kA).writer(0).put("d", "v2-d");
    ASSERT_TRUE(store->commit({{kA, 11}}, {}).is_ok());
  }
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  const Contents expected = {
      {{kA, 0}, {{"a", "v2-a"}, {"c", "v1-c"}, {"d", "v2-d"}}},
      {{kB, 0}, {{"b", "other task"}}},
  };
  EXPECT_EQ(read_contents(*store, {kA, kB}, {0}), expected);
  EXPECT_EQ(store->offset(kA), 11);
  EXPECT_EQ(store->offset(kB), 20);
}

TEST(CheckpointStoreTest, ChangesInAnyOrderApplyAsWrittenPerKey) {
  TempDir dir;
  {
    std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
    for (const char* key : {"z", "m", "a", "q"}) store->task(kA).writer(0).put(key, std::string("v1-") + key);
    ASSERT_TRUE(store->commit({{kA, 1}}, {}).is_ok());
  }
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  // The commit sorts the changes by key; those to one key keep their order.
  StateWriter& writer = store->task(kA).writer(0);
  writer.put("q", "v2-q");
  writer.remove("z");
  writer.put("z", "v2-z");  // removed, then written again: present
  writer.put("m", "v2-m");
  writer.remove("m");  // written, then removed: absent
  writer.put("b", "v2-b");
  writer.remove("a");
  ASSERT_TRUE(store->commit({{kA, 2}}, {}).is_ok());
  const Contents expected = {{{kA, 0}, {{"b", "v2-b"}, {"q", "v2-q"}, {"z", "v2-z"}}}};
  EXPECT_EQ(read_contents(*store, {kA}, {0}), expected);
}

TEST(CheckpointStoreTest, WritesNotCommittedAreGoneAfterAReopen) {
  TempDir dir;
  {
    std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
    store->task(kA).writer(0).put("kept", "1");
    ASSERT_TRUE(store->commit({{kA, 1}}, {}).is_ok());
    store->task(kA).writer(0).put("lost", "2");
    store->task(kA).writer(0).remove("kept");
    store->task(kB).writer(1).put("lost too", "3");
  }
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  const Contents expected = {{{kA, 0}, {{"kept", "1"}}}};
  EXPECT_EQ(read_contents(*store, {kA, kB}, {0, 1}), expected);
  EXPECT_EQ(store->offset(kA), 1);
}

TEST(CheckpointStoreTest, ReadersSeeCommittedStateOnly) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  store->task(kA).writer(0).put("k", "v");
  EXPECT_TRUE(read_contents(*store, {kA}, {0}).empty());
  ASSERT_TRUE(store->commit({}, {}).is_ok());
  const Contents expected = {{{kA, 0}, {{"k", "v"}}}};
  EXPECT_EQ(read_contents(*store, {kA}, {0}), expected);
}

// get_many() reads what get() would, key by key: the task's own committed
// entries, nothing for a key without one or a stage never written.
TEST(CheckpointStoreTest, GetManyReadsWhatGetReads) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  store->task(kA).writer(0).put("a", "1");
  store->task(kA).writer(0).put("c", "3");
  store->task(kB).writer(0).put("b", "other task's");
  ASSERT_TRUE(store->commit({}, {}).is_ok());
  store->task(kA).writer(0).put("b", "not committed");

  const std::vector<std::string> keys = {"a", "b", "c", "d"};
  std::map<std::size_t, std::string> found;
  auto collect = [&](std::size_t i, std::string_view value) { found.emplace(i, value); };
  Status read = store->task(kA).reader(0).get_many(keys, collect);
  ASSERT_TRUE(read.is_ok()) << read.to_string();
  EXPECT_EQ(found, (std::map<std::size_t, std::string>{{0, "1"}, {2, "3"}}));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    Result<std::optional<std::string>> one = store->task(kA).reader(0).get(keys[i]);
    ASSERT_TRUE(one.is_ok());
    EXPECT_EQ(one->has_value(), found.contains(i)) << keys[i];
  }

  found.clear();
  read = store->task(kA).reader(1).get_many(keys, collect);
  ASSERT_TRUE(read.is_ok()) << read.to_string();
  EXPECT_TRUE(found.empty());
}

// Ranges, as keyed tables read their due timers: the task's own committed
// entries from `from` up to `to` (both scan() and read_while()), and
// read_while() stops when its callback says so.
TEST(CheckpointStoreTest, RangeScansReadTheTasksCommittedEntriesInTheRange) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  for (const char* key : {"a", "b1", "b2", "b3", "c"}) store->task(kA).writer(0).put(key, key);
  store->task(kB).writer(0).put("b0", "other task's");
  ASSERT_TRUE(store->commit({}, {}).is_ok());
  store->task(kA).writer(0).put("b4", "not committed");

  StateReader& reader = store->task(kA).reader(0);
  std::vector<std::string> seen;
  auto collect = [&](std::string_view key, std::string_view value) {
    EXPECT_EQ(key, value);
    seen.emplace_back(key);
    return true;
  };
  ASSERT_TRUE(reader.read_while("b", "c", collect).is_ok());
  EXPECT_THAT(seen, ElementsAre("b1", "b2", "b3"));
  seen.clear();
  ASSERT_TRUE(reader.read_while("b2", "z", [&](std::string_view key, std::string_view value) {
                      collect(key, value);
                      return seen.size() < 2;
                    })
                  .is_ok());
  EXPECT_THAT(seen, ElementsAre("b2", "b3"));
  seen.clear();
  ASSERT_TRUE(reader
                  .scan("b", "c",
                        [&](std::string_view key, std::string_view value) {
                          collect(key, value);
                          return Status::ok();
                        })
                  .is_ok());
  EXPECT_THAT(seen, ElementsAre("b1", "b2", "b3"));
  seen.clear();
  ASSERT_TRUE(store->task(kA).reader(1).read_while("", "z", collect).is_ok());
  EXPECT_TRUE(seen.empty()) << "a stage never written";
}

// A range removal takes what the previous checkpoint left in the range,
// before the other changes of its checkpoint, whatever the order they were
// written in; in the task's own range only.
TEST(CheckpointStoreTest, ARangeRemovalAppliesBeforeTheCheckpointsOtherChanges) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  for (const char* key : {"a", "b1", "b2", "c"}) store->task(kA).writer(0).put(key, "old");
  store->task(kB).writer(0).put("b1", "other task's");
  ASSERT_TRUE(store->commit({}, {}).is_ok());
  store->task(kA).writer(0).put("b3", "new");
  store->task(kA).writer(0).remove_range("b", "c");
  store->task(kA).writer(0).put("b4", "new");
  ASSERT_TRUE(store->commit({}, {}).is_ok());

  std::vector<std::pair<std::string, std::string>> seen;
  ASSERT_TRUE(store->task(kA)
                  .reader(0)
                  .scan([&](std::string_view key, std::string_view value) {
                    seen.emplace_back(key, value);
                    return Status::ok();
                  })
                  .is_ok());
  EXPECT_THAT(seen, ElementsAre(Pair("a", "old"), Pair("b3", "new"), Pair("b4", "new"), Pair("c", "old")));
  Result<std::optional<std::string>> other = store->task(kB).reader(0).get("b1");
  ASSERT_TRUE(other.is_ok());
  EXPECT_EQ(other->value_or(""), "other task's");
}

// Scans read ahead on another thread, in chunks of a few thousand entries:
// enough entries for many chunks come back complete and in order, and a scan
// stops at the first error its callback returns.
TEST(CheckpointStoreTest, LargeScansComeBackInOrderAndStopAtAnError) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  constexpr int kEntries = 50'000;
  const std::string value(40, 'v');
  for (int i = 0; i < kEntries; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%08d", i);
    store->task(kA).writer(0).put(key, value + std::to_string(i));
  }
  ASSERT_TRUE(store->commit({{kA, 1}}, {}).is_ok());

  int seen = 0;
  Status scanned = store->task(kA).reader(0).scan([&](std::string_view key, std::string_view v) {
    char expected[16];
    std::snprintf(expected, sizeof expected, "k%08d", seen);
    EXPECT_EQ(key, expected);
    EXPECT_EQ(v, value + std::to_string(seen));
    ++seen;
    return Status::ok();
  });
  ASSERT_TRUE(scanned.is_ok()) << scanned.to_string();
  EXPECT_EQ(seen, kEntries);

  int calls = 0;
  scanned = store->task(kA).reader(0).scan([&](std::string_view, std::string_view) {
    return ++calls == 10'000 ? Status::corruption("entry 10000 is bad") : Status::ok();
  });
  EXPECT_EQ(scanned.code(), StatusCode::kCorruption);
  EXPECT_EQ(scanned.message(), "entry 10000 is bad");
  EXPECT_EQ(calls, 10'000);
}

TEST(CheckpointStoreTest, APartitionLeftOutKeepsItsPreviousOffsetAndWatermark) {
  TempDir dir;
  {
    std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
    ASSERT_TRUE(store->commit({{kA, 5}, {kB, 6}}, {{kA, 50}, {kB, 60}}).is_ok());
    ASSERT_TRUE(store->commit({{kA, 7}}, {{kB, 61}}).is_ok());
  }
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  EXPECT_EQ(store->checkpoint_id(), 2u);
  EXPECT_EQ(store->offset(kA), 7);
  EXPECT_EQ(store->offset(kB), 6);
  EXPECT_EQ(store->watermark(kA), 50);
  EXPECT_EQ(store->watermark(kB), 61);
}

TEST(CheckpointStoreTest, EveryStepMatchesTheModelAcrossReopens) {
  TempDir dir;
  for (int step = 1; step <= 6; ++step) {
    std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->checkpoint_id(), static_cast<uint64_t>(step - 1));
    expect_step(*store, step - 1);
    ASSERT_TRUE(commit_step(*store, step).is_ok());
    expect_step(*store, step);  // the same store, without a reopen
  }
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  expect_step(*store, 6);
}

TEST(CheckpointStoreTest, SeveralCommitsWithoutReopenMatchTheModel) {
  TempDir dir;
  {
    std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
    for (int step = 1; step <= 4; ++step) ASSERT_TRUE(commit_step(*store, step).is_ok());
  }
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  EXPECT_EQ(store->checkpoint_id(), 4u);
  expect_step(*store, 4);
}

TEST(CheckpointStoreTest, KeepsOnlyTheNewestTwoCheckpoints) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  for (int step = 1; step <= 5; ++step) ASSERT_TRUE(commit_step(*store, step).is_ok());
  EXPECT_EQ(checkpoint_dirs(dir.path()), (std::vector<std::string>{"chk-0000000004", "chk-0000000005"}));
}

TEST(CheckpointStoreTest, KeepsAsManyCheckpointsAsAsked) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path(), "job", StoreOptions{.keep_checkpoints = 3});
  for (int step = 1; step <= 5; ++step) ASSERT_TRUE(commit_step(*store, step).is_ok());
  EXPECT_EQ(checkpoint_dirs(dir.path()),
            (std::vector<std::string>{"chk-0000000003", "chk-0000000004", "chk-0000000005"}));
}

TEST(CheckpointStoreTest, KeepingFewerThanTwoCheckpointsIsRefused) {
  TempDir dir;
  Result<std::unique_ptr<CheckpointStore>> store =
      CheckpointStore::open(dir.path(), "job", StoreOptions{.keep_checkpoints = 1});
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("at least 2"));
}

TEST(CheckpointStoreTest, CheckpointSizeIsTheSumOfItsFiles) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  for (int step = 1; step <= 3; ++step) {
    Result<CheckpointInfo> info = commit_step(*store, step);
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    const std::string chk = dir / ("chk-000000000" + std::to_string(step));
    uint64_t sum = 0;
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(chk)) {
      sum += entry.file_size();
      ++files;
    }
    EXPECT_GT(info->size_bytes, 0u);
    EXPECT_EQ(info->size_bytes, sum);
    EXPECT_EQ(info->files, files);
    EXPECT_EQ(info->state_changes, step_changes(step).size());
    EXPECT_GE(info->total, info->write_batch + info->checkpoint_files + info->manifest + info->prune);
  }
}

TEST(CheckpointStoreTest, TasksOnDifferentThreadsWriteAtTheSameCheckpoint) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  constexpr int kTasks = 4;
  constexpr int kKeys = 2000;
  std::vector<TaskState*> tasks;
  for (int t = 0; t < kTasks; ++t) tasks.push_back(&store->task({"topic", t}));
  std::vector<std::thread> threads;
  for (int t = 0; t < kTasks; ++t) {
    threads.emplace_back([&, t] {
      // Every thread also creates column families: stages 1 + t and 9.
      for (int k = 0; k < kKeys; ++k) {
        tasks[t]->writer(9).put("key" + std::to_string(k), std::to_string(t * kKeys + k));
        if (k % 100 == 0) tasks[t]->writer(1 + t).put("k", "v");
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  Result<CheckpointInfo> info = store->commit({}, {});
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  EXPECT_EQ(info->state_changes, static_cast<std::size_t>(kTasks * (kKeys + kKeys / 100)));
  store.reset();
  store = open_ok(dir.path());
  for (int t = 0; t < kTasks; ++t) {
    const Contents contents = read_contents(*store, {{"topic", t}}, {9});
    ASSERT_EQ(contents.size(), 1u);
    const Entries& entries = contents.begin()->second;
    EXPECT_EQ(entries.size(), static_cast<std::size_t>(kKeys));
    EXPECT_EQ(entries.at("key7"), std::to_string(t * kKeys + 7));
    EXPECT_EQ(read_contents(*store, {{"topic", t}}, {1, 2, 3, 4}).size(), 1u);
  }
}

TEST(CheckpointStoreTest, DroppingATaskKeepsItsState) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  store->task(kA).writer(0).put("committed", "1");
  ASSERT_TRUE(store->commit({{kA, 1}}, {}).is_ok());
  store->task(kA).writer(0).put("pending", "2");
  EXPECT_TRUE(store->drop_task(kA).is_ok());
  EXPECT_TRUE(store->drop_task({"never", 0}).is_ok());
  ASSERT_TRUE(store->commit({}, {}).is_ok());
  const Contents expected = {{{kA, 0}, {{"committed", "1"}, {"pending", "2"}}}};
  EXPECT_EQ(read_contents(*store, {kA}, {0}), expected);
}

TEST(CheckpointStoreTest, ADroppedTasksPendingChangesComeBeforeThoseOfItsPartitionsNextTask) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  store->task(kA).writer(0).put("k", "dropped");
  store->task(kA).writer(0).put("gone", "1");
  ASSERT_TRUE(store->drop_task(kA).is_ok());
  store->task(kA).writer(0).put("k", "reassigned");
  store->task(kA).writer(0).remove("gone");
  ASSERT_TRUE(store->commit({}, {}).is_ok());
  const Contents expected = {{{kA, 0}, {{"k", "reassigned"}}}};
  EXPECT_EQ(read_contents(*store, {kA}, {0}), expected);
}

// A task's pending changes start each checkpoint in a block as large as the
// last checkpoint's: checkpoints that grow, shrink and grow again, with
// values of every size, apply exactly.
TEST(CheckpointStoreTest, CheckpointsOfChangingSizesApplyExactly) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  Entries model;
  std::mt19937 random(7);
  for (int keys : {10, 40000, 3, 0, 100000, 20000}) {
    for (int k = 0; k < keys; ++k) {
      const std::string key = "key" + std::to_string(random() % 50000);
      if (random() % 8 == 0) {
        store->task(kA).writer(0).remove(key);
        model.erase(key);
      } else {
        const std::string value(random() % 300, static_cast<char>('a' + k % 26));
        store->task(kA).writer(0).put(key, value);
        model[key] = value;
      }
    }
    ASSERT_TRUE(store->commit({}, {}).is_ok());
    const Contents contents = read_contents(*store, {kA}, {0});
    EXPECT_EQ(contents.empty() ? Entries{} : contents.at({kA, 0}), model) << "after " << keys << " changes";
  }
}

TEST(CheckpointStoreTest, TasksWhoseTopicsArePrefixesOfEachOtherDoNotMix) {
  TempDir dir;
  const std::vector<PartitionId> partitions = {
      {"a", 0}, {"a", 1}, {"a", 256}, {"a", -1}, {"ab", 0}, {std::string("a\0", 2), 0}, {std::string("a\0\x01", 3), 0},
      {"", 0}};
  {
    std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
    for (const PartitionId& p : partitions) {
      store->task(p).writer(0).put("", p.to_string());
      store->task(p).writer(0).put(std::string("\0", 1), p.to_string());
      store->task(p).writer(0).put("\xff\xff", p.to_string());
    }
    ASSERT_TRUE(store->commit({}, {}).is_ok());
  }
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  for (const PartitionId& p : partitions) {
    const Contents expected = {
        {{p, 0}, {{"", p.to_string()}, {std::string("\0", 1), p.to_string()}, {"\xff\xff", p.to_string()}}}};
    EXPECT_EQ(read_contents(*store, {p}, {0}), expected) << p.to_string();
  }
}

TEST(CheckpointStoreTest, AnotherJobsStateIsRefused) {
  TempDir dir;
  { ASSERT_NE(open_ok(dir.path(), "fraud-scoring"), nullptr); }
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(dir.path(), "nexmark-q5");
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("'fraud-scoring'"));
  EXPECT_THAT(store.status().message(), HasSubstr("'nexmark-q5'"));
  EXPECT_THAT(store.status().message(), HasSubstr("--state-dir"));
  EXPECT_THAT(store.status().message(), HasSubstr("--job-id"));
}

TEST(CheckpointStoreTest, AnotherFormatVersionIsRefused) {
  TempDir dir;
  const std::string other = std::to_string(kStateFormatVersion + 1);
  write_bytes(dir / "KAPPA_STATE", "kappa-state\nformat " + other + "\njob job\n");
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(dir.path(), "job");
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("format version " + other));
  EXPECT_THAT(store.status().message(), HasSubstr("reads version " + std::to_string(kStateFormatVersion)));
}

TEST(CheckpointStoreTest, ACheckpointOfAnotherFormatVersionIsRefusedNotSkipped) {
  TempDir dir;
  commit_steps(dir.path(), 1, 2);
  const std::string manifest_path = dir / "chk-0000000002/MANIFEST.kappa";
  Result<state_internal::Manifest> manifest = state_internal::decode_manifest(read_bytes(manifest_path));
  ASSERT_TRUE(manifest.is_ok());
  manifest->format_version = kStateFormatVersion + 1;
  write_bytes(manifest_path, state_internal::encode_manifest(*manifest));
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(dir.path(), "job");
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("format version " + std::to_string(kStateFormatVersion + 1)));
}

TEST(CheckpointStoreTest, AnUnreadableIdentityFileIsRefused) {
  TempDir dir;
  write_bytes(dir / "KAPPA_STATE", "something else\n");
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(dir.path(), "job");
  ASSERT_FALSE(store.is_ok());
  EXPECT_THAT(store.status().message(), HasSubstr("unreadable KAPPA_STATE"));
}

TEST(CheckpointStoreTest, CheckpointsWithoutAnIdentityFileAreRefused) {
  TempDir dir;
  commit_steps(dir.path(), 1, 1);
  std::filesystem::remove(dir / "KAPPA_STATE");
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(dir.path(), "job");
  ASSERT_FALSE(store.is_ok());
  EXPECT_THAT(store.status().message(), HasSubstr("no KAPPA_STATE"));
}

TEST(CheckpointStoreTest, ADirectoryInUseIsRefused) {
  TempDir dir;
  std::unique_ptr<CheckpointStore> first = open_ok(dir.path());
  ASSERT_NE(first, nullptr);
  Result<std::unique_ptr<CheckpointStore>> second = CheckpointStore::open(dir.path(), "job");
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr("in use by another process (pid " + std::to_string(::getpid())));
  first.reset();
  EXPECT_NE(open_ok(dir.path()), nullptr);
}

TEST(CheckpointStoreTest, AMissingJobIdOrStateDirIsRefused) {
  EXPECT_EQ(CheckpointStore::open("", "job").status().code(), StatusCode::kInvalidArgument);
  TempDir dir;
  EXPECT_EQ(CheckpointStore::open(dir.path(), "").status().code(), StatusCode::kInvalidArgument);
}

TEST(CheckpointStoreTest, ARelativeStateDirIsMadeAbsolute) {
  TempDir dir;
  const std::filesystem::path previous = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  {
    std::unique_ptr<CheckpointStore> store = open_ok("relative/state/");
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->state_dir(), std::filesystem::canonical(dir.path()).string() + "/relative/state");
    EXPECT_TRUE(store->commit({}, {}).is_ok());
  }
  std::filesystem::current_path(previous);
  EXPECT_TRUE(std::filesystem::exists(dir / "relative/state/chk-0000000001/MANIFEST.kappa"));
}

}  // namespace
}  // namespace kappa::state_test
