#include "operators/keyed/keyed_aggregate_operator.h"

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

namespace kappa {
namespace {

using namespace std::chrono_literals;
using testing::MemoryState;
using testing::RestorePlan;

struct Payment {
  std::string card;
  Timestamp time;
  double amount;
};

auto payments_pipeline(std::chrono::milliseconds ttl) {
  const auto amount = [](const Payment& p) { return p.amount; };
  return pipeline<Payment>()
      .event_time([](const Payment& p) { return p.time; }, 20ms)
      .then(key_by([](const Payment& p) -> const std::string& { return p.card; })
                .ttl(ttl)
                .aggregate(agg::aggregates(agg::count(), agg::sum(amount), agg::last(amount), agg::variance(amount))));
}
using PaymentsPipeline = decltype(payments_pipeline(0ms));

// Out of order by up to 30 ms (beyond the 20 ms bound now and then), over
// 40 cards; quiet spells let keys expire.
std::vector<Element<Payment>> random_payments(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<Element<Payment>> payments;
  Timestamp clock = 1000;
  for (int i = 0; i < n; ++i) {
    clock += static_cast<Timestamp>(rng() % 4) + (rng() % 200 == 0 ? 300 : 0);
    const Payment p{"card-" + std::to_string(rng() % 40), clock - static_cast<Timestamp>(rng() % 31),
                    static_cast<double>(rng() % 1000) / 4};
    payments.push_back({p, {}});
  }
  return payments;
}

// Record key, timestamp, then the result: key, count, sum, last, variance.
using PaymentRow = std::tuple<std::string, Timestamp, std::string, int64_t, double, std::optional<double>,
                              std::optional<double>>;

std::vector<PaymentRow> run_payments(const std::vector<Element<Payment>>& payments, const RestorePlan& plan,
                                     MemoryState& state) {
  std::vector<PaymentRow> rows;
  auto sink = [&](auto&& r) {
    const auto& [count, sum, last, variance] = r.value.value;
    rows.emplace_back(std::string(r.meta.key), r.meta.timestamp, r.value.key, count, sum, last, variance);
  };
  const Status status = testing::run_with_restore(payments_pipeline(100ms), payments, plan, state, sink);
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  return rows;
}

TEST(KeyedAggregateOperatorTest, RestoredMidStreamContinuesIdentically) {
  for (uint64_t seed : {1, 2, 3}) {
    const auto payments = random_payments(seed, 3000);
    MemoryState unused;
    const auto uninterrupted = run_payments(payments, {}, unused);
    for (const RestorePlan& plan : {RestorePlan{{}, 0}, RestorePlan{{100, 700, 1200}, 1500},
                                    RestorePlan{{1, 2, 3, 1000, 2000, 2500}, 2999}, RestorePlan{{500}, 3000}}) {
      MemoryState state;
      EXPECT_EQ(run_payments(payments, plan, state), uninterrupted) << "seed " << seed << " restored at "
                                                                     << plan.restore_at;
    }
  }
}

struct Discard {
  template <class E>
  void operator()(E&&) const {}
};

void push_payment(PaymentsPipeline& p, const std::string& card, Timestamp time) {
  Discard discard;
  p.push(Element<Payment>{{card, time, 1.0}, {}}, discard);
}

TEST(KeyedAggregateOperatorTest, CheckpointsWriteOnlyWhatChanged) {
  auto p = payments_pipeline(1000ms);
  for (int i = 0; i < 500; ++i) push_payment(p, "k" + std::to_string(i), i);
  MemoryState state;
  p.checkpoint(state);
  // Every key, its TTL timer in the timer index, and the meta entry.
  EXPECT_EQ(state.stage(1).take_counts().puts, 500u + 500 + 1);

  for (int i : {3, 7, 7, 42, 499}) push_payment(p, "k" + std::to_string(i), 499);
  p.checkpoint(state);
  testing::WriteCounts counts = state.stage(1).take_counts();
  EXPECT_EQ(counts.puts, 4u + 1);
  EXPECT_EQ(counts.removes, 0u);

  // The watermark reaches 1100 - 20: keys k0..k80, last seen at their index,
  // expire, but for k3, k7 and k42, seen again at 499 (their timers fire
  // early and are set again, which changes them too), and k0, seen again at
  // 1100.
  push_payment(p, "k0", 1100);
  p.checkpoint(state);
  counts = state.stage(1).take_counts();
  EXPECT_EQ(counts.puts, 4u + 4 + 1);           // the four keys, their new timers, the meta entry
  EXPECT_EQ(counts.removes, 77u + 77 + 4);      // the expired keys, their timers, the four's old timers
  EXPECT_EQ(state.stage(1).entries.size(), 1 + 2 * (500 - 77u));

  p.checkpoint(state);
  EXPECT_EQ(state.stage(1).take_counts().writes(), 1u);  // nothing changed: only the meta entry
}

TEST(KeyedAggregateOperatorTest, KeyForgottenThenSeenAgainIsPresentAfterTheCheckpoint) {
  auto p = payments_pipeline(10ms);
  MemoryState state;
  push_payment(p, "a", 0);
  p.checkpoint(state);
  push_payment(p, "b", 100);  // the watermark, 80, expires "a"
  push_payment(p, "a", 100);  // and "a" starts again
  p.checkpoint(state);
  const std::string key_tag(1, '\1');
  EXPECT_TRUE(state.stage(1).entries.contains(key_tag + "a"));
  EXPECT_TRUE(state.stage(1).entries.contains(key_tag + "b"));

  std::vector<int64_t> counts;
  auto restored = payments_pipeline(10ms);
  ASSERT_TRUE(restored.restore(state).is_ok());
  auto sink = [&](auto&& r) { counts.push_back(std::get<0>(r.value.value)); };
  restored.push(Element<Payment>{{"a", 101, 1.0}, {}}, sink);
  EXPECT_THAT(counts, ::testing::ElementsAre(2));  // the restarted count, not the expired one
}

TEST(KeyedAggregateOperatorTest, RestoreRejectsSpoiltState) {
  auto p = payments_pipeline(1000ms);
  for (const auto& e : random_payments(4, 300)) push_payment(p, e.value.card, e.value.time);
  MemoryState state;
  p.checkpoint(state);
  const auto accepted = testing::restore_spoilt(
      state, 1,
      [](MemoryState& spoilt) {
        auto fresh = payments_pipeline(1000ms);
        return fresh.restore(spoilt);
      },
      500);
  EXPECT_EQ(accepted.truncated, 0);
  EXPECT_EQ(accepted.extended, 0);
  EXPECT_EQ(accepted.retagged, 0);

  MemoryState without_meta = state;
  without_meta.stage(1).entries.erase(std::string(1, '\0'));
  auto fresh = payments_pipeline(1000ms);
  EXPECT_EQ(fresh.restore(without_meta).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace kappa
