// What the state tests share: a fresh directory per test, reading a store's
// whole content, comparing it with checkpoint_steps.h, capturing warnings,
// and finding and damaging checkpoint files.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "state/checkpoint_store.h"
#include "tests/state/checkpoint_steps.h"

namespace kappa::state_test {

// A fresh directory, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/kappa-state-test-XXXXXX";
    KAPPA_CHECK(::mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Every entry of `partitions` x `stages`, through TaskState::reader; keys
// must come in ascending order. Empty task-stage pairs are left out.
inline Contents read_contents(CheckpointStore& store, const std::vector<PartitionId>& partitions = kStepPartitions,
                              const std::vector<std::size_t>& stages = kStepStages) {
  Contents contents;
  for (const PartitionId& p : partitions) {
    for (const std::size_t stage : stages) {
      Entries entries;
      std::string previous;
      bool first = true;
      const Status scanned = store.task(p).reader(stage).scan([&](std::string_view key, std::string_view value) {
        EXPECT_TRUE(first || std::string(key) > previous) << "keys out of order in " << p.to_string();
        first = false;
        previous = std::string(key);
        entries.emplace(key, value);
        return Status::ok();
      });
      EXPECT_TRUE(scanned.is_ok()) << scanned.to_string();
      if (!entries.empty()) contents[{p, stage}] = std::move(entries);
    }
  }
  return contents;
}

inline std::map<PartitionId, int64_t> offsets_of(const CheckpointStore& store) {
  std::map<PartitionId, int64_t> offsets;
  for (const PartitionPosition& p : store.positions()) offsets[p.partition] = p.next_offset;
  return offsets;
}

// The store holds exactly what steps 1..step committed: entries, offsets, watermarks.
inline void expect_step(CheckpointStore& store, int step) {
  const Expected expected = expected_after(step);
  EXPECT_TRUE(read_contents(store) == expected.contents) << "entries differ from those after step " << step;
  EXPECT_EQ(offsets_of(store), expected.offsets) << "offsets differ from those after step " << step;
  EXPECT_EQ(store.watermarks(), expected.watermarks) << "watermarks differ from those after step " << step;
}

inline std::unique_ptr<CheckpointStore> open_ok(const std::string& dir, const std::string& job = "job",
                                                const StoreOptions& options = {}) {
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(dir, job, options);
  EXPECT_TRUE(store.is_ok()) << store.status().to_string();
  return store.is_ok() ? std::move(store).value() : nullptr;
}

// Commits steps first..last, reopening the store before each.
inline void commit_steps(const std::string& dir, int first, int last) {
  for (int step = first; step <= last; ++step) {
    std::unique_ptr<CheckpointStore> store = open_ok(dir);
    ASSERT_NE(store, nullptr);
    Result<CheckpointInfo> info = commit_step(*store, step);
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  }
}

// The names in `dir`, sorted.
inline std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

inline std::vector<std::string> checkpoint_dirs(const std::string& state_dir) {
  std::vector<std::string> dirs;
  for (const std::string& name : names_in(state_dir)) {
    if (name.starts_with("chk-")) dirs.push_back(name);
  }
  return dirs;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// While alive, what the default spdlog logger says goes into text().
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string text() const { return stream_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

}  // namespace kappa::state_test
