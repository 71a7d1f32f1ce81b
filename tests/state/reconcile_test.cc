// Exactly-once recovery (state/reconcile.*, and CheckpointStore with
// StoreOptions::committed_offsets): the checkpoint restored is the one the
// consumer group's committed offsets match, never a newer one whose output
// transaction did not commit, and pruning keeps it until a newer one is
// confirmed.
#include "state/reconcile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "state/checkpoint_store.h"
#include "state/checksum.h"
#include "state/recovery.h"
#include "tests/state/checkpoint_steps.h"
#include "tests/state/state_test_util.h"

namespace kappa::state_test {
namespace {

using state_internal::CheckpointCandidate;
using state_internal::choose_committed_checkpoint;
using ::testing::HasSubstr;

const PartitionId kA{"in", 0};
const PartitionId kB{"in", 1};
const PartitionId kC{"in", 2};

// Checkpoints 3, 2, 1 (newest first); 1 and 2 confirmed, 3 pending.
std::vector<CheckpointCandidate> three_checkpoints() {
  return {{3, {{kA, 300}, {kB, 301}, {kC, 302}}, false}, {2, {{kA, 200}, {kB, 201}}, true}, {1, {{kA, 100}}, true}};
}

std::optional<uint64_t> chosen(const std::vector<CheckpointCandidate>& candidates,
                               const std::map<PartitionId, int64_t>& committed) {
  Result<std::optional<uint64_t>> choice = choose_committed_checkpoint(candidates, committed);
  EXPECT_TRUE(choice.is_ok()) << choice.status().to_string();
  return choice.is_ok() ? *choice : std::nullopt;
}

TEST(ChooseCommittedCheckpointTest, TheNewestWhoseOffsetsAreTheGroups) {
  EXPECT_EQ(chosen(three_checkpoints(), {{kA, 300}, {kB, 301}, {kC, 302}}), 3u);
  // Checkpoint 3's transaction never committed: the group still has 2's.
  EXPECT_EQ(chosen(three_checkpoints(), {{kA, 200}, {kB, 201}}), 2u);
  EXPECT_EQ(chosen(three_checkpoints(), {{kA, 100}}), 1u);
}

TEST(ChooseCommittedCheckpointTest, EveryPartitionACheckpointRecordsMustMatch) {
  // 3 records in/2, which the group has no offset for; 2 and 1 have other
  // offsets for in/0: no checkpoint holds what the group committed.
  EXPECT_FALSE(choose_committed_checkpoint(three_checkpoints(), {{kA, 300}, {kB, 301}}).is_ok());
  EXPECT_EQ(chosen(three_checkpoints(), {{kA, 200}, {kB, 201}, {kC, 7}}), 2u)
      << "a partition the group has and the checkpoint does not record is not compared";
}

TEST(ChooseCommittedCheckpointTest, WithoutCommittedOffsetsTheNewestConfirmedOrNothing) {
  // The group's offsets expired (or were never committed): the marks decide.
  EXPECT_EQ(chosen(three_checkpoints(), {}), 2u);
  std::vector<CheckpointCandidate> pending = three_checkpoints();
  for (CheckpointCandidate& c : pending) c.confirmed = false;
  // No transaction ever committed: start empty, from the input's start.
  EXPECT_EQ(chosen(pending, {}), std::nullopt);
  EXPECT_EQ(chosen({}, {}), std::nullopt);
}

TEST(ChooseCommittedCheckpointTest, OffsetsNoCheckpointRecordsAreRefused) {
  Result<std::optional<uint64_t>> choice = choose_committed_checkpoint(three_checkpoints(), {{kA, 250}, {kB, 251}});
  ASSERT_FALSE(choice.is_ok());
  EXPECT_EQ(choice.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(choice.status().message(), HasSubstr("in/0=250,in/1=251"));
  EXPECT_THAT(choice.status().message(), HasSubstr("checkpoint 3 records in/0=300,in/1=301,in/2=302"));
}

// The store, with the group's committed offsets played by a map.
class ExactlyOnceStoreTest : public ::testing::Test {
 protected:
  // Steps 1 to 3, 1 and 2 confirmed (their transactions committed), 3
  // pending (the process died before its transaction committed).
  void SetUp() override {
    std::unique_ptr<CheckpointStore> store = open_eo({});
    ASSERT_NE(store, nullptr);
    for (int step = 1; step <= 3; ++step) {
      Result<CheckpointInfo> info = commit_step(*store, step);
      ASSERT_TRUE(info.is_ok()) << info.status().to_string();
      if (step < 3) {
        ASSERT_TRUE(store->confirm(info->id).is_ok());
      }
    }
    EXPECT_EQ(store->confirmed_id(), 2u);
    EXPECT_EQ(checkpoint_dirs(dir_.path()), (std::vector<std::string>{"chk-0000000002", "chk-0000000003"}));
  }

  std::unique_ptr<CheckpointStore> open_eo(std::map<PartitionId, int64_t> committed) {
    StoreOptions options;
    options.committed_offsets = [this, committed](const std::vector<PartitionId>& partitions) {
      asked_ = partitions;
      return Result<std::map<PartitionId, int64_t>>(committed);
    };
    return open_ok(dir_.path(), "job", options);
  }

  bool confirmed_on_disk(uint64_t id) const {
    char name[32];
    std::snprintf(name, sizeof name, "chk-%010llu/CONFIRMED", static_cast<unsigned long long>(id));
    return std::filesystem::exists(dir_ / name);
  }

  TempDir dir_;
  std::vector<PartitionId> asked_;
};

TEST_F(ExactlyOnceStoreTest, RestoresTheCheckpointTheGroupsOffsetsMatchAndDiscardsNewerOnes) {
  LogCapture log;
  std::unique_ptr<CheckpointStore> store = open_eo(expected_after(2).offsets);
  ASSERT_NE(store, nullptr);
  // Asked once, for every partition a verified checkpoint records.
  EXPECT_EQ(asked_, kStepPartitions);
  EXPECT_EQ(store->checkpoint_id(), 2u);
  EXPECT_EQ(store->confirmed_id(), 2u);
  expect_step(*store, 2);
  EXPECT_THAT(log.text(), HasSubstr("discarding checkpoint " + (dir_ / "chk-0000000003") + ": "));
  EXPECT_THAT(log.text(), HasSubstr("its output transaction never committed"));
  // Going on from 2: the next checkpoint gets a new id, and 3 goes at the
  // prune, while 2 (confirmed) stays.
  Result<CheckpointInfo> info = commit_step(*store, 3);
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  EXPECT_EQ(info->id, 4u);
  EXPECT_EQ(checkpoint_dirs(dir_.path()), (std::vector<std::string>{"chk-0000000002", "chk-0000000004"}));
}

TEST_F(ExactlyOnceStoreTest, ACheckpointWhoseTransactionCommittedIsRestoredAndMarked) {
  // The process died after the commit, before it could mark checkpoint 3.
  EXPECT_FALSE(confirmed_on_disk(3));
  std::unique_ptr<CheckpointStore> store = open_eo(expected_after(3).offsets);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint_id(), 3u);
  EXPECT_EQ(store->confirmed_id(), 3u);
  expect_step(*store, 3);
  EXPECT_TRUE(confirmed_on_disk(3));
}

TEST_F(ExactlyOnceStoreTest, WithoutCommittedOffsetsTheNewestConfirmedIsRestored) {
  std::unique_ptr<CheckpointStore> store = open_eo({});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint_id(), 2u);
  expect_step(*store, 2);
}

TEST_F(ExactlyOnceStoreTest, OffsetsThatMatchNoCheckpointAreRefused) {
  std::map<PartitionId, int64_t> moved = expected_after(2).offsets;
  moved[kStepPartitions[0]] += 5;  // reset by hand, say
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(dir_.path(), "job", [&] {
    StoreOptions options;
    options.committed_offsets = [&](const std::vector<PartitionId>&) {
      return Result<std::map<PartitionId, int64_t>>(moved);
    };
    return options;
  }());
  ASSERT_FALSE(store.is_ok());
  EXPECT_THAT(store.status().message(), HasSubstr("and the consumer group disagree"));
  EXPECT_THAT(store.status().message(), HasSubstr("orders/0=205"));
  EXPECT_THAT(store.status().message(), HasSubstr("without --exactly-once"));
}

TEST_F(ExactlyOnceStoreTest, AnErrorReadingTheGroupsOffsetsIsRefused) {
  StoreOptions options;
  options.committed_offsets = [](const std::vector<PartitionId>&) -> Result<std::map<PartitionId, int64_t>> {
    return Status::unavailable("no broker");
  };
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(dir_.path(), "job", options);
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(store.status().message(), HasSubstr("committed offsets"));
  EXPECT_THAT(store.status().message(), HasSubstr("no broker"));
}

TEST_F(ExactlyOnceStoreTest, CheckpointsThatAllFailToVerifyAreRefused) {
  for (const std::string& name : checkpoint_dirs(dir_.path())) {
    const std::string manifest = dir_ / (name + "/MANIFEST.kappa");
    std::string bytes = read_bytes(manifest);
    bytes[20] ^= 0x55;
    write_bytes(manifest, bytes);
  }
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(dir_.path(), "job", [] {
    StoreOptions options;
    options.committed_offsets = [](const std::vector<PartitionId>&) -> Result<std::map<PartitionId, int64_t>> {
      ADD_FAILURE() << "the group's offsets are asked for with no checkpoint to compare them with";
      return std::map<PartitionId, int64_t>{};
    };
    return options;
  }());
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(store.status().message(), HasSubstr("has no usable checkpoint"));
}

TEST_F(ExactlyOnceStoreTest, WithoutExactlyOnceTheNewestCheckpointIsRestoredAsBefore) {
  std::unique_ptr<CheckpointStore> store = open_ok(dir_.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint_id(), 3u);
  expect_step(*store, 3);
}

TEST_F(ExactlyOnceStoreTest, PruningKeepsTheNewestConfirmedCheckpoint) {
  std::unique_ptr<CheckpointStore> store = open_eo(expected_after(2).offsets);
  ASSERT_NE(store, nullptr);
  // Two more checkpoints, neither confirmed: 2 stays beside the newest two.
  for (int step = 3; step <= 4; ++step) {
    Result<CheckpointInfo> info = commit_step(*store, step);
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  }
  EXPECT_EQ(checkpoint_dirs(dir_.path()),
            (std::vector<std::string>{"chk-0000000002", "chk-0000000004", "chk-0000000005"}));
  // Once a newer one is confirmed, 2 may go.
  ASSERT_TRUE(store->confirm(5).is_ok());
  Result<CheckpointInfo> info = commit_step(*store, 5);
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  EXPECT_EQ(checkpoint_dirs(dir_.path()), (std::vector<std::string>{"chk-0000000005", "chk-0000000006"}));
}

// A restart that discards a checkpoint replays what it held: the next
// checkpoints write SST files of the same sizes as the discarded one's, and
// once the prune deleted those, the filesystem hands their inodes out again.
// Every checkpoint written after that must still verify (a digest cached
// by inode and size once put a discarded file's checksum in two manifests).
TEST_F(ExactlyOnceStoreTest, CheckpointsWrittenAfterAReplayOfADiscardedOneVerify) {
  {
    std::unique_ptr<CheckpointStore> store = open_eo(expected_after(2).offsets);
    ASSERT_NE(store, nullptr);
    // No state changes: this checkpoint's prune deletes the discarded 3.
    Result<CheckpointInfo> info = store->commit(step_offsets(2), step_watermarks(2));
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    for (int step = 3; step <= 4; ++step) {
      info = commit_step(*store, step);
      ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    }
  }
  std::vector<std::string> on_disk = checkpoint_dirs(dir_.path());
  ASSERT_FALSE(on_disk.empty());
  for (const std::string& name : on_disk) {
    state_internal::FileDigestCache fresh;
    const uint64_t id = std::stoull(name.substr(name.find('-') + 1));
    Result<state_internal::Manifest> verified = state_internal::verify_checkpoint(dir_.path(), id, "job", fresh);
    EXPECT_TRUE(verified.is_ok()) << name << ": " << verified.status().to_string();
  }
  std::unique_ptr<CheckpointStore> store = open_ok(dir_.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint_id(), 6u);
  expect_step(*store, 4);
}

TEST_F(ExactlyOnceStoreTest, ConfirmingAnUnknownCheckpointFails) {
  std::unique_ptr<CheckpointStore> store = open_eo(expected_after(2).offsets);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->confirm(3).code(), StatusCode::kNotFound);  // discarded
  EXPECT_EQ(store->confirm(42).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kappa::state_test
