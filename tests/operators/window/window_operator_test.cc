#include "operators/window/window_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
  double amount;
};

struct Row {
  std::string key;
  Timestamp start;
  Timestamp end;
  int64_t count;
  double sum;
  bool is_final;
  friend bool operator==(const Row&, const Row&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Row& r) {
    return os << "{" << r.key << " [" << r.start << "," << r.end << ") n=" << r.count << " sum=" << r.sum
              << (r.is_final ? " final" : "") << "}";
  }
};

class LateCounter final : public StageContext {
 public:
  void report_late() override { ++late; }
  int late = 0;
};

template <class Spec>
std::vector<Row> run(const Spec& spec, const std::vector<Event>& events, std::chrono::milliseconds ooo,
                     int* late_count = nullptr) {
  auto p = pipeline<Event>().event_time([](const Event& e) { return e.time; }, ooo).then(spec);
  LateCounter late;
  p.bind(late);
  std::vector<Row> rows;
  auto sink = [&](auto&& result) {
    const auto& r = result.value;
    rows.push_back(Row{r.key, r.start, r.end, std::get<0>(r.value), std::get<1>(r.value), r.is_final});
  };
  for (const Event& e : events) p.push(Element<Event>{e, {}}, sink);
  p.finish(sink);
  if (late_count) *late_count = late.late;
  return rows;
}

auto count_and_sum() {
  return agg::aggregates(agg::count(), agg::sum([](const Event& e) { return e.amount; }));
}
auto by_key() {
  return key_by([](const Event& e) -> const std::string& { return e.key; });
}

TEST(WindowOperatorTest, TumblingFiresWhenTheWatermarkPassesTheEnd) {
  const auto rows = run(by_key().window(tumbling(10ms)).aggregate(count_and_sum()),
                        {{"a", 1, 1}, {"b", 2, 2}, {"a", 9, 3}, {"a", 10, 4}, {"a", 25, 5}}, 0ms);
  EXPECT_THAT(rows, ::testing::ElementsAre(Row{"a", 0, 10, 2, 4, true}, Row{"b", 0, 10, 1, 2, true},
                                           Row{"a", 10, 20, 1, 4, true}, Row{"a", 20, 30, 1, 5, true}));
}

TEST(WindowOperatorTest, HoppingWindowsEachGetTheirSlices) {
  // size 10, slide 4: slices of 2; event at 5 is in windows [-4,6), [0,10), [4,14).
  const auto rows = run(by_key().window(hopping(10ms, 4ms)).aggregate(count_and_sum()), {{"a", 5, 1}}, 0ms);
  EXPECT_THAT(rows, ::testing::ElementsAre(Row{"a", -4, 6, 1, 1, true}, Row{"a", 0, 10, 1, 1, true},
                                           Row{"a", 4, 14, 1, 1, true}));
}

TEST(WindowOperatorTest, LateEventsGoToTheLateOutputOrUpdateWithinLateness) {
  int late = 0;
  // Watermark reaches 20 after the event at 20; the event at 5 is then late.
  auto rows = run(by_key().window(tumbling(10ms)).aggregate(count_and_sum()), {{"a", 1, 1}, {"a", 20, 1}, {"a", 5, 1}},
                  0ms, &late);
  EXPECT_EQ(late, 1);
  EXPECT_THAT(rows, ::testing::ElementsAre(Row{"a", 0, 10, 1, 1, true}, Row{"a", 20, 30, 1, 1, true}));

  rows = run(by_key().window(tumbling(10ms)).allowed_lateness(15ms).aggregate(count_and_sum()),
             {{"a", 1, 1}, {"a", 20, 1}, {"a", 5, 1}}, 0ms, &late);
  EXPECT_EQ(late, 0);
  EXPECT_THAT(rows, ::testing::ElementsAre(Row{"a", 0, 10, 1, 1, true}, Row{"a", 0, 10, 2, 2, true},
                                           Row{"a", 20, 30, 1, 1, true}));
}

TEST(WindowOperatorTest, UpdatesModeEmitsEveryChangeThenFinal) {
  const auto rows = run(by_key().window(tumbling(10ms)).emit(EmitMode::kUpdates).aggregate(count_and_sum()),
                        {{"a", 1, 1}, {"a", 2, 1}, {"a", 12, 1}}, 0ms);
  EXPECT_THAT(rows, ::testing::ElementsAre(Row{"a", 0, 10, 1, 1, false}, Row{"a", 0, 10, 2, 2, false},
                                           Row{"a", 10, 20, 1, 1, false}, Row{"a", 0, 10, 2, 2, true},
                                           Row{"a", 10, 20, 1, 1, true}));
}

}  // namespace
}  // namespace kappa
