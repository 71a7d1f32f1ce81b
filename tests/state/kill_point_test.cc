// Kill points (runtime/kill_point.h), and what each of CheckpointStore's
// leaves on disk: a helper process commits a step and dies at the point;
// the store reopened here must hold the previous step or the new one,
// whole, never a mix, and go on committing.
#include "runtime/kill_point.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "state/checkpoint_store.h"
#include "tests/state/checkpoint_steps.h"
#include "tests/state/state_test_util.h"
#include "tests/support/child_process.h"

namespace kappa::state_test {
namespace {

TEST(KillPointTest, TheVariableNamesAPointAndOptionallyATime) {
  EXPECT_EQ(kill_point_trigger("after_write_batch", "after_write_batch"), 1);
  EXPECT_EQ(kill_point_trigger("after_write_batch:3", "after_write_batch"), 3);
  EXPECT_EQ(kill_point_trigger("after_write_batch", "before_prune"), 0);
  EXPECT_EQ(kill_point_trigger("after_write", "after_write_batch"), 0);
  EXPECT_EQ(kill_point_trigger("after_write_batch:0", "after_write_batch"), 0);
  EXPECT_EQ(kill_point_trigger("after_write_batch:x", "after_write_batch"), 0);
  EXPECT_EQ(kill_point_trigger("after_write_batch:", "after_write_batch"), 0);
  EXPECT_EQ(kill_point_trigger("", "after_write_batch"), 0);
}

TEST(KillPointTest, TheStateLibraryIsBuiltWithKillPoints) {
#ifndef KAPPA_KILL_POINTS
  GTEST_FAIL() << "kappa::state was built without KAPPA_KILL_POINTS: the crash tests below cannot kill anything";
#endif
}

struct CrashCase {
  const char* kill_point;
  int first_step;  // the helper commits first_step..last_step
  int last_step;
  int expected_step;  // what the reopened store must hold
};

void PrintTo(const CrashCase& c, std::ostream* out) { *out << c.kill_point; }

class CrashTest : public ::testing::TestWithParam<CrashCase> {};

// Steps 1 and 2 committed here; the helper dies in a later one.
TEST_P(CrashTest, RecoversThePreviousOrTheNewCheckpointWhole) {
  const CrashCase& c = GetParam();
  TempDir dir;
  commit_steps(dir.path(), 1, 2);

  Result<std::unique_ptr<testing::ChildProcess>> child = testing::ChildProcess::spawn(
      {KAPPA_STATE_COMMIT_HELPER, dir.path(), std::to_string(c.first_step), std::to_string(c.last_step), c.kill_point});
  ASSERT_TRUE(child.is_ok()) << child.status().to_string();
  const std::optional<int> code = (*child)->wait(std::chrono::seconds(60));
  ASSERT_TRUE(code.has_value()) << "the helper did not exit";
  ASSERT_EQ(*code, kKillPointExitCode) << (*child)->describe_exit() << "\n" << (*child)->output_tail(20);
  EXPECT_THAT((*child)->output(), ::testing::HasSubstr("kill point"));

  {
    std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
    ASSERT_NE(store, nullptr);
    expect_step(*store, c.expected_step);
    // And it goes on: the next step commits and survives a reopen.
    Result<CheckpointInfo> info = commit_step(*store, c.expected_step + 1);
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  }
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  ASSERT_NE(store, nullptr);
  expect_step(*store, c.expected_step + 1);
  EXPECT_EQ(checkpoint_dirs(dir.path()).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    EveryPointInCommit, CrashTest,
    ::testing::Values(CrashCase{"after_write_batch", 3, 3, 2}, CrashCase{"after_checkpoint_files", 3, 3, 2},
                      CrashCase{"after_manifest_temp", 3, 3, 2}, CrashCase{"after_manifest_rename", 3, 3, 3},
                      CrashCase{"before_prune", 3, 3, 3},
                      // The N-th time: dies in step 4's commit after step 3's completed.
                      CrashCase{"after_write_batch:2", 3, 4, 3}, CrashCase{"after_manifest_rename:2", 3, 5, 4}),
    [](const ::testing::TestParamInfo<CrashCase>& info) {
      std::string name = info.param.kill_point;
      std::replace(name.begin(), name.end(), ':', '_');
      return name;
    });

TEST(CrashHelperTest, WithoutAKillPointCommitsEveryStep) {
  TempDir dir;
  Result<std::unique_ptr<testing::ChildProcess>> child =
      testing::ChildProcess::spawn({KAPPA_STATE_COMMIT_HELPER, dir.path(), "1", "3"});
  ASSERT_TRUE(child.is_ok()) << child.status().to_string();
  const std::optional<int> code = (*child)->wait(std::chrono::seconds(60));
  ASSERT_EQ(code, 0) << (*child)->output_tail(20);
  std::unique_ptr<CheckpointStore> store = open_ok(dir.path());
  EXPECT_EQ(store->checkpoint_id(), 3u);
  expect_step(*store, 3);
}

}  // namespace
}  // namespace kappa::state_test
