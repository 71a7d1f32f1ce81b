// Crash recovery end to end (DESIGN.md §5): window_agg with --state-dir over
// 1M seeded events of 10k keys is killed again and again, at each named kill
// point inside the checkpoint protocol and at random moments with SIGKILL,
// restarted each time with the same --job-id and --state-dir, and finally
// run to the end. Its output, re-emissions included, must hold exactly the
// windows of an uninterrupted run with exactly their values: nothing
// missing, nothing different, only identical repeats of what came after the
// last checkpoint.
//
// KAPPA_CRASH_TEST_KILLS sets the number of random kills (default 6; the
// long mode is 50 or more).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "tests/integration/window_agg_runs.h"
#include "tests/support/child_process.h"

namespace kappa::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kEvents = 1'000'000;
constexpr int kKeys = 10'000;
// The checkpoint protocol's named points (state/checkpoint_store.cc).
const std::vector<std::string> kKillPoints = {"after_write_batch", "after_checkpoint_files", "after_manifest_temp",
                                              "after_manifest_rename", "before_prune"};

int random_kills() {
  const char* text = std::getenv("KAPPA_CRASH_TEST_KILLS");
  return text != nullptr ? std::max(1, std::atoi(text)) : 6;
}

namespace fs = std::filesystem;

// The complete checkpoint directories of `state`, oldest first (their names
// sort by id); not one a kill left half-made. None before a job created it.
std::vector<fs::path> complete_checkpoints(const std::string& state) {
  std::vector<fs::path> dirs;
  std::error_code no_dir_yet;
  for (const auto& entry : fs::directory_iterator(state, no_dir_yet)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("chk-", 0) == 0 && name.find('.') == std::string::npos &&
        fs::exists(entry.path() / "MANIFEST.kappa")) {
      dirs.push_back(entry.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

// Kills `job` once `state` has at least two complete checkpoints and one
// newer than those it had before the job started: by its progress, not after
// a fixed time, so that the kill finds it in the middle of the input however
// fast it runs. Returns how it ended.
std::optional<int> kill_after_a_new_checkpoint(ChildProcess& job, const std::string& state,
                                               const std::vector<fs::path>& before) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    const std::vector<fs::path> now = complete_checkpoints(state);
    if (now.size() >= 2 && (before.empty() || now.back() > before.back())) break;
    if (!job.running() || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(5ms);
  }
  job.signal(SIGKILL);
  return job.wait(60s);
}

// Damages the newest of `dirs` (complete checkpoints, oldest first, at least
// two) as `damage` says: "garbled manifest", or "truncated file" / "missing
// file" for an SST file the one before does not share.
void damage_newest(const std::vector<fs::path>& dirs, const std::string& damage) {
  if (damage == "garbled manifest") {
    std::fstream manifest(dirs.back() / "MANIFEST.kappa", std::ios::in | std::ios::out | std::ios::binary);
    manifest.seekp(10);
    manifest.write("#####", 5);
    return;
  }
  fs::path own;
  for (const auto& entry : fs::directory_iterator(dirs.back())) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".sst") && !fs::exists(dirs[dirs.size() - 2] / name)) {
      own = entry.path();
      break;
    }
  }
  ASSERT_FALSE(own.empty()) << "no file of its own in " << dirs.back();
  if (damage == "truncated file") {
    fs::resize_file(own, fs::file_size(own) / 2);
  } else {
    fs::remove(own);
  }
}

struct CrashCase {
  std::string name;
  std::string window;        // window_agg's --window
  std::string state_memory;  // --state-memory, or empty: none
};

