#include "operators/window/rolling_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <tuple>

#include "operators/aggregate/builtins.h"
#include "operators/keyed/key_by.h"
#include "runtime/pipeline.h"

namespace kappa {
namespace {

using namespace std::chrono_literals;

struct Event {
  std::string key;
  Timestamp time;
  int64_t id;  // input order
  double amount;
};

struct Row {
  std::string key;
  int64_t id;
  int64_t count;
  double sum;
  friend bool operator==(const Row&, const Row&) = default;
  friend auto operator<=>(const Row&, const Row&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Row& r) {
    return os << "{" << r.key << " #" << r.id << " n=" << r.count << " sum=" << r.sum << "}";
  }
};

class LateCounter final : public StageContext {
 public:
  void report_late() override { ++late; }
  int late = 0;
};

std::vector<Row> run(std::chrono::milliseconds size, std::chrono::milliseconds delay, const std::vector<Event>& events,
                     std::chrono::milliseconds ooo, int* late_count = nullptr) {
  auto p = pipeline<Event>()
               .event_time([](const Event& e) { return e.time; }, ooo)
               .then(key_by([](const Event& e) -> const std::string& { return e.key; })
                         .rolling(size, delay)
                         .aggregate(agg::aggregates(agg::count(), agg::sum([](const Event& e) { return e.amount; }))));
  LateCounter late;
  p.bind(late);
  std::vector<Row> rows;
  auto sink = [&](auto&& result) {
    const auto& r = result.value;
    rows.push_back(Row{r.key, r.event.id, std::get<0>(r.value), std::get<1>(r.value)});
  };
  for (const Event& e : events) p.push(Element<Event>{e, {}}, sink);
  p.finish(sink);
  if (late_count) *late_count = late.late;
  return rows;
}

// The reference: for each event that is not late, every earlier-or-tied (by
// input order) event of its key in (t - delay - size, t - delay].
std::vector<Row> reference(int64_t size, int64_t delay, const std::vector<Event>& events, int64_t ooo, int* late) {
  std::vector<const Event*> kept;
  Timestamp watermark = kMinTimestamp;
  *late = 0;
  for (const Event& e : events) {
    if (e.time < watermark) {
      ++*late;
    } else {
      kept.push_back(&e);
    }
    watermark = std::max(watermark, e.time - ooo);
  }
  std::vector<Row> rows;
  for (const Event* e : kept) {
    Row row{e->key, e->id, 0, 0};
    const Timestamp upper = e->time - delay;
    for (const Event* other : kept) {
      if (other->key != e->key || other->time <= upper - size || other->time > upper) continue;
      if (delay == 0 && other->time == e->time && other->id > e->id) continue;
      ++row.count;
      row.sum += other->amount;
    }
    rows.push_back(row);
  }
  return rows;
}

TEST(RollingOperatorTest, EachEventGetsTheWindowEndingAtIt) {
  const auto rows = run(10ms, 0ms, {{"a", 1, 0, 1}, {"a", 5, 1, 2}, {"b", 6, 2, 4}, {"a", 11, 3, 8}, {"a", 11, 4, 16}},
                        0ms);
  EXPECT_THAT(rows, ::testing::ElementsAre(Row{"a", 0, 1, 1}, Row{"a", 1, 2, 3}, Row{"b", 2, 1, 4},
                                           Row{"a", 3, 2, 10},    // (1, 11]: events at 5 and 11
                                           Row{"a", 4, 3, 26}));  // the tie at 11 that came before it counts
}

TEST(RollingOperatorTest, DelayShiftsTheWindowBack) {
  // delay 5: the window of the event at 12 is (-3, 7]: the events at 1 and 5;
  // that of the event at 5 is (-10, 0]: nothing, not even itself.
  const auto rows = run(10ms, 5ms, {{"a", 1, 0, 1}, {"a", 5, 1, 2}, {"a", 12, 2, 4}}, 0ms);
  EXPECT_THAT(rows, ::testing::ElementsAre(Row{"a", 0, 0, 0}, Row{"a", 1, 0, 0}, Row{"a", 2, 2, 3}));
}

TEST(RollingOperatorTest, OutOfOrderEventsWaitForTheWatermarkAndLateOnesAreCounted) {
  int late = 0;
  // Out-of-orderness 5: the event at 3 arrives after the one at 6 and still counts in it.
  const auto rows = run(10ms, 0ms, {{"a", 6, 0, 1}, {"a", 3, 1, 2}, {"a", 20, 2, 4}, {"a", 2, 3, 8}}, 5ms, &late);
  EXPECT_EQ(late, 1);  // 2 < watermark 15
  EXPECT_THAT(rows, ::testing::ElementsAre(Row{"a", 1, 1, 2}, Row{"a", 0, 2, 3}, Row{"a", 2, 1, 4}));
}

TEST(RollingOperatorTest, MatchesTheBruteForceReferenceOnRandomStreams) {
  for (int seed = 0; seed < 100; ++seed) {
    std::mt19937_64 rng(seed);
    const int64_t ooo = std::uniform_int_distribution<int64_t>(0, 20)(rng);
    const int64_t size = std::uniform_int_distribution<int64_t>(1, 50)(rng);
    const int64_t delay = seed % 3 == 0 ? 0 : std::uniform_int_distribution<int64_t>(0, 20)(rng);
    std::vector<Event> events;
    Timestamp clock = 1000;
    for (int i = 0; i < 400; ++i) {
      clock += std::uniform_int_distribution<int64_t>(0, 3)(rng);
      Timestamp t = clock - std::uniform_int_distribution<int64_t>(0, ooo)(rng);
      if (rng() % 30 == 0) t -= 100;  // far beyond the bound: late
      events.push_back({"k" + std::to_string(rng() % 7), t, i, static_cast<double>(rng() % 100)});
    }
    int expected_late = 0;
    auto expected = reference(size, delay, events, ooo, &expected_late);
    int late = 0;
    auto actual = run(std::chrono::milliseconds(size), std::chrono::milliseconds(delay), events,
                      std::chrono::milliseconds(ooo), &late);
    EXPECT_EQ(late, expected_late) << "seed " << seed;
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    ASSERT_EQ(actual, expected) << "seed " << seed << " size " << size << " delay " << delay << " ooo " << ooo;
  }
}

}  // namespace
}  // namespace kappa
