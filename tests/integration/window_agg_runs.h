// What the integration tests that run window_agg as a child process share:
// seeded card events (tests/support/card_events.h), the command line, and
// reading its output back.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/card_events.h"
#include "tests/support/child_process.h"
#include "tests/support/test_cluster.h"

namespace kappa::testing {

// window_agg's command line over card events (key card, event time ts, value
// amount) with `window` and `aggregates`, then `more`.
inline std::vector<std::string> window_agg_command(const std::string& window, const std::string& aggregates,
                                                   const std::vector<std::string>& more = {}) {
  std::vector<std::string> argv{KAPPA_WINDOW_AGG_PATH, "--key", "card",   "--time", "ts",
                                "--value",             "amount", "--window", window, "--agg", aggregates};
  argv.insert(argv.end(), more.begin(), more.end());
  return argv;
}

// Starts `argv` as a child process; a failure to start fails the test.
inline std::unique_ptr<ChildProcess> spawn_job(const std::vector<std::string>& argv) {
  Result<std::unique_ptr<ChildProcess>> job = ChildProcess::spawn(argv);
  if (!job.is_ok()) throw std::runtime_error(job.status().to_string());
  return std::move(job).value();
}

// window_agg with hopping 10s/5s windows over the events' amounts; the
// out-of-orderness is larger than their disorder, so no event is late.
inline std::unique_ptr<ChildProcess> spawn_window_agg(const std::vector<std::string>& args) {
  std::vector<std::string> more{"--out-of-orderness", "5s"};
  more.insert(more.end(), args.begin(), args.end());
  return spawn_job(window_agg_command("hopping:10s/5s", "count,sum,mean,min,max,distinct:merchant", more));
}

// window_agg's output lines by (card, window_start): its fields are written
// in a fixed order, so equal results are equal lines. A window emitted
// twice is a test failure.
inline std::map<std::string, std::string> by_window(const std::vector<std::string>& lines) {
  std::map<std::string, std::string> results;
  for (const std::string& line : lines) {
    const auto start_end = line.find(",\"window_end\"");
    EXPECT_NE(line.find("\",\"window_start\":"), std::string::npos) << line;
    EXPECT_NE(start_end, std::string::npos) << line;
    const std::string id = line.substr(0, start_end);  // {"card":"...","window_start":N
    EXPECT_TRUE(results.emplace(id, line).second) << "window emitted twice: " << line;
  }
  return results;
}

// Every record of `topic`, checked to be all that was written to it, as
// window_agg results by window; each record's key must be its card.
inline std::map<std::string, std::string> read_windows(TestCluster& cluster, const std::string& topic) {
  Result<int64_t> written = cluster.count(topic);
  EXPECT_TRUE(written.is_ok()) << written.status().to_string();
  auto records = cluster.read_all(topic);
  EXPECT_TRUE(records.is_ok()) << records.status().to_string();
  if (!written.is_ok() || !records.is_ok()) return {};
  EXPECT_EQ(static_cast<int64_t>(records->size()), *written) << "every record written to " << topic << " is read back";
  std::vector<std::string> lines;
  for (const ConsumedRecord& r : *records) {
    lines.push_back(r.value);
    EXPECT_EQ(r.value.find("{\"card\":\"" + r.key + "\""), 0u) << "the record key is the card: " << r.value;
  }
  return by_window(lines);
}

// Waits until the record count of `topic`, a live job's output, is above 0
// and has not changed for 3 s, then stops the job with SIGTERM and expects
// it to exit 0. A job that exits before is a test failure.
inline void stop_when_settled(TestCluster& cluster, const std::string& topic, ChildProcess& job) {
  int64_t last_count = -1;
  for (int stable = 0; stable < 3;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    Result<int64_t> count = cluster.count(topic);
    ASSERT_TRUE(count.is_ok()) << count.status().to_string();
    stable = (*count == last_count && *count > 0) ? stable + 1 : 0;
    last_count = *count;
    ASSERT_TRUE(job.running()) << job.output();
  }
  job.signal(SIGTERM);
  std::optional<int> code = job.wait(std::chrono::seconds(60));
  ASSERT_TRUE(code.has_value()) << "no exit within 60 s of SIGTERM";
  EXPECT_EQ(*code, 0) << job.output();
}

// The records a job read, from the summary line it logs when it stops
// ("window_agg: N records in, ..."); -1 if there is none.
inline int64_t records_in(const std::string& job_output) {
  static const std::regex summary(R"(: (\d+) records in, )");
  std::smatch match;
  if (!std::regex_search(job_output, match, summary)) return -1;
  return std::stoll(match[1]);
}

}  // namespace kappa::testing