class CrashRecoveryTest : public ::testing::TestWithParam<CrashCase> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() / ("kappa-crash-" + std::to_string(getpid())));
    std::filesystem::create_directories(*dir_);
    // Keyed by card, time roughly increasing with up to 2 s of disorder
    // (within the 5 s out-of-orderness, so nothing is late).
    std::mt19937_64 rng(2026);
    std::ofstream out(events());
    int64_t clock = 1'763'700'000'000;
    for (int i = 0; i < kEvents; ++i) {
      clock += static_cast<int64_t>(rng() % 3);
      out << "{\"card\":\"c" << rng() % kKeys << "\",\"ts\":" << clock - static_cast<int64_t>(rng() % 2000)
          << ",\"amount\":" << rng() % 500 << "}\n";
    }
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string events() { return *dir_ + "/events.jsonl"; }

  std::vector<std::string> job_args(const std::string& output, const std::string& state_dir) const {
    std::vector<std::string> args = window_agg_command(GetParam().window, "count,sum,max",
                                                       {"--input", "file:" + events(), "--output", "file:" + output,
                                                        "--out-of-orderness", "5s", "--job-id", "crash-test"});
    if (!state_dir.empty()) {
      args.insert(args.end(), {"--state-dir", state_dir, "--checkpoint-interval", "100ms"});
      if (!GetParam().state_memory.empty()) args.insert(args.end(), {"--state-memory", GetParam().state_memory});
    }
    return args;
  }

  // Runs the job without a state dir or kills, writing to `path`, and
  // returns its windows: each once.
  std::set<std::string> reference_windows(const std::string& path) const {
    auto reference = spawn_job(job_args(path, ""));
    std::optional<int> code = reference->wait(300s);
    EXPECT_EQ(code, std::optional<int>(0)) << reference->output_tail(20);
    const std::vector<std::string> expected_lines = lines(path);
    const std::set<std::string> expected(expected_lines.begin(), expected_lines.end());
    EXPECT_EQ(expected.size(), expected_lines.size()) << "an uninterrupted run emits each window once";
    EXPECT_GT(expected.size(), 100'000u);
    return expected;
  }

  static std::vector<std::string> lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  // Every window of `expected` is in the output at `path`, once or more,
  // and none with another value. Returns the output's lines.
  static std::vector<std::string> expect_the_same_windows(const std::set<std::string>& expected,
                                                          const std::string& path) {
    std::vector<std::string> actual_lines = lines(path);
    const std::set<std::string> actual(actual_lines.begin(), actual_lines.end());
    std::size_t missing = 0, different = 0;
    for (const std::string& line : expected) missing += actual.count(line) == 0 ? 1 : 0;
    for (const std::string& line : actual) different += expected.count(line) == 0 ? 1 : 0;
    EXPECT_EQ(missing, 0u);
    EXPECT_EQ(different, 0u) << "windows with a value the uninterrupted run did not give";
    return actual_lines;
  }

  static inline std::string* dir_ = nullptr;
};

TEST_P(CrashRecoveryTest, KilledAndRestartedGivesTheUninterruptedWindows) {
  const std::string tag = GetParam().name;
  const std::set<std::string> expected = reference_windows(*dir_ + "/reference-" + tag + ".jsonl");
  ASSERT_FALSE(HasFailure());
  std::optional<int> code;

  const std::string output = *dir_ + "/output-" + tag + ".jsonl";
  const std::string state = *dir_ + "/state-" + tag;
  std::mt19937 rng(7);
  int restarts = 0;
  // Each kill point once, at its first to third passage.
  for (const std::string& point : kKillPoints) {
    const std::string spec = point + ":" + std::to_string(1 + rng() % 3);
    SCOPED_TRACE("KAPPA_KILL_POINT=" + spec);
    setenv("KAPPA_KILL_POINT", spec.c_str(), 1);
    auto job = spawn_job(job_args(output, state));
    unsetenv("KAPPA_KILL_POINT");
    code = job->wait(300s);
    ASSERT_TRUE(code.has_value());
    ASSERT_EQ(*code, 137) << "the kill point was not reached: " << job->output_tail(20);
    EXPECT_NE(job->output().find("kill point " + point + " reached"), std::string::npos);
    ++restarts;
  }
  // Then SIGKILL at random moments.
  // Short lives, so that the job is still running at each kill: a run gets
  // through a few checkpoints at most.
  const int kills = random_kills();
  int killed = 0;
  for (int i = 0; i < kills; ++i) {
    auto job = spawn_job(job_args(output, state));
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 200));
    job->signal(SIGKILL);
    code = job->wait(60s);
    ASSERT_TRUE(code.has_value());
    if (*code == 0) break;  // it finished first
    ASSERT_EQ(*code, -SIGKILL) << job->output_tail(20);
    ++killed;
    ++restarts;
  }
  EXPECT_EQ(killed, kills) << "the job finished before every kill: shorten the runs";
  auto last = spawn_job(job_args(output, state));
  code = last->wait(300s);
  ASSERT_TRUE(code.has_value());
  ASSERT_EQ(*code, 0) << last->output_tail(20);
  EXPECT_NE(last->output().find("state restored from checkpoint"), std::string::npos);

  const std::vector<std::string> actual_lines = expect_the_same_windows(expected, output);
  std::printf("%s: %d restarts, %zu windows, %zu lines written (%zu re-emitted)\n", GetParam().name.c_str(), restarts,
              expected.size(), actual_lines.size(), actual_lines.size() - expected.size());
}

