#include "operators/window/rolling_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <tuple>

#include "operators/aggregate/builtins.h"
#include "operators/keyed/key_by.h"
#include "runtime/pipeline.h"
#include "tests/support/memory_state.h"
#include "tests/support/restore_run.h"

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

// ---- Checkpoints -------------------------------------------------------------

using testing::MemoryState;
using testing::RestorePlan;

// A trivially copyable event, keyed by an integer (negative ones too).
struct Tick {
  int64_t card;
  Timestamp time;
  int64_t id;
  double amount;
};

// A stand-in for a Protobuf message: what operators look for is the pair
// SerializeToString / ParseFromString.
struct FakeMessage {
  std::string body;
  bool SerializeToString(std::string* out) const {
    *out = "M" + body;
    return true;
  }
  bool ParseFromString(const std::string& in) {
    if (in.empty() || in[0] != 'M') return false;
    body = in.substr(1);
    return true;
  }
};

static_assert(StateValue<Tick>);
static_assert(StateValue<std::string>);
static_assert(StateValue<FakeMessage>);
static_assert(!StateValue<Event>);  // a std::string member: neither kind
static_assert(!StateValue<std::vector<int>>);

auto tick_pipeline(int64_t size, int64_t delay, int64_t ooo) {
  const auto amount = [](const Tick& t) { return t.amount; };
  return pipeline<Tick>()
      .event_time([](const Tick& t) { return t.time; }, std::chrono::milliseconds(ooo))
      .then(key_by([](const Tick& t) { return t.card; })
                .rolling(std::chrono::milliseconds(size), std::chrono::milliseconds(delay))
                .aggregate(agg::aggregates(agg::count(), agg::sum(amount), agg::first(amount), agg::variance(amount))));
}

// As in MatchesTheBruteForceReferenceOnRandomStreams: out of order within
// `ooo`, one in 30 far beyond it (late).
std::vector<Element<Tick>> random_ticks(uint64_t seed, int n, int64_t ooo) {
  std::mt19937_64 rng(seed);
  std::vector<Element<Tick>> ticks;
  Timestamp clock = 1000;
  for (int i = 0; i < n; ++i) {
    clock += static_cast<Timestamp>(rng() % 4);
    Timestamp t = clock - static_cast<Timestamp>(rng() % static_cast<uint64_t>(ooo + 1));
    if (rng() % 30 == 0) t -= 100;
    ticks.push_back({Tick{static_cast<int64_t>(rng() % 7) - 3, t, i, static_cast<double>(rng() % 100)}, {}});
  }
  return ticks;
}

// Record key and timestamp, then the result: key, event id, event time, count, sum, first, variance.
using TickRow = std::tuple<std::string, Timestamp, int64_t, int64_t, Timestamp, int64_t, double, std::optional<double>,
                           std::optional<double>>;

TEST(RollingOperatorTest, RestoredMidStreamContinuesIdentically) {
  struct Shape {
    int64_t size, delay, ooo;
  };
  uint64_t seed = 1;
  for (const Shape& shape : {Shape{30, 0, 10}, Shape{50, 7, 20}, Shape{1, 0, 0}, Shape{200, 0, 15}}) {
    const auto ticks = random_ticks(seed++, 1000, shape.ooo);
    auto run_ticks = [&](const RestorePlan& plan) {
      std::vector<TickRow> rows;
      auto sink = [&](auto&& r) {
        const auto& [count, sum, first, variance] = r.value.value;
        rows.emplace_back(std::string(r.meta.key), r.meta.timestamp, r.value.key, r.value.event.id,
                          r.value.event_time, count, sum, first, variance);
      };
      MemoryState state;
      LateCounter late;
      const Status status =
          testing::run_with_restore(tick_pipeline(shape.size, shape.delay, shape.ooo), ticks, plan, state, sink, &late);
      EXPECT_TRUE(status.is_ok()) << status.to_string();
      return std::pair(rows, late.late);
    };
    const auto uninterrupted = run_ticks({});
    EXPECT_GT(uninterrupted.second, 0);
    for (const RestorePlan& plan : {RestorePlan{{}, 0}, RestorePlan{{50, 150, 600}, 700},
                                    RestorePlan{{1, 2, 3}, 999}, RestorePlan{{100}, 1000}}) {
      EXPECT_EQ(run_ticks(plan), uninterrupted) << "size " << shape.size << " delay " << shape.delay << " restored at "
                                                << plan.restore_at;
    }
  }
}

