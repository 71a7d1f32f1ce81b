// Edge cases of tumbling and hopping windows, with hand-written
// expectations and checked against the brute-force reference too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "tests/operators/window/window_test_harness.h"

namespace kappa::window_testing {
namespace {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Edge cases, with hand-written expectations (and the reference too).

RefEvent ev(std::string key, Timestamp time, double amount = 1, int64_t item = 0) {
  return RefEvent{std::move(key), time, amount, item};
}

// What a hand-written expectation looks at.
struct Brief {
  std::string key;
  Timestamp start, end;
  int64_t count;
  double sum;
  bool is_final;
  std::size_t after_event;
  friend bool operator==(const Brief&, const Brief&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Brief& b) {
    return os << "{" << b.key << " [" << b.start << "," << b.end << ") n=" << b.count << " sum=" << b.sum
              << (b.is_final ? " final" : " update") << " @" << b.after_event << "}";
  }
};

std::vector<Brief> briefs(const std::vector<Row>& rows) {
  std::vector<Brief> out;
  for (const Row& r : rows) out.push_back({r.key, r.start, r.end, r.value.count, r.value.sum, r.is_final, r.after_event});
  return out;
}

RefWindowSpec tumbling_spec(int64_t size, int64_t offset = 0, int64_t ooo = 0, int64_t lateness = 0) {
  RefWindowSpec s;
  s.size = s.slide = size;
  s.offset = offset;
  s.out_of_orderness = ooo;
  s.allowed_lateness = lateness;
  return s;
}

// Runs the operator, checks it against the reference and returns its rows.
std::vector<Brief> run_checked(const RefWindowSpec& spec, const std::vector<RefEvent>& events, int64_t* late = nullptr) {
  const DirectRun run = run_direct(spec, events);
  const auto want = window_testing::reference_windows(events, spec);
  expect_no_differences(compare(want.emissions, run.rows), spec.to_string());
  EXPECT_EQ(run.late, static_cast<int64_t>(want.late.size()));
  if (late) *late = run.late;
  return briefs(run.rows);
}

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

TEST(WindowReferenceEdgeTest, EventsOnWindowBoundaries) {
  // t = start and t = end - 1 are in [0, 10); t = end opens [10, 20) and
  // moves the watermark to 10, which fires [0, 10) right then.
  const auto rows = run_checked(tumbling_spec(10), {ev("a", 0, 1), ev("a", 9, 2), ev("a", 10, 4), ev("a", 19, 8),
                                                    ev("a", 20, 16)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 0, 10, 2, 3, true, 2}, Brief{"a", 10, 20, 2, 12, true, 4},
                                Brief{"a", 20, 30, 1, 16, true, 5}));
}

TEST(WindowReferenceEdgeTest, AnEventAtTheWatermarkOfAWindowEndIsLateWithoutLateness) {
  // The watermark is 10 = the end of [0, 10): an event at 9 is late with
  // lateness 0, and updates the fired window with lateness 1.
  int64_t late = 0;
  auto rows = run_checked(tumbling_spec(10), {ev("a", 1, 1), ev("a", 10, 2), ev("a", 9, 4)}, &late);
  EXPECT_EQ(late, 1);
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 0, 10, 1, 1, true, 1}, Brief{"a", 10, 20, 1, 2, true, 3}));

  rows = run_checked(tumbling_spec(10, 0, 0, 1), {ev("a", 1, 1), ev("a", 10, 2), ev("a", 9, 4)}, &late);
  EXPECT_EQ(late, 0);
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 0, 10, 1, 1, true, 1}, Brief{"a", 0, 10, 2, 5, true, 2},
                                Brief{"a", 10, 20, 1, 2, true, 3}));
}

TEST(WindowReferenceEdgeTest, OffsetWithNegativeEventTimes) {
  // tumbling(10, offset 3): [-17, -7), [-7, 3), [3, 13), [13, 23).
  const auto rows = run_checked(tumbling_spec(10, 3, 100), {ev("a", -8, 1), ev("a", -7, 2), ev("a", -1, 4),
                                                           ev("a", 2, 8), ev("a", 3, 16), ev("a", 12, 32),
                                                           ev("a", 13, 64)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", -17, -7, 1, 1, true, 7}, Brief{"a", -7, 3, 3, 14, true, 7},
                                Brief{"a", 3, 13, 2, 48, true, 7}, Brief{"a", 13, 23, 1, 64, true, 7}));
}