// The newest checkpoint damaged after each kill (its manifest garbled, then
// a file of its own truncated, then one deleted): recovery detects it, says
// so, and resumes from the one before; the output is still exactly the
// uninterrupted run's windows.
TEST_P(CrashRecoveryTest, ADamagedNewestCheckpointFallsBackToThePreviousOne) {
  const std::string tag = GetParam().name;
  const std::set<std::string> expected = reference_windows(*dir_ + "/damage-reference-" + tag + ".jsonl");
  ASSERT_FALSE(HasFailure());
  const std::string output = *dir_ + "/damage-output-" + tag + ".jsonl";
  const std::string state = *dir_ + "/damage-state-" + tag;
  std::optional<int> code;
  for (const std::string damage : {"garbled manifest", "truncated file", "missing file"}) {
    SCOPED_TRACE(damage);
    auto job = spawn_job(job_args(output, state));
    code = kill_after_a_new_checkpoint(*job, state, complete_checkpoints(state));
    ASSERT_EQ(code, std::optional<int>(-SIGKILL)) << "the job ended before the kill: " << job->output_tail(20);
    const std::vector<fs::path> dirs = complete_checkpoints(state);
    ASSERT_GE(dirs.size(), 2u);
    damage_newest(dirs, damage);
    ASSERT_FALSE(HasFailure());

    auto next = spawn_job(job_args(output, state));
    code = kill_after_a_new_checkpoint(*next, state, complete_checkpoints(state));
    ASSERT_EQ(code, std::optional<int>(-SIGKILL)) << "the job ended before the kill: " << next->output_tail(20);
    EXPECT_NE(next->output().find(dirs.back().filename().string()), std::string::npos)
        << "recovery names the damaged checkpoint: " << next->output_tail(20);
    EXPECT_NE(next->output().find("state restored from checkpoint"), std::string::npos) << next->output_tail(20);
  }
  auto last = spawn_job(job_args(output, state));
  code = last->wait(300s);
  ASSERT_TRUE(code.has_value());
  ASSERT_EQ(*code, 0) << last->output_tail(20);

  expect_the_same_windows(expected, output);
}

// The last case runs under a budget far below its state (10k keys take over
// 1 MiB), so each checkpoint evicts the keys the interval left untouched and
// later records and timers read them back.
INSTANTIATE_TEST_SUITE_P(Windows, CrashRecoveryTest,
                         ::testing::Values(CrashCase{"tumbling", "tumbling:5s", ""},
                                           CrashCase{"hopping", "hopping:10s/5s", ""},
                                           CrashCase{"hopping_state_memory", "hopping:10s/5s", "256KiB"}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace kappa::testing
