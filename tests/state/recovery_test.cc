// Recovery from damaged and incomplete checkpoints (state/recovery.*):
// the newest checkpoint that verifies is restored, with a warning naming
// what was wrong with the newer ones.
#include "state/recovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "state/checkpoint_store.h"
#include "tests/state/checkpoint_steps.h"
#include "tests/state/state_test_util.h"

namespace kappa::state_test {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Three checkpoints: chk-1 (pruned), chk-2 and chk-3, each made by its own store.
class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    commit_steps(dir_.path(), 1, 3);
    ASSERT_EQ(checkpoint_dirs(dir_.path()), (std::vector<std::string>{"chk-0000000002", "chk-0000000003"}));
  }

  std::string newest() const { return dir_ / "chk-0000000003"; }
  std::string previous() const { return dir_ / "chk-0000000002"; }

  // An SST file of the newest checkpoint that the previous one does not
  // share: hard links make a file both hold one file, damaged for both.
  std::string sst_only_in_newest() const {
    const std::vector<std::string> older = names_in(previous());
    for (const std::string& name : names_in(newest())) {
      if (name.ends_with(".sst") && std::find(older.begin(), older.end(), name) == older.end()) {
        return newest() + "/" + name;
      }
    }
    ADD_FAILURE() << "no SST file only in " << newest();
    return "";
  }

  // Reopens: expects checkpoint 2 restored, and a warning naming chk-3 and `problem`.
  void expect_fallback(const std::string& problem) {
    LogCapture log;
    std::unique_ptr<CheckpointStore> store = open_ok(dir_.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->checkpoint_id(), 2u);
    expect_step(*store, 2);
    EXPECT_THAT(log.text(), HasSubstr("[warning] state: skipping checkpoint " + newest() + ": "));
    EXPECT_THAT(log.text(), HasSubstr(problem));
    // Commits go on from there; the damaged checkpoint goes at the next prune.
    Result<CheckpointInfo> info = commit_step(*store, 3);
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    EXPECT_EQ(info->id, 4u);
    store.reset();
    EXPECT_EQ(checkpoint_dirs(dir_.path()), (std::vector<std::string>{"chk-0000000002", "chk-0000000004"}));
    store = open_ok(dir_.path());
    EXPECT_EQ(store->checkpoint_id(), 4u);
    expect_step(*store, 3);
  }

  TempDir dir_;
};

TEST_F(RecoveryTest, AnIntactNewestCheckpointIsRestored) {
  LogCapture log;
  std::unique_ptr<CheckpointStore> store = open_ok(dir_.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint_id(), 3u);
  expect_step(*store, 3);
  EXPECT_THAT(log.text(), Not(HasSubstr("[warning]")));
}

