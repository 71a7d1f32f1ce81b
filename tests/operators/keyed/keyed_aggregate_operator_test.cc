#include "operators/keyed/keyed_aggregate_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operators/aggregate/builtins.h"
#include "operators/keyed/key_by.h"
#include "runtime/pipeline.h"

namespace kappa {
namespace {

using namespace std::chrono_literals;

struct Event {
  std::string key;
  Timestamp time;
};

std::vector<std::pair<std::string, int64_t>> run(std::chrono::milliseconds ttl, const std::vector<Event>& events) {
  auto p = pipeline<Event>()
               .event_time([](const Event& e) { return e.time; }, 0ms)
               .then(key_by([](const Event& e) -> const std::string& { return e.key; }).ttl(ttl).aggregate(agg::count()));
  std::vector<std::pair<std::string, int64_t>> rows;
  auto sink = [&](auto&& result) { rows.emplace_back(result.value.key, result.value.value); };
  for (const Event& e : events) p.push(Element<Event>{e, {}}, sink);
  p.finish(sink);
  return rows;
}

TEST(KeyedAggregateOperatorTest, RunningCountPerKey) {
  EXPECT_THAT(run(0ms, {{"a", 1}, {"b", 2}, {"a", 3}, {"a", 1000}}),
              ::testing::ElementsAre(std::pair{"a", 1}, std::pair{"b", 1}, std::pair{"a", 2}, std::pair{"a", 3}));
}

TEST(KeyedAggregateOperatorTest, StateExpiresAfterTheTtlInEventTime) {
  // ttl 10: "a" at 1 expires once the watermark reaches 11; "a" at 5 moved it to 15.
  EXPECT_THAT(run(10ms, {{"a", 1}, {"a", 5}, {"b", 14}, {"a", 14}, {"b", 40}, {"a", 41}}),
              ::testing::ElementsAre(std::pair{"a", 1}, std::pair{"a", 2}, std::pair{"b", 1}, std::pair{"a", 3},
                                     std::pair{"b", 1}, std::pair{"a", 1}));
}

struct DiscardingEmit {
  template <class E>
  void operator()(E&&) const {}
  void watermark(Timestamp) const {}
};

TEST(KeyedAggregateOperatorTest, ExpiredKeysLeaveNoState) {
  auto key_of = [](const Event& e) -> const std::string& { return e.key; };
  KeyedAggregateOperator<Event, decltype(key_of), agg::CountAggregate> op(key_of, agg::count(), 10ms);
  DiscardingEmit emit;
  for (int i = 0; i < 100; ++i) {
    RecordMeta meta;
    meta.timestamp = i;
    op.process(Element<Event>{{"k" + std::to_string(i), i}, meta}, emit);
  }
  EXPECT_EQ(op.key_count(), 100u);
  op.on_watermark(105, emit);
  EXPECT_EQ(op.key_count(), 4u);  // keys 96..99 have 96 + 10 > 105
  op.on_watermark(kMaxTimestamp, emit);
  EXPECT_EQ(op.key_count(), 0u);
}

}  // namespace
}  // namespace kappa

namespace kappa {
namespace {

// Regression: a key function returning std::string_view did not compile
// (Debian's Abseil cannot look a std::string up by std::string_view).
TEST(KeyedAggregateOperatorTest, StringViewKeysAreCopiedIntoState) {
  struct Line {
    std::string text;
  };
  auto p = pipeline<Line>()
               .event_time(std::chrono::milliseconds(0))
               .then(key_by([](const Line& l) { return std::string_view(l.text).substr(0, 1); }).aggregate(agg::count()));
  std::vector<std::pair<std::string, int64_t>> rows;
  auto sink = [&](auto&& result) { rows.emplace_back(result.value.key, result.value.value); };
  for (std::string text : {"apple", "avocado", "banana"}) p.push(Element<Line>{{text}, {}}, sink);
  EXPECT_THAT(rows, ::testing::ElementsAre(std::pair{"a", 1}, std::pair{"a", 2}, std::pair{"b", 1}));
}

}  // namespace
}  // namespace kappa