// Strings and messages are kept as they are: after a restore each result
// carries its own event's value.
template <class T, class Make, class Body>
void check_values_survive_restore(Make make, Body body_of) {
  std::vector<Element<T>> inputs;
  for (int i = 0; i < 300; ++i) {
    Element<T> e{make("k" + std::to_string(i % 5) + ":" + std::string(static_cast<std::size_t>(i % 40), 'x')), {}};
    e.meta.timestamp = i - i % 3;
    inputs.push_back(std::move(e));
  }
  const auto prototype = pipeline<T>().event_time(std::chrono::milliseconds(2)).then(
      key_by([body_of](const T& v) { return std::string(body_of(v).substr(0, 2)); })
          .rolling(std::chrono::milliseconds(20))
          .aggregate(agg::count()));
  auto run_values = [&](const RestorePlan& plan) {
    std::vector<std::tuple<std::string, std::string, int64_t>> rows;
    auto sink = [&](auto&& r) { rows.emplace_back(r.value.key, std::string(body_of(r.value.event)), r.value.value); };
    MemoryState state;
    const Status status = testing::run_with_restore(prototype, inputs, plan, state, sink);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    return rows;
  };
  const auto uninterrupted = run_values({});
  EXPECT_EQ(uninterrupted.size(), inputs.size());
  EXPECT_EQ(run_values({{100}, 150}), uninterrupted);
}

TEST(RollingOperatorTest, StringAndMessageValuesSurviveARestore) {
  check_values_survive_restore<std::string>([](std::string s) { return s; },
                                            [](const std::string& s) { return std::string_view(s); });
  check_values_survive_restore<FakeMessage>([](std::string s) { return FakeMessage{std::move(s)}; },
                                            [](const FakeMessage& m) { return std::string_view(m.body); });
}

template <class P>
void push_tick(P& p, int64_t card, Timestamp time) {
  auto discard = [](auto&&) {};
  p.push(Element<Tick>{Tick{card, time, 0, 1.0}, {}}, discard);
}

TEST(RollingOperatorTest, CheckpointsWriteOnlyTheKeysThatChanged) {
  auto p = tick_pipeline(1000, 0, 0);
  for (int64_t card = 0; card < 100; ++card) push_tick(p, card, 0);
  push_tick(p, 0, 1);  // the watermark passes 0: every event so far is emitted
  MemoryState state;
  p.checkpoint(state);
  EXPECT_EQ(state.stage(1).take_counts().puts, 100u + 100 + 1);  // every key, its timer, the meta entry

  for (int64_t card : {1, 2, 2, 3}) push_tick(p, card, 2);
  p.checkpoint(state);
  const testing::WriteCounts counts = state.stage(1).take_counts();
  EXPECT_EQ(counts.puts, 3u + 3 + 1);  // the three keys, their timers (moved earlier), the meta entry
  EXPECT_EQ(counts.removes, 3u);       // their old timers

  // After 1000 ms every event has left every window: all keys go, but for
  // card 1 (its timer moved).
  push_tick(p, 1, 2000);
  p.checkpoint(state);
  EXPECT_EQ(state.stage(1).take_counts().removes, 99u + 99 + 1);
  EXPECT_EQ(state.stage(1).entries.size(), 3u);  // card 1, its timer, the meta entry
}

TEST(RollingOperatorTest, RestoreRejectsSpoiltState) {
  auto p = tick_pipeline(50, 7, 20);
  auto discard = [](auto&&) {};
  for (auto& e : random_ticks(3, 300, 20)) p.push(std::move(e), discard);
  MemoryState state;
  p.checkpoint(state);
  const auto accepted = testing::restore_spoilt(
      state, 1,
      [](MemoryState& spoilt) {
        auto fresh = tick_pipeline(50, 7, 20);
        return fresh.restore(spoilt);
      },
      500);
  EXPECT_EQ(accepted.truncated, 0);
  EXPECT_EQ(accepted.extended, 0);
  EXPECT_EQ(accepted.retagged, 0);
}

}  // namespace
}  // namespace kappa
