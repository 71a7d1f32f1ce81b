// End to end: the window_agg executable on generated JSON-lines files, its
// output compared with aggregates computed here by brute force, for every
// window kind. The window semantics are those of operators/window (tested
// there against a reference on their own); these tests check the wiring:
// fields read, times parsed, aggregates chosen, results written.
#include <gtest/gtest.h>

#include <map>
#include <utility>

#include "tests/jobs/window_agg/job_harness.h"

namespace kappa::window_agg::testing {
namespace {

constexpr int64_t kOutOfOrderness = 2000;

int64_t floor_to(int64_t t, int64_t step) { return (t >= 0 ? t / step : (t - step + 1) / step) * step; }

std::vector<std::string> common_flags(const JobFiles& files, const std::string& window) {
  return {"--input",
          "file:" + files.path("in.jsonl"),
          "--output",
          "file:" + files.path("out.jsonl"),
          "--key",
          "card",
          "--time",
          "ts",
          "--value",
          "amount",
          "--window",
          window,
          "--agg",
          kAllAggregates,
          "--out-of-orderness",
          std::to_string(kOutOfOrderness) + "ms"};
}

// Runs a tumbling or hopping window and checks every result against the
// events of its key and window.
void check_sliced_windows(int64_t size, int64_t slide, int64_t offset, const std::string& window, uint32_t seed) {
  JobFiles files;
  const std::vector<Event> events = make_events(600, 5, kOutOfOrderness, seed);
  files.write("in.jsonl", lines_of(events));
  const JobRun run = run_window_agg(common_flags(files, window));
  ASSERT_EQ(run.exit_code, 0) << run.log;

  std::map<std::pair<std::string, int64_t>, Reference> expected;  // (key, window start) -> aggregates
  for (const Event& e : events) {
    for (int64_t start = floor_to(e.time - offset, slide) + offset; start > e.time - size; start -= slide) {
      expected[{e.key, start}].add(e);
    }
  }
  std::set<std::pair<std::string, int64_t>> seen;
  const std::vector<std::string> lines = files.read("out.jsonl");
  for (const std::string& line : lines) {
    const rapidjson::Document out = parse_line(line);
    ASSERT_TRUE(out["card"].IsString()) << line;  // numeric keys are written as strings
    const std::pair<std::string, int64_t> id{out["card"].GetString(), out["window_start"].GetInt64()};
    EXPECT_EQ(out["window_end"].GetInt64(), id.second + size) << line;
    EXPECT_FALSE(out.HasMember("final")) << line;  // only in updates mode
    EXPECT_TRUE(seen.insert(id).second) << "two results for " << line;
    auto it = expected.find(id);
    ASSERT_NE(it, expected.end()) << "a window with no events: " << line;
    expect_aggregates(out, it->second, line);
  }
  EXPECT_EQ(seen.size(), expected.size());
  EXPECT_GT(expected.size(), 50u);
}

TEST(WindowAggJob, Tumbling) { check_sliced_windows(10'000, 10'000, 0, "tumbling:10s", 1); }

TEST(WindowAggJob, TumblingWithOffset) { check_sliced_windows(10'000, 10'000, 3'000, "tumbling:10s+3s", 2); }

TEST(WindowAggJob, Hopping) { check_sliced_windows(10'000, 4'000, 0, "hopping:10s/4s", 3); }

// Rolling: one result per event, carrying the event's own fields, over the
// key's events in (t - delay - size, t - delay]; with no delay, events at t
// count up to the event itself in input order.
void check_rolling(int64_t size, int64_t delay, const std::string& window) {
  JobFiles files;
  const std::vector<Event> events = make_events(500, 4, kOutOfOrderness, 4);
  files.write("in.jsonl", lines_of(events));
  const JobRun run = run_window_agg(common_flags(files, window));
  ASSERT_EQ(run.exit_code, 0) << run.log;

  const std::vector<std::string> lines = files.read("out.jsonl");
  ASSERT_EQ(lines.size(), events.size());
  std::set<int> seen;
  for (const std::string& line : lines) {
    const rapidjson::Document out = parse_line(line);
    const int id = out["id"].GetInt();
    ASSERT_TRUE(id >= 0 && id < static_cast<int>(events.size())) << line;
    EXPECT_TRUE(seen.insert(id).second) << "two results for " << line;
    const Event& trigger = events[id];

    // Every field of the event, as it was written, then the aggregates.
    const rapidjson::Document in = parse_line(trigger.line);
    EXPECT_EQ(out.MemberCount(), in.MemberCount() + 9) << line;
    for (const auto& member : in.GetObject()) {
      ASSERT_TRUE(out.HasMember(member.name)) << member.name.GetString() << " missing in " << line;
      EXPECT_TRUE(out[member.name] == member.value) << member.name.GetString() << " differs in " << line;
    }

    Reference ref;
    const Timestamp upper = trigger.time - delay;
    for (const Event& e : events) {
      if (e.key != trigger.key || e.time <= upper - size || e.time > upper) continue;
      if (delay == 0 && e.time == upper && e.id > trigger.id) continue;
      ref.add(e);
    }
    expect_aggregates(out, ref, line);
  }
}

TEST(WindowAggJob, Rolling) { check_rolling(3'000, 0, "rolling:3s"); }

TEST(WindowAggJob, RollingWithDelay) { check_rolling(3'000, 1'000, "rolling:3s/1s"); }

// None: a running aggregate per key, one result per event in input order.
TEST(WindowAggJob, NoneIsARunningAggregatePerKey) {
  JobFiles files;
  const std::vector<Event> events = make_events(300, 4, kOutOfOrderness, 5);
  files.write("in.jsonl", lines_of(events));
  const JobRun run = run_window_agg(common_flags(files, "none"));
  ASSERT_EQ(run.exit_code, 0) << run.log;

  const std::vector<std::string> lines = files.read("out.jsonl");
  ASSERT_EQ(lines.size(), events.size());
  std::map<std::string, Reference> running;
  for (std::size_t i = 0; i < events.size(); ++i) {
    running[events[i].key].add(events[i]);
    const rapidjson::Document out = parse_line(lines[i]);
    EXPECT_EQ(out.MemberCount(), 10u) << lines[i];  // the key and nine aggregates
    EXPECT_EQ(std::string(out["card"].GetString()), events[i].key) << lines[i];
    expect_aggregates(out, running[events[i].key], lines[i]);
  }
}

TEST(WindowAggJob, NoneWithTtlStartsOverAfterAQuietPeriod) {
  JobFiles files;
  files.write("in.jsonl", {R"({"card":"a","ts":0})", R"({"card":"a","ts":4000})", R"({"card":"b","ts":9000})",
                           R"({"card":"a","ts":9500})", R"({"card":"a","ts":20000})", R"({"card":"a","ts":24000})"});
  const JobRun run =
      run_window_agg({"--input", "file:" + files.path("in.jsonl"), "--output", "file:" + files.path("out.jsonl"),
                      "--key", "card", "--time", "ts", "--window", "none", "--agg", "count", "--ttl", "5s"});
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_EQ(files.read("out.jsonl"),
            (std::vector<std::string>{R"({"card":"a","count":1})", R"({"card":"a","count":2})",
                                      R"({"card":"b","count":1})", R"({"card":"a","count":1})",
                                      R"({"card":"a","count":1})", R"({"card":"a","count":2})"}));
}

// Updates mode: a result after every event, marked not final, then the
// final one, which equals what final mode writes.
TEST(WindowAggJob, EmitUpdates) {
  JobFiles files;
  const std::vector<Event> events = make_events(300, 3, kOutOfOrderness, 6);
  files.write("in.jsonl", lines_of(events));
  std::vector<std::string> flags = common_flags(files, "tumbling:5s");
  flags.insert(flags.end(), {"--emit", "updates"});
  const JobRun run = run_window_agg(flags);
  ASSERT_EQ(run.exit_code, 0) << run.log;

  std::map<std::pair<std::string, int64_t>, Reference> expected;
  for (const Event& e : events) expected[{e.key, floor_to(e.time, 5'000)}].add(e);
  std::map<std::pair<std::string, int64_t>, int64_t> updates;
  std::set<std::pair<std::string, int64_t>> finals;
  for (const std::string& line : files.read("out.jsonl")) {
    const rapidjson::Document out = parse_line(line);
    const std::pair<std::string, int64_t> id{out["card"].GetString(), out["window_start"].GetInt64()};
    ASSERT_TRUE(out["final"].IsBool()) << line;
    ASSERT_TRUE(expected.count(id)) << line;
    if (out["final"].GetBool()) {
      EXPECT_TRUE(finals.insert(id).second) << "two final results for " << line;
      expect_aggregates(out, expected[id], line);
    } else {
      EXPECT_FALSE(finals.count(id)) << "an update after the final result: " << line;
      EXPECT_EQ(out["count"].GetInt64(), ++updates[id]) << line;
    }
  }
  EXPECT_EQ(finals.size(), expected.size());
  for (const auto& [id, ref] : expected) EXPECT_EQ(updates[id], ref.count) << id.first << " " << id.second;
}

}  // namespace
}  // namespace kappa::window_agg::testing
