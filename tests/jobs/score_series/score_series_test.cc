// End to end: the built score_series executable on generated CSV series with
// injected spikes, on malformed lines and on bad flags.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "operators/anomaly/random.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace kappa::score_series {
namespace {

using ::testing::HasSubstr;

using kappa::testing::ProgramRun;

// A test's files, in a folder of their own.
struct TempDir : kappa::testing::TempDir {
  TempDir() : kappa::testing::TempDir("score_series_test") {}
};

ProgramRun run_score_series(const std::vector<std::string>& args) {
  std::vector<std::string> argv{KAPPA_SCORE_SERIES_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  Result<ProgramRun> run = kappa::testing::run_to_exit(argv, std::chrono::seconds(30));
  EXPECT_TRUE(run.is_ok()) << run.status().message();
  return run.is_ok() ? *run : ProgramRun{};
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1) {
    fields.push_back(line.substr(start, comma - start));
  }
  fields.push_back(line.substr(start));
  return fields;
}

constexpr int kPoints = 600;
const std::vector<int> kSpikes = {150, 350, 550};

// One point a minute from 2026-11-21T00:00:00Z (epoch ms 1795219200000),
// values 100 ± 2, and a spike of 160.5 at each index of kSpikes.
struct Series {
  std::vector<std::string> iso_lines;
  std::vector<std::string> epoch_lines;
};

Series make_series() {
  anomaly::SplitMix64 rng(2024);
  Series s;
  for (int i = 0; i < kPoints; ++i) {
    char value[32];
    const bool spike = std::find(kSpikes.begin(), kSpikes.end(), i) != kSpikes.end();
    std::snprintf(value, sizeof value, "%.3f", spike ? 160.5 : 98 + 4 * rng.uniform());
    char iso[32];
    std::snprintf(iso, sizeof iso, "2026-11-21T%02d:%02d:00Z", i / 60, i % 60);
    s.iso_lines.push_back(std::string(iso) + "," + value);
    s.epoch_lines.push_back(std::to_string(1'795'219'200'000 + int64_t{i} * 60'000) + "," + value);
  }
  return s;
}

struct Scores {
  std::vector<double> score;
  std::vector<int> alarms;  // indices of the rows that alarmed
};

// Checks the output against the input lines and returns its scores.
Scores check_output(const std::vector<std::string>& output, const std::vector<std::string>& input) {
  Scores scores;
  EXPECT_EQ(output.size(), input.size() + 1);
  if (output.size() != input.size() + 1) return scores;
  EXPECT_EQ(output[0], "timestamp,value,score,alarm");
  for (std::size_t i = 0; i < input.size(); ++i) {
    const std::vector<std::string> fields = split(output[i + 1]);
    EXPECT_EQ(fields.size(), 4u) << output[i + 1];
    if (fields.size() != 4) return scores;
    EXPECT_EQ(fields[0] + "," + fields[1], input[i]);  // as it was read
    scores.score.push_back(std::stod(fields[2]));
    EXPECT_THAT(fields[3], ::testing::AnyOf("0", "1"));
    if (fields[3] == "1") scores.alarms.push_back(static_cast<int>(i));
  }
  return scores;
}

// The indices of the `n` highest scores, in increasing order.
std::vector<int> top(const std::vector<double>& scores, std::size_t n) {
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  order.resize(std::min(n, order.size()));
  std::sort(order.begin(), order.end());
  return order;
}

TEST(ScoreSeriesTest, ZScoreSpikesGetTheHighestScoresAndAlarms) {
  TempDir dir;
  std::vector<std::string> lines = make_series().iso_lines;
  lines.insert(lines.begin(), "timestamp,value");
  const std::string input = dir.write("series.csv", lines);
  lines.erase(lines.begin());
  const ProgramRun run = run_score_series({"--input", input, "--output", dir.path("scores.csv"), "--detector", "zscore",
                                       "--threshold", "0.9", "--quiet-period", "10m"});
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_THAT(run.log, HasSubstr("600 points scored, 3 alarms"));
  const Scores scores = check_output(dir.read("scores.csv"), lines);
  EXPECT_EQ(top(scores.score, kSpikes.size()), kSpikes);
  EXPECT_EQ(scores.alarms, kSpikes);
}

TEST(ScoreSeriesTest, HalfSpaceTreesSpikesGetTheHighestScoresAndAlarms) {
  TempDir dir;
  std::vector<std::string> lines = make_series().iso_lines;
  const std::string input = dir.write("series.csv", lines);
  // No --min/--max: the range comes from the first 100 values (no spike there).
  const ProgramRun run = run_score_series({"--input", input, "--output", dir.path("scores.csv"), "--detector", "hst",
                                       "--window-size", "100", "--height", "4", "--seed", "3", "--threshold", "0.9"});
  ASSERT_EQ(run.exit_code, 0) << run.log;
  const Scores scores = check_output(dir.read("scores.csv"), lines);
  EXPECT_EQ(top(scores.score, kSpikes.size()), kSpikes);
  EXPECT_EQ(scores.alarms, kSpikes);
}

TEST(ScoreSeriesTest, EpochMillisecondsGiveTheSameScoresAsIsoTimes) {
  TempDir dir;
  const Series series = make_series();
  const std::vector<std::string> flags = {"--detector", "zscore", "--quiet-period", "1h"};
  auto scores_of = [&](const std::vector<std::string>& lines, const std::string& name) {
    std::vector<std::string> args = {"--input", dir.write(name + ".csv", lines), "--output", dir.path(name + ".out")};
    args.insert(args.end(), flags.begin(), flags.end());
    const ProgramRun run = run_score_series(args);
    EXPECT_EQ(run.exit_code, 0) << run.log;
    return check_output(dir.read(name + ".out"), lines);
  };
  const Scores iso = scores_of(series.iso_lines, "iso");
  const Scores epoch = scores_of(series.epoch_lines, "epoch");
  EXPECT_EQ(epoch.score, iso.score);
  EXPECT_EQ(epoch.alarms, iso.alarms);
  EXPECT_FALSE(epoch.alarms.empty());
}

TEST(ScoreSeriesTest, AMalformedLineIsReportedWithItsNumber) {
  TempDir dir;
  const std::string input = dir.write("series.csv", {"timestamp,value", "1000,1", "2000,2", "", "3000,abc", "4000,4"});
  const ProgramRun run = run_score_series({"--input", input, "--output", dir.path("out.csv"), "--detector", "zscore"});
  EXPECT_EQ(run.exit_code, 1) << run.log;
  EXPECT_THAT(run.log, HasSubstr("score_series: line 5: value 'abc' is not a number"));

  const std::string bad_time = dir.write("bad_time.csv", {"1000,1", "yesterday,2"});
  const ProgramRun time_run = run_score_series({"--input", bad_time, "--output", dir.path("out.csv"), "--detector", "hst"});
  EXPECT_EQ(time_run.exit_code, 1) << time_run.log;
  EXPECT_THAT(time_run.log, HasSubstr("line 2: timestamp 'yesterday' is neither epoch milliseconds nor an ISO-8601"));
}

TEST(ScoreSeriesTest, OnErrorSkipSkipsAndCountsMalformedLines) {
  TempDir dir;
  const std::string input = dir.write("series.csv", {"1000,1", "2000", "3000,3,x", "4000,4"});
  const ProgramRun run = run_score_series(
      {"--input", input, "--output", dir.path("out.csv"), "--detector", "zscore", "--on-error", "skip"});
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_THAT(run.log, HasSubstr("skipped 2 malformed line(s); the first: line 2: expected 'timestamp,value'"));
  check_output(dir.read("out.csv"), {"1000,1", "4000,4"});
}

TEST(ScoreSeriesTest, BadFlagsExitWithCodeTwoAndOneLine) {
  TempDir dir;
  const std::string input = dir.write("series.csv", {"1000,1"});
  const std::vector<std::string> io = {"--input", input, "--output", dir.path("out.csv")};
  auto run_with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = io;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_score_series(args);
  };
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--detector", "iforest"}, "--detector"},
      {{"--detector", "zscore", "--trees", "5"}, "--trees applies to --detector hst only"},
      {{"--detector", "hst", "--half-life", "5"}, "--half-life applies to --detector zscore only"},
      {{"--detector", "zscore", "--quiet-period", "10x"}, "--quiet-period: '10x' is not a duration"},
      {{"--detector", "zscore", "--threshold", "2"}, "threshold must be in [0, 1]"},
      {{"--detector", "zscore", "--warmup", "1"}, "warmup must be >= 2"},
      {{"--detector", "hst", "--min", "5"}, "--min and --max go together"},
      {{"--detector", "hst", "--min", "5", "--max", "1"}, "--min must be less than --max"},
      {{"--detector", "hst", "--height", "40"}, "height must be in [1, 20]"},
      {{"--detector", "zscore", "--no-such-flag"}, "no-such-flag"},
  };
  for (const Case& c : cases) {
    const ProgramRun run = run_with(c.flags);
    EXPECT_EQ(run.exit_code, 2) << run.log;
    EXPECT_THAT(run.log, HasSubstr(c.message));
    EXPECT_EQ(std::count(run.log.begin(), run.log.end(), '\n'), 1) << run.log;
  }
}

TEST(ScoreSeriesTest, AMissingInputFileExitsWithCodeOne) {
  TempDir dir;
  const ProgramRun run =
      run_score_series({"--input", dir.path("nowhere.csv"), "--output", dir.path("out.csv"), "--detector", "zscore"});
  EXPECT_EQ(run.exit_code, 1) << run.log;
  EXPECT_THAT(run.log, HasSubstr("cannot open --input '" + dir.path("nowhere.csv") + "'"));
  EXPECT_EQ(std::count(run.log.begin(), run.log.end(), '\n'), 1) << run.log;
}

TEST(ScoreSeriesTest, ADashWritesToStdout) {
  TempDir dir;
  const std::string input = dir.write("series.csv", {"1000,1", "2000,2"});
  const ProgramRun run = run_score_series({"--input", input, "--output", "-", "--detector", "zscore"});
  EXPECT_EQ(run.exit_code, 0) << run.log;
  EXPECT_THAT(run.log, HasSubstr("timestamp,value,score,alarm\n1000,1,0,0\n2000,2,0,0\n"));
}

}  // namespace
}  // namespace kappa::score_series
