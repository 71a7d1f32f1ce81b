#include "operators/window/window_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <tuple>

#include "operators/aggregate/builtins.h"
#include "operators/keyed/key_by.h"
#include "runtime/pipeline.h"
#include "tests/operators/window/window_test_harness.h"
#include "tests/support/memory_state.h"
#include "tests/support/restore_run.h"

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

// Checkpoints: the operator under test is the reference harness's (every
// built-in aggregate), its results compared as the bytes a task would write.
namespace kappa::window_testing {
namespace {

using testing::MemoryState;
using testing::RestorePlan;

// Out of order within the bound, some events within the allowed lateness,
// some beyond it (late), now and then a gap of several windows; 30 keys.
std::vector<Element<RefEvent>> checkpoint_stream(uint64_t seed, const RefWindowSpec& spec, int n) {
  std::mt19937_64 rng(seed);
  auto below = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  std::vector<Element<RefEvent>> events;
  Timestamp clock = 0;
  for (int i = 0; i < n; ++i) {
    clock += below(4) + (below(100) == 0 ? 5 * spec.size : 0);
    RefEvent e;
    e.key = "k" + std::to_string(below(30));
    const int64_t kind = below(20);
    e.time = clock - (kind == 0   ? spec.out_of_orderness + spec.allowed_lateness + below(3 * spec.size)
                      : kind < 3 ? spec.out_of_orderness + below(spec.allowed_lateness + 1)
                                 : below(spec.out_of_orderness + 1));
    if (below(25) != 0) e.amount = static_cast<double>(below(2001) - 1000);
    e.item = below(60);
    events.push_back({std::move(e), {}});
  }
  return events;
}

struct EncodedRun {
  std::vector<std::string> outputs;  // output_bytes of each result
  int64_t late = 0;

  bool operator==(const EncodedRun&) const = default;
};

EncodedRun run_encoded(const RefWindowSpec& spec, const std::vector<Element<RefEvent>>& events,
                       const RestorePlan& plan, MemoryState& state) {
  LateCounter context;
  EncodedRun run;
  auto sink = [&](Element<Result>&& r) {
    std::string value;
    ResultCodec{}.encode(r.value, value);
    run.outputs.push_back(output_bytes(r.meta.key, r.meta.timestamp, value));
  };
  const Status status = testing::run_with_restore(direct_pipeline(spec), events, plan, state, sink, &context);
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  run.late = context.late;
  return run;
}

TEST(WindowOperatorCheckpointTest, RestoredMidStreamGivesByteIdenticalOutput) {
  uint64_t seed = 1;
  for (const auto& [size, slide, offset] : {std::tuple{10, 10, 0}, std::tuple{10, 4, 3}}) {
    for (int64_t lateness : {0, 25}) {
      for (EmitMode emit : {EmitMode::kFinal, EmitMode::kUpdates}) {
        RefWindowSpec spec;
        spec.size = size;
        spec.slide = slide;
        spec.offset = offset;
        spec.allowed_lateness = lateness;
        spec.emit = emit;
        spec.out_of_orderness = 20;
        const auto events = checkpoint_stream(seed++, spec, 2000);
        MemoryState unused;
        const EncodedRun uninterrupted = run_encoded(spec, events, {}, unused);
        EXPECT_GT(uninterrupted.late, 0);
        for (const RestorePlan& plan : {RestorePlan{{}, 0}, RestorePlan{{50, 300, 800}, 1000},
                                        RestorePlan{{1, 2, 1500, 1700}, 1999}, RestorePlan{{}, 2000}}) {
          MemoryState state;
          EXPECT_TRUE(run_encoded(spec, events, plan, state) == uninterrupted)
              << spec.to_string() << " restored at " << plan.restore_at;
        }
      }
    }
  }
}

void push_event(auto& p, const std::string& key, Timestamp time) {
  auto discard = [](auto&&) {};
  p.push(Element<RefEvent>{RefEvent{key, time, 1.0, 0}, {}}, discard);
}

TEST(WindowOperatorCheckpointTest, CheckpointsWriteOnlyTheKeysThatChanged) {
  RefWindowSpec spec;
  spec.size = spec.slide = 100;
  auto p = direct_pipeline(spec);
  for (int k = 0; k < 200; ++k) push_event(p, "k" + std::to_string(k), 10);
  MemoryState state;
  p.checkpoint(state);
  EXPECT_EQ(state.stage(1).take_counts().puts, 200u + 200 + 1);  // every key, its timer, the meta entry

  for (int k : {5, 6, 6, 7, 150}) push_event(p, "k" + std::to_string(k), 20);
  p.checkpoint(state);
  testing::WriteCounts counts = state.stage(1).take_counts();
  EXPECT_EQ(counts.puts, 4u + 1);
  EXPECT_EQ(counts.removes, 0u);

  // The watermark passes [0, 100): every key fires and is forgotten, but
  // for k0, which has an event in the next window.
  push_event(p, "k0", 150);
  p.checkpoint(state);
  counts = state.stage(1).take_counts();
  EXPECT_EQ(counts.puts, 1u + 1 + 1);        // k0, its next timer, the meta entry
  EXPECT_EQ(counts.removes, 199u + 200);     // the other keys, and every key's fired timer
  EXPECT_EQ(state.stage(1).entries.size(), 3u);
}

TEST(WindowOperatorCheckpointTest, RestoreRejectsSpoiltState) {
  RefWindowSpec spec;
  spec.size = 10;
  spec.slide = 4;
  spec.allowed_lateness = 25;
  spec.out_of_orderness = 20;
  auto p = direct_pipeline(spec);
  auto discard = [](auto&&) {};
  for (auto& e : checkpoint_stream(7, spec, 300)) p.push(std::move(e), discard);
  MemoryState state;
  p.checkpoint(state);
  const auto accepted = testing::restore_spoilt(
      state, 1,
      [&](MemoryState& spoilt) {
        auto fresh = direct_pipeline(spec);
        return fresh.restore(spoilt);
      },
      500);
  EXPECT_EQ(accepted.truncated, 0);
  EXPECT_EQ(accepted.extended, 0);
  EXPECT_EQ(accepted.retagged, 0);
}

}  // namespace
}  // namespace kappa::window_testing
