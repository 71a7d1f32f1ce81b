// Runs the built window_agg executable as a child process on JSON-lines
// files in a fresh temporary folder, and generates random event streams with
// a brute-force reference of their aggregates, for the end-to-end tests.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "runtime/record.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace kappa::window_agg::testing {

// A test's input and output files, in a folder of their own.
struct JobFiles : kappa::testing::TempDir {
  JobFiles() : kappa::testing::TempDir("window_agg_test") {}
};

using JobRun = kappa::testing::ProgramRun;

// Runs window_agg with `args` and waits for it to exit.
inline JobRun run_window_agg(const std::vector<std::string>& args) {
  std::vector<std::string> argv{KAPPA_WINDOW_AGG_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  Result<JobRun> run = kappa::testing::run_to_exit(argv, std::chrono::seconds(60));
  EXPECT_TRUE(run.is_ok()) << run.status().message();
  return run.is_ok() ? *run : JobRun{};
}

// Parses one output line; a line that is not a JSON object fails the test.
inline rapidjson::Document parse_line(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  EXPECT_FALSE(doc.HasParseError()) << line;
  EXPECT_TRUE(doc.IsObject()) << line;
  return doc;
}

// One generated event and the JSON line that carries it.
struct Event {
  int id = 0;
  std::string key;  // as the job groups it (a numeric key as its text)
  Timestamp time = 0;
  std::optional<double> amount;  // nullopt: missing, or not a number
  std::string merchant;
  std::string line;
};

// ISO-8601 text of `t` as seen in a zone `zone_minutes` east of UTC.
inline std::string iso_time(Timestamp t, int zone_minutes) {
  const Timestamp local = t + int64_t{zone_minutes} * 60'000;
  const std::time_t seconds = static_cast<std::time_t>(std::floor(static_cast<double>(local) / 1000.0));
  const int millis = static_cast<int>(local - int64_t{seconds} * 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char zone[8] = "Z";
  if (zone_minutes != 0) {
    std::snprintf(zone, sizeof zone, "%c%02d:%02d", zone_minutes < 0 ? '-' : '+', std::abs(zone_minutes) / 60,
                  std::abs(zone_minutes) % 60);
  }
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, millis, zone);
  return text;
}

// `count` events over `keys` keys (the last one written as a JSON number),
// their times moving forward by up to 400 ms and arriving up to
// `out_of_orderness` behind the latest time so far, so none is late. About a
// third carry ISO-8601 times (some with a zone offset); amounts are whole or
// halves (exact sums), missing or a string for about one in eight.
inline std::vector<Event> make_events(int count, int keys, int64_t out_of_orderness, uint32_t seed) {
  std::mt19937 rng(seed);
  auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  std::vector<Event> events;
  Timestamp cursor = 1'795'219'200'000;  // 2026-11-21T00:00:00Z
  for (int i = 0; i < count; ++i) {
    Event e;
    e.id = i;
    cursor += uniform(0, 400);
    e.time = cursor - uniform(0, out_of_orderness);
    const int k = static_cast<int>(uniform(0, keys - 1));
    const bool numeric_key = k == keys - 1;
    e.key = numeric_key ? std::to_string(1000 + k) : "card-" + std::to_string(k);
    e.merchant = "m" + std::to_string(uniform(0, 7));
    std::string amount_member;
    switch (uniform(0, 15)) {
      case 0:
        break;  // missing
      case 1:
        amount_member = R"(,"amount":"n/a")";
        break;
      default:
        e.amount = static_cast<double>(uniform(-200, 2000)) / 2.0;
        char number[32];
        std::snprintf(number, sizeof number, "%.1f", *e.amount);
        amount_member = std::string(R"(,"amount":)") + number;
    }
    std::string time_text;
    switch (uniform(0, 5)) {
      case 0:
        time_text = "\"" + iso_time(e.time, 0) + "\"";
        break;
      case 1:
        time_text = "\"" + iso_time(e.time, 60) + "\"";
        break;
      default:
        time_text = std::to_string(e.time);
    }
    e.line = R"({"id":)" + std::to_string(i) + R"(,"card":)" + (numeric_key ? e.key : "\"" + e.key + "\"") +
             R"(,"ts":)" + time_text + amount_member + R"(,"merchant":")" + e.merchant + "\"}";
    events.push_back(std::move(e));
  }
  return events;
}

inline std::vector<std::string> lines_of(const std::vector<Event>& events) {
  std::vector<std::string> lines;
  for (const Event& e : events) lines.push_back(e.line);
  return lines;
}

// The brute-force aggregates of a group of events, added in input order.
struct Reference {
  int64_t count = 0;
  double sum = 0;
  std::vector<double> values;
  std::set<std::string> merchants;
  std::optional<double> first, last;
  Timestamp first_time = 0, last_time = 0;

  void add(const Event& e) {
    ++count;
    merchants.insert(e.merchant);
    if (!e.amount) return;
    sum += *e.amount;
    values.push_back(*e.amount);
    // Ties in time: first keeps the earliest added, last takes the latest added.
    if (!first || e.time < first_time) {
      first = e.amount;
      first_time = e.time;
    }
    if (!last || e.time >= last_time) {
      last = e.amount;
      last_time = e.time;
    }
  }
};

// The --agg list the end-to-end tests use.
inline constexpr const char* kAllAggregates = "count,sum,min,max,mean,stddev,first,last,distinct:merchant";

// Checks an output object's aggregates (those present) against `ref`.
inline void expect_aggregates(const rapidjson::Value& out, const Reference& ref, const std::string& where) {
  SCOPED_TRACE(where);
  auto expect_null_or = [&](const char* name, std::optional<double> expected, bool exact) {
    if (!out.HasMember(name)) return;
    const rapidjson::Value& v = out[name];
    if (!expected) {
      EXPECT_TRUE(v.IsNull()) << name;
      return;
    }
    ASSERT_TRUE(v.IsNumber()) << name;
    if (exact) {
      EXPECT_EQ(v.GetDouble(), *expected) << name;
    } else {
      EXPECT_NEAR(v.GetDouble(), *expected, 1e-9 * std::max(1.0, std::fabs(*expected))) << name;
    }
  };
  ASSERT_TRUE(out.HasMember("count"));
  EXPECT_EQ(out["count"].GetInt64(), ref.count);
  if (out.HasMember("sum")) {
    EXPECT_EQ(out["sum"].GetDouble(), ref.sum);
  }
  std::optional<double> min, max, mean, stddev;
  if (!ref.values.empty()) {
    min = *std::min_element(ref.values.begin(), ref.values.end());
    max = *std::max_element(ref.values.begin(), ref.values.end());
    mean = ref.sum / static_cast<double>(ref.values.size());
  }
  if (ref.values.size() >= 2) {
    double squares = 0;
    for (double x : ref.values) squares += (x - *mean) * (x - *mean);
    stddev = std::sqrt(squares / static_cast<double>(ref.values.size() - 1));
  }
  expect_null_or("min", min, true);
  expect_null_or("max", max, true);
  expect_null_or("mean", mean, false);
  expect_null_or("stddev", stddev, false);
  expect_null_or("first", ref.first, true);
  expect_null_or("last", ref.last, true);
  if (out.HasMember("distinct_merchant")) {
    EXPECT_EQ(out["distinct_merchant"].GetInt64(), static_cast<int64_t>(ref.merchants.size()));
  }
}

}  // namespace kappa::window_agg::testing