TEST(WindowReferenceEdgeTest, HoppingWithOffsetAndNegativeTimes) {
  // size 10, slide 4, offset 1: starts ..., -11, -7, -3, 1; -5 is in [-11, -1) and [-7, 3).
  RefWindowSpec spec;
  spec.size = 10;
  spec.slide = 4;
  spec.offset = 1;
  const auto rows = run_checked(spec, {ev("a", -5, 1)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", -11, -1, 1, 1, true, 1}, Brief{"a", -7, 3, 1, 1, true, 1}));
}

TEST(WindowReferenceEdgeTest, SlideThatDoesNotDivideTheSize) {
  // size 10, slide 4 (slices of 2): 3 is in [-4,6) [0,10); 5 in [-4,6) [0,10)
  // [4,14); 8 in [0,10) [4,14) [8,18).
  RefWindowSpec spec;
  spec.size = 10;
  spec.slide = 4;
  spec.out_of_orderness = 100;
  const auto rows = run_checked(spec, {ev("a", 3, 1), ev("a", 5, 2), ev("a", 8, 4)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", -4, 6, 2, 3, true, 3}, Brief{"a", 0, 10, 3, 7, true, 3},
                                Brief{"a", 4, 14, 2, 6, true, 3}, Brief{"a", 8, 18, 1, 4, true, 3}));
}

TEST(WindowReferenceEdgeTest, EmptyWindowInTheMiddleEmitsNothing) {
  auto rows = run_checked(tumbling_spec(10), {ev("a", 5, 1), ev("a", 25, 2)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 0, 10, 1, 1, true, 1}, Brief{"a", 20, 30, 1, 2, true, 2}));

  RefWindowSpec hopping_spec;
  hopping_spec.size = 10;
  hopping_spec.slide = 5;
  rows = run_checked(hopping_spec, {ev("a", 2, 1), ev("a", 33, 2)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", -5, 5, 1, 1, true, 1}, Brief{"a", 0, 10, 1, 1, true, 1},
                                Brief{"a", 25, 35, 1, 2, true, 2}, Brief{"a", 30, 40, 1, 2, true, 2}));
}

TEST(WindowReferenceEdgeTest, UpdatesModeEmitsEachChangeThenFinal) {
  RefWindowSpec spec = tumbling_spec(10, 0, 0, 5);
  spec.emit = EmitMode::kUpdates;
  // 12 moves the watermark to 12: [0, 10) fires; 8 is a late update (12 < 10 + 5).
  const auto rows = run_checked(spec, {ev("a", 1, 1), ev("a", 2, 2), ev("a", 12, 4), ev("a", 8, 8)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 0, 10, 1, 1, false, 0}, Brief{"a", 0, 10, 2, 3, false, 1},
                                Brief{"a", 10, 20, 1, 4, false, 2}, Brief{"a", 0, 10, 2, 3, true, 2},
                                Brief{"a", 0, 10, 3, 11, true, 3}, Brief{"a", 10, 20, 1, 4, true, 4}));
}

// A late event that is the first of its (already fired, still within
// lateness) window is emitted once, right away, as the design says ("fires
// again after each later event that counts in it"). Found by the randomized
// test: the operator emits the window a second time when the key's next
// timer runs (WindowOperator::service starts from fired_through, which
// process() never advances).
TEST(WindowReferenceEdgeTest, LateEventOpeningAFiredWindowIsEmittedOnce) {
  const auto rows = run_checked(tumbling_spec(10, 0, 0, 10), {ev("a", 25, 1), ev("a", 15, 2)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 10, 20, 1, 2, true, 1}, Brief{"a", 20, 30, 1, 1, true, 2}));
}

