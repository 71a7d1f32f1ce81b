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
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
    if (defer_) {
      pending_.emplace_back(std::string(key), std::string(value));
      return;
    }
    entries.insert_or_assign(std::string(key), std::string(value));
  }

  void remove(std::string_view key) override {
    ++counts_.removes;
    if (defer_) {
      pending_.emplace_back(std::string(key), std::nullopt);
      return;
    }
    if (auto it = entries.find(key); it != entries.end()) entries.erase(it);
  }

  void remove_range(std::string_view from, std::string_view to) override {
    ++counts_.removes;
    if (defer_) {
      pending_ranges_.emplace_back(from, to);
      return;
    }
    erase_range(from, to);
  }

  // From now on writes wait for apply_pending(), as a store's wait for its
  // commit, which the job runner finishes only before the next barrier:
  // reads in between see the state as of the previous one.
  void defer_writes() { defer_ = true; }
  void apply_pending() {
    for (const auto& [from, to] : pending_ranges_) erase_range(from, to);
    pending_ranges_.clear();
    for (auto& [key, value] : pending_) {
      if (value) {
        entries.insert_or_assign(key, *value);
      } else if (auto it = entries.find(key); it != entries.end()) {
        entries.erase(it);
      }
    }
    pending_.clear();
  }

  using StateReader::scan;
  Status scan(std::string_view from, std::string_view to,
              const std::function<Status(std::string_view key, std::string_view value)>& f) override {
    for (auto it = entries.lower_bound(from); it != entries.end() && (to.empty() || it->first < to); ++it) {
      KAPPA_RETURN_IF_ERROR(f(it->first, it->second));
    }
    return Status::ok();
  }

  Status read_while(std::string_view from, std::string_view to,
                    const std::function<bool(std::string_view key, std::string_view value)>& f) override {
    for (auto it = entries.lower_bound(from); it != entries.end() && it->first < to; ++it) {
      if (!f(it->first, it->second)) break;
    }
    return Status::ok();
  }

  Result<std::optional<std::string>> get(std::string_view key) override {
    ++gets;
    auto it = entries.find(key);
    if (it == entries.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status get_many(std::span<const std::string> keys,
                  const std::function<void(std::size_t i, std::string_view value)>& found) override {
    ++get_many_calls;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i > 0 && !(keys[i - 1] < keys[i])) return Status::invalid_argument("get_many: keys out of order");
      if (auto it = entries.find(keys[i]); it != entries.end()) found(i, it->second);
    }
    got_many += keys.size();
    return Status::ok();
  }
  StateMemory* memory() const override { return memory_; }
  // Reads through get() so far; calls of get_many() and the keys they asked for.
  std::size_t gets = 0;
  std::size_t get_many_calls = 0;
  std::size_t got_many = 0;
  // The budget restore() hands to operators; none by default.
  void set_memory(StateMemory* memory) { memory_ = memory; }

  // The counts since the last call (or since the stage was made), then zero.
  WriteCounts take_counts() {
    const WriteCounts counts = counts_;
    counts_ = {};
    return counts;
  }

 private:
  void erase_range(std::string_view from, std::string_view to) {
    if (from < to) entries.erase(entries.lower_bound(from), entries.lower_bound(to));
  }

  WriteCounts counts_;
  StateMemory* memory_ = nullptr;
  bool defer_ = false;
  std::vector<std::pair<std::string, std::optional<std::string>>> pending_;  // value or removal
  std::vector<std::pair<std::string, std::string>> pending_ranges_;         // applied first, as a store does
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
