#include "operators/anomaly/scorer_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "operators/anomaly/ewma_zscore.h"
#include "operators/anomaly/half_space_trees.h"
#include "operators/anomaly/random.h"
#include "operators/keyed/key_by.h"
#include "runtime/pipeline.h"
#include "tests/support/memory_state.h"
#include "tests/support/restore_run.h"

namespace kappa {
namespace {

using namespace std::chrono_literals;
using anomaly::Contribution;
using anomaly::EwmaZScore;
using anomaly::EwmaZScoreOptions;
using anomaly::HalfSpaceTrees;
using anomaly::HalfSpaceTreesOptions;
using anomaly::SplitMix64;

struct Txn {
  std::string card;
  Timestamp time = 0;
  double amount = 0;
  double hour = 0;
};

const auto card_of = [](const Txn& t) -> const std::string& { return t.card; };
const auto amount_of = [](const Txn& t, std::span<double> out) { out[0] = t.amount; };
const auto amount_and_hour = [](const Txn& t, std::span<double> out) {
  out[0] = t.amount;
  out[1] = t.hour;
};

EwmaZScoreOptions zscore_options() { return {.half_life = 20, .warmup = 5}; }
auto zscore_per_key() {
  return anomaly::per_key([] { return EwmaZScore(zscore_options()); });
}

HalfSpaceTrees hst() {
  HalfSpaceTreesOptions o;
  o.ranges = {{0, 200}, {0, 24}};
  o.trees = 10;
  o.height = 6;
  o.window_size = 50;
  o.seed = 7;
  return HalfSpaceTrees::create(o).value();
}

// One output, with the score's bits, so that comparisons are exact.
struct Row {
  std::string key;
  Timestamp time;
  std::string card;
  uint64_t score_bits;
  bool alarm;
  std::vector<Contribution> reasons;