// The same cause with lateness 0: an event too late for the first of its
// hopping windows but in time for the next must not be emitted in the
// first (the reference and the header's semantics: it counts only in
// windows with end + lateness > watermark). The operator emits b [10, 20)
// at the end of the input.
TEST(WindowReferenceEdgeTest, EventTooLateForAnEarlierHoppingWindowIsNotEmittedInIt) {
  RefWindowSpec spec;
  spec.size = 10;
  spec.slide = 5;
  // The watermark is 20 when b@17 arrives: [10, 20) is closed, [15, 25) open.
  const auto rows = run_checked(spec, {ev("a", 20, 1), ev("b", 17, 2)});
  EXPECT_THAT(rows, UnorderedElementsAre(Brief{"a", 15, 25, 1, 1, true, 2}, Brief{"a", 20, 30, 1, 1, true, 2},
                                         Brief{"b", 15, 25, 1, 2, true, 2}));
}

// The stage itself, driven by hand: process() and on_watermark() with an
// emitter that collects results and ignores watermarks.
template <class F>
struct Emitter : F {
  void watermark(Timestamp) const {}
};
template <class F>
Emitter(F) -> Emitter<F>;

auto make_operator(int64_t lateness) {
  return WindowOperator<RefEvent, decltype(key_of), AllAggregates>(key_of, tumbling(10ms), all_aggregates(),
                                                                    WindowOptions{ms(lateness), EmitMode::kFinal},
                                                                    nullptr);
}

Element<RefEvent> element(const RefEvent& e) { return Element<RefEvent>{e, RecordMeta{e.key, e.time, 0, 0}}; }

TEST(WindowReferenceEdgeTest, SilentKeysStillFireAndTheirStateIsDropped) {
  for (int64_t lateness : {0, 5}) {
    SCOPED_TRACE("lateness " + std::to_string(lateness));
    auto op = make_operator(lateness);
    std::vector<std::string> fired;
    Emitter emit{[&](Element<Result>&& r) {
      fired.push_back(r.value.key + "[" + std::to_string(r.value.start) + "," + std::to_string(r.value.end) + ")");
    }};
    op.process(element(ev("a", 1)), emit);
    op.process(element(ev("b", 2)), emit);
    op.on_watermark(2, emit);
    EXPECT_EQ(op.key_count(), 2u);
    // b keeps going; a goes silent.
    op.process(element(ev("b", 12)), emit);
    op.on_watermark(12, emit);
    EXPECT_THAT(fired, ElementsAre("a[0,10)", "b[0,10)"));
    EXPECT_EQ(op.key_count(), lateness == 0 ? 1u : 2u);  // a's window is past its lateness only with 0
    op.on_watermark(14, emit);
    EXPECT_EQ(op.key_count(), lateness == 0 ? 1u : 2u);
    op.on_watermark(15, emit);
    EXPECT_EQ(op.key_count(), 1u);  // a is forgotten; b still has [10, 20)
    op.on_watermark(20 + lateness, emit);
    EXPECT_THAT(fired, ElementsAre("a[0,10)", "b[0,10)", "b[10,20)"));
    EXPECT_EQ(op.key_count(), 0u);

    // A forgotten key comes back as a new one.
    op.process(element(ev("a", 31)), emit);
    EXPECT_EQ(op.key_count(), 1u);
    op.on_watermark(kMaxTimestamp, emit);
    EXPECT_THAT(fired, ElementsAre("a[0,10)", "b[0,10)", "b[10,20)", "a[30,40)"));
    EXPECT_EQ(op.key_count(), 0u);
  }
}

TEST(WindowReferenceEdgeTest, StateIsDroppedAfterALateUpdate) {
  auto op = make_operator(10);
  std::vector<int64_t> counts;
  Emitter emit{[&](Element<Result>&& r) { counts.push_back(std::get<0>(r.value.value)); }};
  op.process(element(ev("a", 1)), emit);
  op.on_watermark(12, emit);               // [0, 10) fires
  op.process(element(ev("a", 5)), emit);   // late update, within lateness
  EXPECT_THAT(counts, ElementsAre(1, 2));
  EXPECT_EQ(op.key_count(), 1u);
  op.on_watermark(19, emit);
  EXPECT_EQ(op.key_count(), 1u);
  op.on_watermark(20, emit);  // 10 + lateness: gone, without another emission
  EXPECT_EQ(op.key_count(), 0u);
  EXPECT_THAT(counts, ElementsAre(1, 2));
}

