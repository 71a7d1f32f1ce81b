// End to end: what window_agg does with bad records (--on-error fail and
// skip), late records (--late-output) and bad flags (exit 2, one line).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/jobs/window_agg/job_harness.h"

namespace kappa::window_agg::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::vector<std::string> flags(const JobFiles& files, std::vector<std::string> extra) {
  std::vector<std::string> args{"--input",  "file:" + files.path("in.jsonl"),
                                "--output", "file:" + files.path("out.jsonl"),
                                "--key",    "card",
                                "--time",   "ts",
                                "--value",  "amount"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::string> sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(WindowAggErrors, ABadRecordStopsTheJobNamingItsOffset) {
  JobFiles files;
  files.write("in.jsonl", {R"({"card":"a","ts":1000,"amount":1})", R"({"card":"a","ts":2000,"amount":2})",
                           R"({"ts":3000,"amount":3})", R"({"card":"a","ts":4000,"amount":4})"});
  const JobRun run = run_window_agg(flags(files, {"--window", "tumbling:10s", "--agg", "count,sum"}));
  EXPECT_EQ(run.exit_code, 1) << run.log;
  EXPECT_THAT(run.log, AllOf(HasSubstr("offset 2 made the job's code throw: field 'card' is missing"),
                             HasSubstr("--on-error skip")));
}

TEST(WindowAggErrors, InvalidJsonStopsTheJobNamingItsOffset) {
  JobFiles files;
  files.write("in.jsonl", {R"({"card":"a","ts":1000,"amount":1})", R"({"card":"a","ts":2000,"amount":)"});
  const JobRun run = run_window_agg(flags(files, {"--window", "rolling:1m", "--agg", "count"}));
  EXPECT_EQ(run.exit_code, 1) << run.log;
  EXPECT_THAT(run.log, HasSubstr("offset 1 does not decode: invalid JSON at byte 31"));
}

TEST(WindowAggErrors, SkippedRecordsAreCountedAndTheRestProcessed) {
  JobFiles files;
  files.write("in.jsonl", {R"({"card":"a","ts":1000,"amount":1})",
                           R"({"ts":1500,"amount":100})",  // no key
                           R"({"card":"a","ts":2000,"amount":2})",
                           R"({"card":"a","ts":{"ms":2500},"amount":100})",  // time of the wrong type
                           R"(not json)",                                    // does not decode
                           R"({"card":"a","ts":"yesterday","amount":100})",  // not an ISO-8601 time
                           R"({"card":["a"],"ts":2600,"amount":100})",       // key of the wrong type
                           R"({"card":"b","ts":"1970-01-01T00:00:03Z","amount":5})",
                           R"({"card":"a","ts":12000,"amount":"4"})"});  // no value: counted, not summed
  const JobRun run =
      run_window_agg(flags(files, {"--window", "tumbling:10s", "--agg", "count,sum,mean", "--on-error", "skip"}));
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_THAT(run.log, AllOf(HasSubstr("9 records in, 3 out, 5 skipped"), HasSubstr("field 'card' is missing")));
  EXPECT_EQ(sorted(files.read("out.jsonl")),
            sorted({R"({"card":"a","window_start":0,"window_end":10000,"count":2,"sum":3,"mean":1.5})",
                    R"({"card":"b","window_start":0,"window_end":10000,"count":1,"sum":5,"mean":5})",
                    R"({"card":"a","window_start":10000,"window_end":20000,"count":1,"sum":0,"mean":null})"}));
}

TEST(WindowAggErrors, LateRecordsGoToTheLateOutputAsTheyCame) {
  JobFiles files;
  const std::string late_a = R"({"card":"a", "ts":2000, "amount":7, "note":"late"})";
  const std::string late_b = R"({"card":"b","ts":"1970-01-01T00:00:03.000Z","amount":8})";
  files.write("in.jsonl", {R"({"card":"a","ts":1000,"amount":1})", R"({"card":"a","ts":15000,"amount":2})", late_a,
                           late_b, R"({"card":"a","ts":16000,"amount":3})"});
  const JobRun run = run_window_agg(flags(
      files, {"--window", "tumbling:10s", "--agg", "count,sum", "--late-output", "file:" + files.path("late.jsonl")}));
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_THAT(run.log, HasSubstr("2 late"));
  EXPECT_EQ(files.read("late.jsonl"), (std::vector<std::string>{late_a, late_b}));
  EXPECT_EQ(files.read("out.jsonl"),
            (std::vector<std::string>{R"({"card":"a","window_start":0,"window_end":10000,"count":1,"sum":1})",
                                      R"({"card":"a","window_start":10000,"window_end":20000,"count":2,"sum":5})"}));
}

TEST(WindowAggErrors, AllowedLatenessUpdatesAFiredWindow) {
  JobFiles files;
  files.write("in.jsonl", {R"({"card":"a","ts":1000,"amount":1})", R"({"card":"a","ts":15000,"amount":2})",
                           R"({"card":"a","ts":2000,"amount":7})", R"({"card":"a","ts":21000,"amount":3})",
                           R"({"card":"a","ts":3000,"amount":9})"});
  const JobRun run = run_window_agg(flags(files, {"--window", "tumbling:10s", "--agg", "count,sum", "--lateness", "10s",
                                                  "--late-output", "file:" + files.path("late.jsonl")}));
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_EQ(files.read("late.jsonl"), (std::vector<std::string>{R"({"card":"a","ts":3000,"amount":9})"}));
  EXPECT_EQ(files.read("out.jsonl"),
            (std::vector<std::string>{R"({"card":"a","window_start":0,"window_end":10000,"count":1,"sum":1})",
                                      R"({"card":"a","window_start":0,"window_end":10000,"count":2,"sum":8})",
                                      R"({"card":"a","window_start":10000,"window_end":20000,"count":1,"sum":2})",
                                      R"({"card":"a","window_start":20000,"window_end":30000,"count":1,"sum":3})"}));
}

TEST(WindowAggErrors, RollingLateRecordsGoToTheLateOutput) {
  JobFiles files;
  const std::string late = R"({"card":"a","ts":2000,"amount":5})";
  files.write("in.jsonl", {R"({"card":"a","ts":1000,"amount":1})", R"({"card":"a","ts":3000,"amount":2})", late});
  const JobRun run = run_window_agg(flags(
      files, {"--window", "rolling:5s", "--agg", "count,sum", "--late-output", "file:" + files.path("late.jsonl")}));
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_EQ(files.read("late.jsonl"), (std::vector<std::string>{late}));
  EXPECT_EQ(files.read("out.jsonl"),
            (std::vector<std::string>{R"({"card":"a","ts":1000,"amount":1,"count":1,"sum":1})",
                                      R"({"card":"a","ts":3000,"amount":2,"count":2,"sum":3})"}));
}

TEST(WindowAggErrors, WithoutTimeTheRecordTimestampIsUsed) {
  JobFiles files;
  files.write("in.jsonl", {R"({"card":"a","amount":1})", R"({"card":"a","amount":2})"});
  const JobRun run =
      run_window_agg({"--input", "file:" + files.path("in.jsonl"), "--output", "file:" + files.path("out.jsonl"),
                      "--key", "card", "--value", "amount", "--window", "tumbling:1m", "--agg", "count,sum"});
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_THAT(run.log, HasSubstr("warning: no --time with a file input"));
  EXPECT_EQ(files.read("out.jsonl"),
            (std::vector<std::string>{R"({"card":"a","window_start":0,"window_end":60000,"count":2,"sum":3})"}));
}

// A usage error: exit code 2 and one line naming the flag.
void expect_usage_error(const std::vector<std::string>& extra, const std::string& message) {
  JobFiles files;
  files.write("in.jsonl", {});
  const JobRun run = run_window_agg(flags(files, extra));
  EXPECT_EQ(run.exit_code, 2) << run.log;
  EXPECT_THAT(run.log, ::testing::StartsWith("window_agg: " + message));
  EXPECT_EQ(std::count(run.log.begin(), run.log.end(), '\n'), 1) << run.log;
}

TEST(WindowAggErrors, BadFlagsExitWithTwoAndOneLine) {
  expect_usage_error({"--window", "tumbling:abc", "--agg", "count"},
                     "--window 'tumbling:abc': 'abc' is not a duration");
  expect_usage_error({"--window", "tumbling:1m", "--agg", "median"}, "--agg 'median': 'median' is not an aggregate");
  expect_usage_error({"--window", "rolling:1h", "--agg", "count", "--emit", "updates"},
                     "--emit updates applies to tumbling and hopping windows only");
  expect_usage_error({"--window", "none", "--agg", "count", "--lateness", "1m"},
                     "--lateness applies to tumbling and hopping windows only");
  expect_usage_error({"--window", "hopping:1m/10s", "--agg", "count", "--ttl", "1h"},
                     "--ttl applies to --window none only");
  expect_usage_error({"--agg", "count"}, "--window is required");
  expect_usage_error({"--window", "tumbling:1m", "--agg", "count", "--input-format", "protobuf"},
                     "--input-format and --output-format can only be json");
}

TEST(WindowAggErrors, SumWithoutValueIsAUsageError) {
  JobFiles files;
  const JobRun run =
      run_window_agg({"--input", "file:" + files.path("in.jsonl"), "--output", "file:" + files.path("out.jsonl"),
                      "--key", "card", "--window", "tumbling:1m", "--agg", "count,sum"});
  EXPECT_EQ(run.exit_code, 2) << run.log;
  EXPECT_EQ(run.log, "window_agg: --agg sum needs --value FIELD, the number field it aggregates\n");
}

TEST(WindowAggErrors, HelpExplainsTheFormats) {
  const JobRun run = run_window_agg({"--help"});
  EXPECT_EQ(run.exit_code, 0) << run.log;
  EXPECT_THAT(run.log, AllOf(HasSubstr("tumbling:SIZE[+OFFSET]"), HasSubstr("hopping:SIZE/SLIDE"),
                             HasSubstr("rolling:SIZE[/DELAY]"), HasSubstr("distinct:FIELD"), HasSubstr("ISO-8601"),
                             HasSubstr("--out-of-orderness"), HasSubstr("--on-error"), HasSubstr("--ttl")));
}

}  // namespace
}  // namespace kappa::window_agg::testing