  double score() const { return std::bit_cast<double>(score_bits); }
  bool operator==(const Row&) const = default;
};

struct CollectingEmit {
  std::vector<Row>* rows;
  void operator()(Element<Scored<Txn>>&& e) const {
    rows->push_back({std::string(e.meta.key), e.meta.timestamp, e.value.value.card,
                     std::bit_cast<uint64_t>(e.value.score), e.value.alarm, e.value.reasons});
  }
  void watermark(Timestamp) const {}
};

// Feeds `op` one element, as a pipeline would after event_time().
template <class Op>
void push(Op& op, const Txn& t, std::vector<Row>& rows) {
  CollectingEmit emit{&rows};
  RecordMeta meta;
  meta.timestamp = t.time;
  op.process(Element<Txn>{t, meta}, emit);
}

template <class Op>
void watermark(Op& op, Timestamp w, std::vector<Row>& rows) {
  CollectingEmit emit{&rows};
  op.on_watermark(w, emit);
}

// `n` amounts around `level` (± 5 %), at times start, start + 1000, ...
std::vector<Txn> history(const std::string& card, double level, int n, Timestamp start = 0, uint64_t seed = 1) {
  SplitMix64 rng(seed);
  std::vector<Txn> txns;
  for (int i = 0; i < n; ++i) txns.push_back({card, start + i * 1000, level * (0.95 + 0.1 * rng.uniform()), 12});
  return txns;
}

TEST(ScorerOperatorTest, PerKeyModelsAreIndependent) {
  auto op = key_by(card_of).score(amount_of, zscore_per_key()).make_stage<Txn>();
  std::vector<Row> rows;
  for (const Txn& t : history("a", 10, 50, 0, 1)) push(op, t, rows);
  for (const Txn& t : history("b", 1000, 50, 0, 2)) push(op, t, rows);
  rows.clear();
  push(op, {"a", 60'000, 1000, 12}, rows);
  push(op, {"b", 60'000, 1000, 12}, rows);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key, "a");
  EXPECT_GT(rows[0].score(), 0.99);
  EXPECT_EQ(rows[1].key, "b");
  EXPECT_LT(rows[1].score(), 0.1);
  EXPECT_EQ(op.key_count(), 2u);
}

TEST(ScorerOperatorTest, ScoreGrowsWithDeviation) {
  // Twenty keys with the same history, then each its own deviation: the
  // scores are scored against identical models, so they must rise with it.
  auto op = key_by(card_of).score(amount_of, zscore_per_key()).make_stage<Txn>();
  std::vector<Row> rows;
  for (int k = 0; k < 20; ++k) {
    for (const Txn& t : history("k" + std::to_string(k), 100, 40)) push(op, t, rows);
  }
  rows.clear();
  for (int k = 0; k < 20; ++k) push(op, {"k" + std::to_string(k), 50'000, 100 + 2.0 * k, 12}, rows);
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_LT(rows.front().score(), 0.2);
  EXPECT_GT(rows.back().score(), 0.99);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_GE(rows[i].score(), rows[i - 1].score()) << rows[i].key;
    if (rows[i - 1].score() < 0.999) {
      EXPECT_GT(rows[i].score(), rows[i - 1].score()) << rows[i].key;
    }
  }
}

// A detector whose score is its first feature and whose contributions are
// the features themselves as raw weights: the alarm and reasons logic seen
// without a model in the way. It counts what it learnt, to check the order.
class ScriptedDetector {
 public:
  explicit ScriptedDetector(std::size_t dimensions) : dimensions_(dimensions) {}
  std::size_t dimensions() const { return dimensions_; }
  double score(std::span<const double> x) const { return std::isfinite(x[0]) ? x[0] : 0; }
  void learn(std::span<const double>) { ++learnt_; }
  void contributions(std::span<const double> x, std::size_t k, std::vector<Contribution>& out) const {
    anomaly::top_contributions(x, k, out);
  }
  void serialize(std::string& out) const { agg::encoding::put_count(out, learnt_); }
  bool deserialize(std::string_view& in) { return agg::encoding::get_count(in, learnt_); }

 private:
  std::size_t dimensions_;
  int64_t learnt_ = 0;
};
static_assert(anomaly::Detector<ScriptedDetector>);

TEST(ScorerOperatorTest, AlarmsRespectThresholdAndQuietPeriodPerKey) {
  auto op = key_by(card_of)
                .score(amount_of, anomaly::per_key([] { return ScriptedDetector(1); }))
                .alarm({.threshold = 0.8, .quiet_period_ms = 1000})
                .make_stage<Txn>();
  std::vector<Row> rows;
  const std::vector<Txn> txns = {
      {"a", 100, 0.79, 0},   // below the threshold
      {"a", 200, 0.8, 0},    // at the threshold: alarm, quiet until 1200
      {"b", 300, 0.95, 0},   // another key: its own quiet period
      {"a", 700, 0.99, 0},   // quiet
      {"a", 1199, 0.9, 0},   // still quiet
      {"b", 1250, 0.85, 0},  // quiet until 1300
      {"a", 1200, 0.85, 0},  // the quiet period is over
      {"a", 1300, 0.5, 0},   // below
      {"b", 1300, 0.9, 0},   // b's quiet period is over
  };
  for (const Txn& t : txns) push(op, t, rows);
  std::vector<bool> alarms;
  for (const Row& r : rows) alarms.push_back(r.alarm);
  EXPECT_THAT(alarms, ::testing::ElementsAre(false, true, true, false, false, false, true, false, true));
}

TEST(ScorerOperatorTest, ReasonsAreTheTopContributionsLargestFirst) {
  const auto three = [](const Txn& t, std::span<double> out) {
    out[0] = t.amount;
    out[1] = t.hour;
    out[2] = 0.25;
  };
  auto op = key_by(card_of).score(three, anomaly::per_key([] { return ScriptedDetector(3); })).top(2).make_stage<Txn>();
  std::vector<Row> rows;
  push(op, {"a", 1, 0.25, 0.5}, rows);  // weights 0.25, 0.5, 0.25: a tie goes to the lower index
  push(op, {"a", 2, 0.0, 0.0}, rows);   // only the constant feature
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0].reasons, ::testing::ElementsAre(Contribution{1, 0.5}, Contribution{0, 0.25}));
  EXPECT_THAT(rows[1].reasons, ::testing::ElementsAre(Contribution{2, 1.0}));

  auto no_top = key_by(card_of).score(three, anomaly::per_key([] { return ScriptedDetector(3); })).make_stage<Txn>();
  rows.clear();
  push(no_top, {"a", 1, 0.25, 0.5}, rows);
  EXPECT_TRUE(rows[0].reasons.empty());
}

TEST(ScorerOperatorTest, ReasonsMatchTheDetectorsContributionsBeforeLearning) {
  auto op = key_by(card_of).score(amount_and_hour, anomaly::per_task(hst())).top(2).make_stage<Txn>();
  HalfSpaceTrees reference = hst();
  SplitMix64 rng(3);
  std::vector<Row> rows;
  std::vector<Contribution> expected;
  int explained = 0;
  for (int i = 0; i < 400; ++i) {
    const bool odd = i % 37 == 0;
    const Txn t{"c" + std::to_string(i % 5), i, odd ? 190.0 : 50 + 10 * rng.uniform(), odd ? 3.0 : 12 + rng.uniform()};
    const double x[2] = {t.amount, t.hour};
    const double score = reference.score(x);
    reference.contributions(x, 2, expected);
    reference.learn(x);
    rows.clear();
    push(op, t, rows);
    ASSERT_EQ(rows[0].score(), score) << i;
    ASSERT_EQ(rows[0].reasons, expected) << i;
    explained += !expected.empty();
  }
  EXPECT_GT(explained, 0);
}

TEST(ScorerOperatorTest, AFeatureLeftUnsetIsMissing) {
  const auto amount_only_if_positive = [](const Txn& t, std::span<double> out) {
    if (t.amount > 0) out[0] = t.amount;
  };
  auto op = key_by(card_of).score(amount_only_if_positive, zscore_per_key()).make_stage<Txn>();
  std::vector<Row> rows;
  for (const Txn& t : history("a", 10, 20)) push(op, t, rows);
  rows.clear();
  push(op, {"a", 30'000, -1, 0}, rows);  // missing: scores 0 and is not learnt
  push(op, {"a", 31'000, 10, 0}, rows);
  EXPECT_EQ(rows[0].score(), 0.0);
  EXPECT_LT(rows[1].score(), 0.5);
}

TEST(ScorerOperatorTest, RunsInAPipelineWithTheKeyAsRecordKey) {
  struct Reading {
    int64_t sensor;
    Timestamp time;
    double value;
  };
  auto p = pipeline<Reading>()
               .event_time([](const Reading& r) { return r.time; }, 0ms)
               .then(key_by([](const Reading& r) { return r.sensor; })
                         .score([](const Reading& r, std::span<double> out) { out[0] = r.value; },
                                anomaly::per_key([] { return EwmaZScore({.warmup = 2}); }))
                         .alarm({.threshold = 0.9, .quiet_period_ms = 60'000})
                         .top(1));
  std::vector<std::string> keys;
  std::vector<Timestamp> times;
  std::vector<bool> alarms;
  auto sink = [&](Element<Scored<Reading>>&& e) {
    keys.emplace_back(e.meta.key);
    times.push_back(e.meta.timestamp);
    alarms.push_back(e.value.alarm);
  };
  const std::vector<Reading> readings = {{-7, 10, 1.0}, {-7, 20, 1.5}, {3, 25, 5}, {-7, 30, 1.2}, {-7, 40, 50}};
  for (const Reading& r : readings) p.push(Element<Reading>{r, {}}, sink);
  p.finish(sink);
  EXPECT_THAT(keys, ::testing::ElementsAre("-7", "-7", "3", "-7", "-7"));
  EXPECT_THAT(times, ::testing::ElementsAre(10, 20, 25, 30, 40));
  EXPECT_THAT(alarms, ::testing::ElementsAre(false, false, false, false, true));
}

TEST(ScorerOperatorTest, TtlForgetsKeysInEventTime) {
  // warmup 5: a key with a fresh model scores 0.
  auto op = key_by(card_of).score(amount_of, zscore_per_key()).ttl(10s).make_stage<Txn>();
  std::vector<Row> rows;
  for (const Txn& t : history("a", 10, 20, 0)) push(op, t, rows);      // last event at 19 000
  for (const Txn& t : history("b", 10, 20, 5'000)) push(op, t, rows);  // last event at 24 000
  EXPECT_EQ(op.key_count(), 2u);
  watermark(op, 28'999, rows);
  EXPECT_EQ(op.key_count(), 2u);
  watermark(op, 29'000, rows);  // a's last event + 10 s
  EXPECT_EQ(op.key_count(), 1u);
  rows.clear();
  push(op, {"a", 29'500, 1000, 12}, rows);  // a starts over: a fresh model scores 0
  EXPECT_EQ(rows[0].score(), 0.0);
  // b's own event shows it expired, before any watermark does.
  push(op, {"b", 34'000, 1000, 12}, rows);
  EXPECT_EQ(rows[1].score(), 0.0);
  watermark(op, kMaxTimestamp, rows);
  EXPECT_EQ(op.key_count(), 0u);
}

TEST(ScorerOperatorTest, TtlGivenToKeyByAppliesToo) {
  auto op = key_by(card_of).ttl(1s).score(amount_of, zscore_per_key()).make_stage<Txn>();
  std::vector<Row> rows;
  push(op, {"a", 0, 1, 0}, rows);
  watermark(op, 1000, rows);
  EXPECT_EQ(op.key_count(), 0u);
}

// A random stream over `keys` cards: events move forward by up to 400 ms and
// arrive up to 2 s out of order; about one in 40 is a spike. Every 250
// events (about 50 s) another half of the cards is active, so cards go quiet
// for long enough to expire.
std::vector<Txn> random_stream(uint64_t seed, int n, int keys) {
  SplitMix64 rng(seed);
  std::vector<Txn> txns;
  Timestamp cursor = 1'000'000;
  for (int i = 0; i < n; ++i) {
    cursor += static_cast<Timestamp>(rng.below(400));
    const int k = (i / 250 + static_cast<int>(rng.below(static_cast<uint32_t>(keys / 2)))) % keys;
    const bool spike = rng.below(40) == 0;
    const double level = 20 + 10 * k;
    txns.push_back({"card-" + std::to_string(k), cursor - static_cast<Timestamp>(rng.below(2000)),
                    spike ? level * 8 : level * (0.8 + 0.4 * rng.uniform()), spike ? 3 : 9 + 6 * rng.uniform()});
  }
  return txns;
}

struct StreamRun {
  std::vector<Row> rows;
  std::vector<std::size_t> key_counts;  // after each event and its watermark

  // How many watermarks expired keys.
  int expirations() const {
    int n = 0;
    for (std::size_t i = 1; i < key_counts.size(); ++i) n += key_counts[i] < key_counts[i - 1];
    return n;
  }
  bool operator==(const StreamRun&) const = default;
};

// Runs the stream with a watermark 2 s behind the largest time after each
// event. Before each event in `checkpoints` the operator is checkpointed
// into one MemoryState (so later checkpoints write only changes) and, when
// `restore` is set, replaced by a fresh one restored from it.
template <class MakeOp>
StreamRun run_with_restores(const MakeOp& make_op, const std::vector<Txn>& txns,
                            const std::vector<std::size_t>& checkpoints, bool restore = true) {
  std::optional<decltype(make_op())> op(make_op());
  testing::MemoryState state;
  StreamRun run;
  std::vector<Row>& rows = run.rows;
  Timestamp max_time = kMinTimestamp;
  std::size_t next_checkpoint = 0;
  for (std::size_t i = 0; i < txns.size(); ++i) {
    if (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint] == i) {
      ++next_checkpoint;
      op->checkpoint(state.writer(0));
      if (restore) {
        op.emplace(make_op());
        const Status status = op->restore(state.reader(0));
        EXPECT_TRUE(status.is_ok()) << status.to_string();
      }
    }
    push(*op, txns[i], rows);
    if (txns[i].time > max_time) {
      max_time = txns[i].time;
      watermark(*op, max_time - 2000, rows);
    }
    run.key_counts.push_back(op->key_count());
  }
  watermark(*op, kMaxTimestamp, rows);
  return run;
}

TEST(ScorerOperatorTest, RestoredPerKeyScorerContinuesIdentically) {
  const auto make_op = [] {
    return key_by(card_of)
        .score(amount_of, zscore_per_key())
        .alarm({.threshold = 0.9, .quiet_period_ms = 5000})
        .top(1)
        .ttl(20s)
        .make_stage<Txn>();
  };
  const std::vector<Txn> txns = random_stream(11, 3000, 12);
  const StreamRun straight = run_with_restores(make_op, txns, {});
  EXPECT_GT(straight.expirations(), 5);
  int alarms = 0;
  for (const Row& r : straight.rows) alarms += r.alarm;
  EXPECT_GT(alarms, 10);
  EXPECT_EQ(run_with_restores(make_op, txns, {1500}), straight);
  EXPECT_EQ(run_with_restores(make_op, txns, {0, 1, 7, 400, 1999, 2999}), straight);
  EXPECT_EQ(run_with_restores(make_op, txns, {0, 1, 7, 400, 1999, 2999}, /*restore=*/false), straight);
}

TEST(ScorerOperatorTest, RestoredPerTaskScorerContinuesIdentically) {
  const auto make_op = [] {
    return key_by(card_of)
        .score(amount_and_hour, anomaly::per_task(hst()))
        .alarm({.threshold = 0.6, .quiet_period_ms = 3000})
        .top(2)
        .ttl(15s)
        .make_stage<Txn>();
  };
  const std::vector<Txn> txns = random_stream(12, 3000, 8);
  const StreamRun straight = run_with_restores(make_op, txns, {});
  EXPECT_GT(straight.expirations(), 5);
  int alarms = 0;
  for (const Row& r : straight.rows) alarms += r.alarm;
  EXPECT_GT(alarms, 5);
  EXPECT_EQ(run_with_restores(make_op, txns, {1500}), straight);
  EXPECT_EQ(run_with_restores(make_op, txns, {3, 49, 50, 51, 1000, 2500}), straight);
}

TEST(ScorerOperatorTest, CheckpointsWriteOnlyTheKeysThatChanged) {
  auto op = key_by(card_of).score(amount_of, zscore_per_key()).ttl(1h).make_stage<Txn>();
  std::vector<Row> rows;
  for (int k = 0; k < 50; ++k) push(op, {"c" + std::to_string(k), k, 10, 12}, rows);
  testing::MemoryState state;
  op.checkpoint(state.writer(0));
  EXPECT_EQ(state.stage(0).take_counts().puts, 50u + 50 + 1);  // every key, its TTL timer, the meta entry
  for (int k : {4, 8, 8, 15}) push(op, {"c" + std::to_string(k), 100, 10, 12}, rows);
  op.checkpoint(state.writer(0));
  const testing::WriteCounts counts = state.stage(0).take_counts();
  EXPECT_EQ(counts.puts, 3u + 1);
  EXPECT_EQ(counts.removes, 0u);
  // The TTL: every key but the three goes.
  watermark(op, 3'600'050, rows);
  op.checkpoint(state.writer(0));
  EXPECT_EQ(state.stage(0).take_counts().removes, 47u + 47 + 3);  // the keys, their timers, the three's old ones
  EXPECT_EQ(state.stage(0).entries.size(), 1u + 3 + 3);
}

TEST(ScorerOperatorTest, IntegerKeysAreWrittenInKeyOrder) {
  struct Reading {
    int32_t sensor;
    double value;
  };
  const auto make_op = [] {
    return key_by([](const Reading& r) { return r.sensor; })
        .score([](const Reading& r, std::span<double> out) { out[0] = r.value; }, zscore_per_key())
        .make_stage<Reading>();
  };
  auto op = make_op();
  struct Discard {
    void operator()(Element<Scored<Reading>>&&) const {}
  } discard;
  for (int i = 0; i < 30; ++i) op.process(Element<Reading>{{i % 3 - 1, 1.0 * i}, {}}, discard);
  testing::MemoryState state;
  op.checkpoint(state.writer(0));
  std::vector<std::string> keys;
  for (const auto& [key, value] : state.stage(0).entries) keys.push_back(key);
  using namespace std::string_literals;
  EXPECT_THAT(keys, ::testing::ElementsAre("\0"s, "\1\x7f\xff\xff\xff"s, "\1\x80\0\0\0"s, "\1\x80\0\0\1"s));
  auto restored = make_op();
  ASSERT_TRUE(restored.restore(state.reader(0)).is_ok());
  EXPECT_EQ(restored.key_count(), 3u);
}

TEST(ScorerOperatorTest, RestoreRejectsSpoiltStateAndKeepsItsOwn) {
  const auto make_op = [] {
    return key_by(card_of).score(amount_and_hour, anomaly::per_task(hst())).ttl(1h).make_stage<Txn>();
  };
  auto op = make_op();
  std::vector<Row> rows;
  for (const Txn& t : random_stream(5, 300, 4)) push(op, t, rows);
  testing::MemoryState state;
  op.checkpoint(state.writer(0));

  const auto accepted = testing::restore_spoilt(
      state, 0, [&](testing::MemoryState& spoilt) { return make_op().restore(spoilt.reader(0)); }, 2000);
  EXPECT_EQ(accepted.truncated, 0);
  EXPECT_EQ(accepted.extended, 0);
  EXPECT_EQ(accepted.retagged, 0);

  // A failed restore leaves the operator as it was.
  auto target = make_op();
  push(target, {"z", 1, 10, 10}, rows);
  testing::MemoryState spoilt = state;
  auto& spoilt_entries = spoilt.stage(0).entries;
  std::prev(spoilt_entries.lower_bound(std::string(1, '\2')))->second.pop_back();  // the last key's entry
  EXPECT_EQ(target.restore(spoilt.reader(0)).code(), StatusCode::kCorruption);
  EXPECT_EQ(target.key_count(), 1u);

  // A per-task detector of another shape rejects the meta entry.
  auto other = key_by(card_of)
                   .score(amount_and_hour, anomaly::per_task([] {
                            HalfSpaceTreesOptions o;
                            o.ranges = {{0, 200}, {0, 24}};
                            o.trees = 3;
                            return HalfSpaceTrees::create(o).value();
                          }()))
                   .make_stage<Txn>();
  EXPECT_EQ(other.restore(state.reader(0)).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace kappa