// What RocksDB writes into work/ after a restart must never reach a
// checkpoint: the restored working database shares no file with any.
TEST_F(RecoveryTest, TheRestoredWorkingDatabaseSharesNoFileWithACheckpoint) {
  std::unique_ptr<CheckpointStore> store = open_ok(dir_.path());
  ASSERT_NE(store, nullptr);
  auto inodes = [](const fs::path& dir) {
    std::set<std::pair<dev_t, ino_t>> out;
    for (const auto& entry : fs::directory_iterator(dir)) {
      struct stat st {};
      if (::stat(entry.path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.insert({st.st_dev, st.st_ino});
    }
    return out;
  };
  const auto work = inodes(dir_ / "work");
  ASSERT_FALSE(work.empty());
  for (const std::string& checkpoint : {newest(), previous()}) {
    for (const auto& inode : inodes(checkpoint)) EXPECT_EQ(work.count(inode), 0u) << "a file of " << checkpoint;
  }
}

TEST_F(RecoveryTest, ATruncatedSstFallsBackToThePreviousCheckpoint) {
  const std::string sst = sst_only_in_newest();
  ASSERT_FALSE(sst.empty());
  fs::resize_file(sst, fs::file_size(sst) / 2);
  expect_fallback("file " + fs::path(sst).filename().string() + " is ");
}

TEST_F(RecoveryTest, AnSstWithAFlippedByteFallsBackToThePreviousCheckpoint) {
  const std::string sst = sst_only_in_newest();
  ASSERT_FALSE(sst.empty());
  std::string bytes = read_bytes(sst);
  bytes[bytes.size() / 3] ^= 0x10;
  write_bytes(sst, bytes);
  expect_fallback("has CRC32C");
}

TEST_F(RecoveryTest, ADamagedManifestFallsBackToThePreviousCheckpoint) {
  std::string bytes = read_bytes(newest() + "/MANIFEST.kappa");
  bytes[bytes.find("checkpoint 3")] = 'C';
  write_bytes(newest() + "/MANIFEST.kappa", bytes);
  expect_fallback("its manifest is damaged: the manifest's checksum does not match");
}

TEST_F(RecoveryTest, ATruncatedManifestFallsBackToThePreviousCheckpoint) {
  const std::string bytes = read_bytes(newest() + "/MANIFEST.kappa");
  write_bytes(newest() + "/MANIFEST.kappa", bytes.substr(0, bytes.size() / 2));
  expect_fallback("its manifest is damaged");
}

TEST_F(RecoveryTest, AMissingFileFallsBackToThePreviousCheckpoint) {
  fs::remove(newest() + "/CURRENT");
  expect_fallback("file CURRENT is missing");
}

TEST_F(RecoveryTest, AMissingManifestFallsBackToThePreviousCheckpoint) {
  fs::remove(newest() + "/MANIFEST.kappa");
  expect_fallback("it has no MANIFEST.kappa");
}

TEST_F(RecoveryTest, AManifestOfAnotherCheckpointFallsBackToThePreviousCheckpoint) {
  fs::copy_file(previous() + "/MANIFEST.kappa", newest() + "/MANIFEST.kappa", fs::copy_options::overwrite_existing);
  expect_fallback("its manifest is that of checkpoint 2");
}

TEST_F(RecoveryTest, WhenEveryCheckpointIsDamagedTheStoreRefusesToOpen) {
  for (const std::string& dir : {newest(), previous()}) {
    std::string bytes = read_bytes(dir + "/MANIFEST.kappa");
    bytes[0] = 'K';
    write_bytes(dir + "/MANIFEST.kappa", bytes);
  }
  LogCapture log;
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(dir_.path(), "job");
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(store.status().message(), HasSubstr("has no usable checkpoint"));
  EXPECT_THAT(store.status().message(), HasSubstr("chk-0000000003: its manifest is damaged"));
  EXPECT_THAT(store.status().message(), HasSubstr("chk-0000000002: its manifest is damaged"));
  EXPECT_THAT(store.status().message(), HasSubstr("move the directory aside"));
  // Nothing was deleted: the checkpoints are there to inspect or repair.
  EXPECT_EQ(checkpoint_dirs(dir_.path()), (std::vector<std::string>{"chk-0000000002", "chk-0000000003"}));
}

TEST_F(RecoveryTest, ADamagedNewestAndAnIncompleteOlderRefuse) {
  fs::remove(previous() + "/MANIFEST.kappa");
  fs::remove(sst_only_in_newest());
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(dir_.path(), "job");
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
}

TEST_F(RecoveryTest, StateWrittenAfterTheRestoredCheckpointIsDiscarded) {
  // The working database is ahead of the newest checkpoint when a process
  // dies between the write batch and the manifest; recovery must not use it.
  {
    std::unique_ptr<CheckpointStore> store = open_ok(dir_.path());
    ASSERT_TRUE(commit_step(*store, 4).is_ok());
  }
  fs::remove(dir_ / "chk-0000000004/MANIFEST.kappa");
  std::unique_ptr<CheckpointStore> store = open_ok(dir_.path());
  EXPECT_EQ(store->checkpoint_id(), 3u);
  expect_step(*store, 3);
}

TEST_F(RecoveryTest, LeftoversOfACrashAreRemoved) {
  fs::create_directories(dir_ / "chk-0000000004.tmp");
  fs::create_directories(dir_ / "chk-0000000001.deleting");
  fs::create_directories(dir_ / "work.restore");
  std::unique_ptr<CheckpointStore> store = open_ok(dir_.path());
  EXPECT_EQ(store->checkpoint_id(), 3u);
  EXPECT_FALSE(fs::exists(dir_ / "chk-0000000004.tmp"));
  EXPECT_FALSE(fs::exists(dir_ / "chk-0000000001.deleting"));
  EXPECT_FALSE(fs::exists(dir_ / "work.restore"));
}

TEST(RecoveryIncompleteTest, AJobWhoseOnlyCheckpointNeverCompletedStartsEmpty) {
  TempDir dir;
  commit_steps(dir.path(), 1, 1);
  fs::remove(dir / "chk-0000000001/MANIFEST.kappa");
  LogCapture log;
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint_id(), 0u);
  expect_step(*store, 0);
  EXPECT_THAT(log.text(), HasSubstr("no checkpoint in " + dir.path() + " ever completed"));
  // The next checkpoint gets a new id; the incomplete one is deleted.
  Result<CheckpointInfo> info = commit_step(*store, 1);
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->id, 2u);
  EXPECT_EQ(checkpoint_dirs(dir.path()), (std::vector<std::string>{"chk-0000000002"}));
}

TEST(VerifyCheckpointTest, AStrayFileIsIgnoredAnotherJobIsRefusedAMissingOneIsNotFound) {
  TempDir dir;
  commit_steps(dir.path(), 1, 1);
  // A stray file the manifest does not list does not make the checkpoint unusable.
  write_bytes(dir / "chk-0000000001/stray", "x");
  state_internal::FileDigestCache cache;
  Result<state_internal::Manifest> manifest = state_internal::verify_checkpoint(dir.path(), 1, "job", cache);
  ASSERT_TRUE(manifest.is_ok()) << manifest.status().to_string();
  EXPECT_EQ(manifest->checkpoint_id, 1u);
  EXPECT_EQ(state_internal::verify_checkpoint(dir.path(), 1, "other", cache).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(state_internal::verify_checkpoint(dir.path(), 7, "job", cache).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kappa::state_test
