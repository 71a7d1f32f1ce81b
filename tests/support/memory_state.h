// MemoryState: a task's state (runtime/state.h) in ordered maps, for tests.
//
// One map per stage, created on first use. Each stage counts the puts and
// removes it received since the counts were last taken, so a test can check
// that a checkpoint wrote only what changed:
//
//   op.checkpoint(state.writer(0));
//   EXPECT_LE(state.stage(0).take_counts().puts, touched_keys + 1);
//
// Entries are plain data: a test may edit them (to garble one, say) through
// stage(i).entries. Not thread-safe: one test thread.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "runtime/state.h"
#include "runtime/status.h"

namespace kappa::testing {

// Writes received by a stage since its counts were last taken.
struct WriteCounts {
  std::size_t puts = 0;
  std::size_t removes = 0;
  std::size_t writes() const { return puts + removes; }
};

class MemoryStageState final : public StateWriter, public StateReader {
 public:
  std::map<std::string, std::string, std::less<>> entries;

  void put(std::string_view key, std::string_view value) override {
    ++counts_.puts;
    entries.insert_or_assign(std::string(key), std::string(value));
  }

  void remove(std::string_view key) override {
    ++counts_.removes;
    if (auto it = entries.find(key); it != entries.end()) entries.erase(it);
  }

  Status scan(const std::function<Status(std::string_view key, std::string_view value)>& f) override {
    for (const auto& [key, value] : entries) KAPPA_RETURN_IF_ERROR(f(key, value));
    return Status::ok();
  }

  // The counts since the last call (or since the stage was made), then zero.
  WriteCounts take_counts() {
    const WriteCounts counts = counts_;
    counts_ = {};
    return counts;
  }

 private:
  WriteCounts counts_;
};

class MemoryState final : public TaskState {
 public:
  StateWriter& writer(std::size_t stage) override { return stages_[stage]; }
  StateReader& reader(std::size_t stage) override { return stages_[stage]; }

  MemoryStageState& stage(std::size_t i) { return stages_[i]; }
  // Stages that were written or read, by index.
  const std::map<std::size_t, MemoryStageState>& stages() const { return stages_; }

 private:
  std::map<std::size_t, MemoryStageState> stages_;
};

}  // namespace kappa::testing