TEST(WindowReferenceEdgeTest, AnIdlePartitionDoesNotHoldBackAnother) {
  const RefWindowSpec spec = tumbling_spec(10);
  const auto prototype = direct_pipeline(spec);
  auto busy = prototype;
  auto idle = prototype;
  LateCounter context;
  busy.bind(context);
  idle.bind(context);
  std::vector<std::string> busy_out, idle_out;
  auto busy_sink = [&](Element<Result>&& r) { busy_out.push_back(r.value.key + std::to_string(r.value.end)); };
  auto idle_sink = [&](Element<Result>&& r) { idle_out.push_back(r.value.key + std::to_string(r.value.end)); };
  const RefEvent a1 = ev("a", 1), a15 = ev("a", 15);
  busy.push(Element<RefEvent>{a1, {a1.key, 0, 0, 0}}, busy_sink);
  busy.push(Element<RefEvent>{a15, {a15.key, 0, 0, 1}}, busy_sink);
  EXPECT_THAT(busy_out, ElementsAre("a10"));  // fired though the other partition saw nothing
  idle.finish(idle_sink);
  EXPECT_THAT(idle_out, IsEmpty());

  // The same with two tasks, the idle one given empty batches.
  const std::vector<RefEvent> events = {a1, a15};
  const Records records = to_records(events, 0);
  auto p = pipeline<RefEvent>().event_time(0ms).then(window_stage(spec));
  PipelineTask<decltype(p), EventCodec, ResultCodec> busy_task(PartitionId{"in", 0}, ErrorPolicy::kFail, p, {}, {});
  PipelineTask<decltype(p), EventCodec, ResultCodec> idle_task(PartitionId{"in", 1}, ErrorPolicy::kFail, p, {}, {});
  TaskOutput busy_output, idle_output;
  ASSERT_TRUE(idle_task.process({}, idle_output).is_ok());
  ASSERT_TRUE(busy_task.process(records.records, busy_output).is_ok());
  ASSERT_TRUE(idle_task.process({}, idle_output).is_ok());
  ASSERT_EQ(busy_output.results.size(), 1u);
  EXPECT_EQ(busy_output.results.key(0), "a");
  EXPECT_EQ(idle_output.results.size(), 0u);
}

TEST(WindowReferenceEdgeTest, EndOfInputFiresEveryOpenWindow) {
  // A large out-of-orderness keeps the watermark behind every window end.
  RefWindowSpec spec;
  spec.size = 10;
  spec.slide = 5;
  spec.out_of_orderness = 1000;
  spec.allowed_lateness = 100;
  const std::vector<RefEvent> events = {ev("a", 1), ev("b", 7), ev("a", 12), ev("c", -3)};
  const auto rows = run_checked(spec, events);
  // (The order across keys is the operator's choice.)
  EXPECT_THAT(rows, UnorderedElementsAre(Brief{"c", -10, 0, 1, 1, true, 4}, Brief{"a", -5, 5, 1, 1, true, 4},
                                         Brief{"c", -5, 5, 1, 1, true, 4}, Brief{"a", 0, 10, 1, 1, true, 4},
                                         Brief{"b", 0, 10, 1, 1, true, 4}, Brief{"b", 5, 15, 1, 1, true, 4},
                                         Brief{"a", 5, 15, 1, 1, true, 4}, Brief{"a", 10, 20, 1, 1, true, 4}));

  // And the stage forgets every key at the end.
  auto op = make_operator(100);
  int fired = 0;
  Emitter emit{[&](Element<Result>&&) { ++fired; }};
  for (const RefEvent& e : events) op.process(element(e), emit);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(op.key_count(), 3u);
  op.on_watermark(kMaxTimestamp, emit);
  EXPECT_EQ(fired, 4);  // tumbling(10): a [0,10) [10,20), b [0,10), c [-10,0)
  EXPECT_EQ(op.key_count(), 0u);
}

}  // namespace
}  // namespace kappa::window_testing
