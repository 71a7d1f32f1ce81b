#include "jobs/fraud_scoring/card_features.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "operators/aggregate/encoding.h"
#include "runtime/pipeline.h"
#include "tests/support/memory_state.h"
#include "tests/support/restore_run.h"

namespace kappa::fraud {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kThirtyDays = 30 * kDay;
constexpr Timestamp kStart = 1'700'000'000'000;  // 2023-11-14

struct Place {
  double latitude;
  double longitude;
};
constexpr Place kParis{48.8566, 2.3522};
constexpr Place kLondon{51.5074, -0.1278};

jobs::Transaction transaction(std::string card, Timestamp time, double amount, std::string merchant = "m",
                              Place place = kParis) {
  static int next_id = 0;
  jobs::Transaction t;
  t.set_transaction_id("t" + std::to_string(next_id++));
  t.set_card_id(std::move(card));
  t.set_merchant_id(std::move(merchant));
  t.set_amount(amount);
  t.set_currency("EUR");
  t.set_event_time(time);
  t.set_latitude(place.latitude);
  t.set_longitude(place.longitude);
  return t;
}

class LateCounter final : public StageContext {
 public:
  void report_late() override { ++late; }
  int late = 0;
};

struct Output {
  std::string transaction_id;
  std::string key;
  Timestamp timestamp;
  CardFeatures features;
};

// Feeds an operator as the pipeline's event_time() stage does: each
// transaction stamped with its event time, then the watermark (the largest
// time so far minus the out-of-orderness) whenever it moves. The watermark
// lives outside the operator, upstream, so it carries over a restore.
class Feeder {
 public:
  explicit Feeder(int64_t out_of_orderness) : out_of_orderness_(out_of_orderness) {}

  void push(CardFeaturesOperator& op, const jobs::Transaction& t, std::vector<Output>& out) {
    auto sink = [&](Element<FeaturedTransaction>&& r) {
      out.push_back(
          {r.value.transaction.transaction_id(), std::string(r.meta.key), r.meta.timestamp, r.value.features});
    };
    Element<jobs::Transaction> e{t, {}};
    e.meta.timestamp = t.event_time();
    op.process(std::move(e), sink);
    const Timestamp candidate = t.event_time() - out_of_orderness_;
    if (candidate > watermark_) {
      watermark_ = candidate;
      op.on_watermark(watermark_, sink);
    }
  }

 private:
  int64_t out_of_orderness_;
  Timestamp watermark_ = kMinTimestamp;
};

std::vector<Output> run(const std::vector<jobs::Transaction>& transactions, int64_t out_of_orderness = 0,
                        int* late = nullptr) {
  CardFeaturesOperator op;
  LateCounter counter;
  op.bind(counter);
  Feeder feeder(out_of_orderness);
  std::vector<Output> out;
  for (const auto& t : transactions) feeder.push(op, t, out);
  if (late != nullptr) *late = counter.late;
  return out;
}

// Every feature equal to the bit, named when one differs.
::testing::AssertionResult same_features(const CardFeatures& actual, const CardFeatures& expected) {
  const auto a = feature_values(actual);
  const auto e = feature_values(expected);
  std::string differences;
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    if (std::bit_cast<uint64_t>(a[i]) == std::bit_cast<uint64_t>(e[i])) continue;
    char line[160];
    std::snprintf(line, sizeof line, " %s: %.17g, expected %.17g;", std::string(kFeatureNames[i]).c_str(), a[i], e[i]);
    differences += line;
  }
  if (differences.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << differences;
}

// ---- Hand-checked examples -------------------------------------------------

TEST(CardFeaturesTest, FirstTransactionHasNoPrevious) {
  const auto out = run({transaction("c", kStart, 12.5)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "c");
  EXPECT_EQ(out[0].timestamp, kStart);
  CardFeatures expected;
  expected.count_1m = expected.count_1h = expected.count_24h = 1;
  expected.sum_1m = expected.sum_1h = expected.sum_24h = 12.5;
  expected.mean_30d = 12.5;
  expected.distinct_merchants_24h = 1;
  expected.seconds_since_previous = -1;
  EXPECT_TRUE(same_features(out[0].features, expected));
}

TEST(CardFeaturesTest, ParisToLondonInAnHour) {
  const auto out = run({transaction("c", kStart, 10, "a", kParis), transaction("c", kStart + kHour, 10, "b", kLondon)});
  ASSERT_EQ(out.size(), 2u);
  const CardFeatures& f = out[1].features;
  EXPECT_EQ(f.seconds_since_previous, 3600.0);
  EXPECT_NEAR(f.distance_km, 343.56, 0.01);
  EXPECT_DOUBLE_EQ(f.speed_kmh, f.distance_km);
  EXPECT_EQ(f.count_1m, 1);
  EXPECT_EQ(f.count_1h, 1);  // the window (t - 1h, t] leaves out the one exactly an hour before
  EXPECT_EQ(f.count_24h, 2);
  EXPECT_EQ(f.distinct_merchants_24h, 2);
}

TEST(CardFeaturesTest, TwoPlacesAtOneInstantUseAOneSecondGap) {
  const auto out = run({transaction("c", kStart, 1, "m", kParis), transaction("c", kStart, 1, "m", kLondon),
                        transaction("c", kStart, 1, "m", kLondon)});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].features.seconds_since_previous, 0.0);
  EXPECT_EQ(out[1].features.speed_kmh, out[1].features.distance_km / (1.0 / 3600.0));
  EXPECT_TRUE(std::isfinite(out[1].features.speed_kmh));
  EXPECT_EQ(out[2].features.distance_km, 0.0);
  EXPECT_EQ(out[2].features.speed_kmh, 0.0);  // same place: not moving, whatever the gap
  EXPECT_EQ(out[2].features.count_1m, 3);
  EXPECT_EQ(out[2].features.distinct_merchants_24h, 1);
}

TEST(CardFeaturesTest, WindowsAreOpenAtTheStartAndClosedAtTheEnd) {
  const auto out = run(
      {transaction("c", kStart, 1), transaction("c", kStart + kMinute - 1, 2), transaction("c", kStart + kMinute, 4)});
  EXPECT_EQ(out[1].features.count_1m, 2);
  EXPECT_EQ(out[1].features.sum_1m, 3.0);
  EXPECT_EQ(out[2].features.count_1m, 2);  // the first is exactly a minute older: out
  EXPECT_EQ(out[2].features.sum_1m, 6.0);
  EXPECT_EQ(out[2].features.count_1h, 3);
  EXPECT_EQ(out[2].features.sum_1h, 7.0);
}

TEST(CardFeaturesTest, MeanAndSampleStddevAreComputedFromExactCents) {
  const auto out =
      run({transaction("c", kStart, 0.1), transaction("c", kStart + 1, 0.2), transaction("c", kStart + 2, 0.3)});
  EXPECT_EQ(out[0].features.stddev_30d, 0.0);  // one amount
  EXPECT_EQ(out[2].features.mean_30d, 0.2);
  EXPECT_EQ(out[2].features.stddev_30d, 0.1);
  EXPECT_EQ(out[2].features.sum_1m, 0.6);  // 60 cents, not 0.1 + 0.2 + 0.3
  // Against 0.1 and 0.2: mean 0.15, stddev 0.0707..., z = (0.3 - 0.15) / 0.0707...
  EXPECT_NEAR(out[2].features.amount_zscore, 0.15 / std::sqrt(0.005), 1e-12);
}

TEST(CardFeaturesTest, ConstantHistoryFloorsTheSpreadAtOnePercentOfTheMean) {
  const auto out = run({transaction("c", kStart, 10), transaction("c", kStart + 1, 10),
                        transaction("c", kStart + 2, 10), transaction("c", kStart + 3, 20)});
  EXPECT_EQ(out[1].features.amount_zscore, 0.0);    // one earlier amount: too little history
  EXPECT_EQ(out[2].features.amount_zscore, 0.0);    // the usual amount
  EXPECT_EQ(out[3].features.amount_zscore, 100.0);  // (20 - 10) / max(0, 0.1, 0.01)
}

TEST(CardFeaturesTest, ZScoreSpreadIsAtLeastOneCent) {
  const auto out = run({transaction("c", kStart, 0), transaction("c", kStart + 1, 0), transaction("c", kStart + 2, 1)});
  EXPECT_EQ(out[2].features.amount_zscore, 100.0);  // 1 / max(0, 0, 0.01)
}

TEST(CardFeaturesTest, TransactionLaterInTimeThatArrivedEarlierIsNotInTheWindow) {
  const auto out =
      run({transaction("c", kStart + 30 * kSecond, 1, "late-in-time", kLondon),
           transaction("c", kStart, 2, "m", kParis), transaction("c", kStart + 40 * kSecond, 4, "m", kParis)},
          /*out_of_orderness=*/kMinute);
  ASSERT_EQ(out.size(), 3u);
  const CardFeatures& early = out[1].features;
  EXPECT_EQ(early.count_1m, 1);
  EXPECT_EQ(early.sum_1m, 2.0);
  EXPECT_EQ(early.distinct_merchants_24h, 1);
  EXPECT_EQ(early.seconds_since_previous, -1.0);  // the one at +30 s is after it
  const CardFeatures& last = out[2].features;
  EXPECT_EQ(last.count_1m, 3);
  EXPECT_EQ(last.sum_1m, 7.0);
  EXPECT_EQ(last.distinct_merchants_24h, 2);
  EXPECT_EQ(last.seconds_since_previous, 10.0);  // from +30 s, in London
  EXPECT_NEAR(last.distance_km, 343.56, 0.01);
}

TEST(CardFeaturesTest, LateTransactionsAreReportedAndIgnored) {
  int late = 0;
  const auto out = run({transaction("c", kStart + 10 * kSecond, 1), transaction("c", kStart + 4 * kSecond, 2),
                        transaction("c", kStart + 5 * kSecond, 4), transaction("c", kStart + 11 * kSecond, 8)},
                       /*out_of_orderness=*/5 * kSecond, &late);
  EXPECT_EQ(late, 1);  // +4 s < watermark +5 s; +5 s is not late
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].features.count_1m, 3);
  EXPECT_EQ(out[2].features.sum_1m, 13.0);  // without the late 2
}

TEST(CardFeaturesTest, CardUnseenForThirtyDaysStartsAfresh) {
  const auto out = run({transaction("c", kStart, 1), transaction("c", kStart + kThirtyDays - 1, 1),
                        transaction("c", kStart + 2 * kThirtyDays, 1)});
  EXPECT_EQ(out[1].features.seconds_since_previous, (kThirtyDays - 1) / 1000.0);
  EXPECT_EQ(out[1].features.mean_30d, 1.0);
  EXPECT_EQ(out[2].features.seconds_since_previous, -1.0);
  EXPECT_EQ(out[2].features.distance_km, 0.0);
}

TEST(CardFeaturesTest, AmountToCentsRoundsAndClamps) {
  EXPECT_EQ(amount_to_cents(0.29), 29);  // 28.999999999999996 before rounding
  EXPECT_EQ(amount_to_cents(-12.345), -1235);
  EXPECT_EQ(amount_to_cents(1e300), kMaxAbsCents);
  EXPECT_EQ(amount_to_cents(-std::numeric_limits<double>::infinity()), -kMaxAbsCents);
  EXPECT_EQ(amount_to_cents(std::nan("")), 0);
}

TEST(CardFeaturesTest, HaversineKnownDistances) {
  EXPECT_NEAR(haversine_km(kParis.latitude, kParis.longitude, kLondon.latitude, kLondon.longitude), 343.56, 0.01);
  EXPECT_EQ(haversine_km(10, 20, 10, 20), 0.0);
  EXPECT_NEAR(haversine_km(0, 0, 0, 180), std::numbers::pi * 6371.0088, 1e-9);  // half the circumference
}

TEST(CardFeaturesTest, AmountMomentsStayExactForHugeSums) {
  // A billion amounts at the clamp: n * sum(c^2) alone would overflow 128 bits.
  const int64_t n = 1'000'000'000;
  const Int128 c = kMaxAbsCents;
  const AmountMoments constant = amount_moments(n, c * n, c * c * n);
  EXPECT_DOUBLE_EQ(constant.mean, 1e12);
  EXPECT_EQ(constant.stddev, 0.0);
  // One amount 100 cents lower: sample variance (1 - 1/n) * 100^2 / (n - 1) cents^2 = 100^2 / n.
  const AmountMoments one_lower = amount_moments(n, c * n - 100, c * c * n - 2 * c * 100 + 100 * 100);
  EXPECT_NEAR(one_lower.stddev, 1.0 / std::sqrt(static_cast<double>(n)), 1e-15);
  EXPECT_EQ(amount_moments(0, 0, 0).mean, 0.0);
}

TEST(CardFeaturesTest, FeatureNamesAndValuesMatchTheProtobufFields) {
  CardFeatures f;
  f.count_1m = 1;
  f.count_1h = 2;
  f.count_24h = 3;
  f.sum_1m = 4.5;
  f.sum_1h = 5.5;
  f.sum_24h = 6.5;
  f.mean_30d = 7.5;
  f.stddev_30d = 8.5;
  f.amount_zscore = 9.5;
  f.distinct_merchants_24h = 10;
  f.seconds_since_previous = 11.5;
  f.distance_km = 12.5;
  f.speed_kmh = 13.5;
  jobs::CardFeatures proto;
  to_proto(f, &proto);
  const auto* descriptor = jobs::CardFeatures::descriptor();
  const auto* reflection = jobs::CardFeatures::GetReflection();
  ASSERT_EQ(static_cast<std::size_t>(descriptor->field_count()), kFeatureCount);
  std::vector<double> values;
  to_vector(f, values);
  ASSERT_EQ(values.size(), kFeatureCount);
  EXPECT_THAT(values, ::testing::ElementsAre(1, 2, 3, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10, 11.5, 12.5, 13.5));
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    const auto* field = descriptor->FindFieldByName(std::string(kFeatureNames[i]));
    ASSERT_NE(field, nullptr) << kFeatureNames[i];
    const double in_proto = field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_INT64
                                ? static_cast<double>(reflection->GetInt64(proto, field))
                                : reflection->GetDouble(proto, field);
    EXPECT_EQ(in_proto, values[i]) << kFeatureNames[i];
  }
}

// ---- Brute force ------------------------------------------------------------

// The features of every transaction computed from the whole arrival list,
// straight from the definitions in card_features.h: nullopt for late ones.
// It shares only the final formulas (amount_moments, haversine_km), so the
// doubles must agree to the bit.
std::vector<std::optional<CardFeatures>> reference(const std::vector<jobs::Transaction>& arrivals,
                                                   int64_t out_of_orderness) {
  const std::size_t n = arrivals.size();
  std::vector<bool> kept(n);
  Timestamp watermark = kMinTimestamp;
  for (std::size_t i = 0; i < n; ++i) {
    kept[i] = arrivals[i].event_time() >= watermark;
    watermark = std::max(watermark, arrivals[i].event_time() - out_of_orderness);
  }
  std::vector<std::optional<CardFeatures>> result(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!kept[i]) continue;
    const jobs::Transaction& e = arrivals[i];
    const Timestamp t = e.event_time();
    CardFeatures f;
    Int128 sum_1m = 0, sum_1h = 0, sum_24h = 0;
    int64_t count_30d = 0, earlier_count = 0;
    Int128 sum_30d = 0, squares_30d = 0, earlier_sum = 0, earlier_squares = 0;
    std::set<std::string> merchants;
    std::optional<std::size_t> previous;
    for (std::size_t j = 0; j <= i; ++j) {
      const jobs::Transaction& other = arrivals[j];
      if (!kept[j] || other.card_id() != e.card_id()) continue;
      const Timestamp age = t - other.event_time();
      if (age < 0 || age >= kThirtyDays) continue;
      const Int128 cents = std::llround(other.amount() * 100);
      if (age < kMinute) {
        ++f.count_1m;
        sum_1m += cents;
      }
      if (age < kHour) {
        ++f.count_1h;
        sum_1h += cents;
      }
      if (age < kDay) {
        ++f.count_24h;
        sum_24h += cents;
        merchants.insert(other.merchant_id());
      }
      ++count_30d;
      sum_30d += cents;
      squares_30d += cents * cents;
      if (j == i) continue;
      ++earlier_count;
      earlier_sum += cents;
      earlier_squares += cents * cents;
      if (!previous || other.event_time() >= arrivals[*previous].event_time()) previous = j;  // ties: later arrival
    }
    f.sum_1m = static_cast<double>(sum_1m) / 100.0;
    f.sum_1h = static_cast<double>(sum_1h) / 100.0;
    f.sum_24h = static_cast<double>(sum_24h) / 100.0;
    const AmountMoments all = amount_moments(count_30d, sum_30d, squares_30d);
    f.mean_30d = all.mean;
    f.stddev_30d = all.stddev;
    if (earlier_count >= 2) {
      const AmountMoments earlier = amount_moments(earlier_count, earlier_sum, earlier_squares);
      const double spread = std::max({earlier.stddev, 0.01 * std::abs(earlier.mean), 0.01});
      f.amount_zscore = (static_cast<double>(std::llround(e.amount() * 100)) / 100.0 - earlier.mean) / spread;
    }
    f.distinct_merchants_24h = static_cast<int64_t>(merchants.size());
    if (previous) {
      const jobs::Transaction& p = arrivals[*previous];
      const int64_t gap = t - p.event_time();
      f.seconds_since_previous = static_cast<double>(gap) / 1000.0;
      f.distance_km = haversine_km(p.latitude(), p.longitude(), e.latitude(), e.longitude());
      const double gap_seconds = gap == 0 ? 1.0 : f.seconds_since_previous;
      f.speed_kmh = f.distance_km == 0 ? 0.0 : f.distance_km / (gap_seconds / 3600.0);
    }
    result[i] = f;
  }
  return result;
}

// Cards with a few hot ones, bursts, ties, jumps of more than 30 days,
// transactions up to `out_of_orderness` out of order and some later than
// that, amounts in cents (some constant per card), homes and far trips.
std::vector<jobs::Transaction> random_stream(uint64_t seed, int64_t out_of_orderness, std::size_t size) {
  std::mt19937_64 rng(seed);
  const auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };
  const auto card_name = [](int64_t card) {
    // Some longer than the small-string buffer.
    return card % 3 == 0 ? "4000 1234 5678 " + std::to_string(1000 + card) : "card-" + std::to_string(card);
  };
  std::vector<jobs::Transaction> out;
  Timestamp clock = kStart;
  Timestamp previous_time = clock;
  while (out.size() < size) {
    const double step = std::uniform_real_distribution<double>(0, 1)(rng);
    if (step < 0.70) {
      clock += uniform(0, 5 * kSecond);
    } else if (step < 0.95) {
      clock += uniform(0, 10 * kMinute);
    } else if (step < 0.998) {
      clock += uniform(0, 6 * kHour);
    } else {
      clock += uniform(25 * kDay, 40 * kDay);
    }
    const int64_t card = chance(0.4) ? uniform(0, 7) : uniform(0, 299);
    const int64_t burst = chance(0.05) ? uniform(2, 6) : 1;
    for (int64_t b = 0; b < burst && out.size() < size; ++b) {
      Timestamp t = clock + (b == 0 ? 0 : uniform(0, 2 * kSecond)) - uniform(0, out_of_orderness);
      if (chance(0.3)) t -= t % kSecond;
      if (chance(0.05)) t = previous_time;
      if (chance(0.02)) t = clock - out_of_orderness - uniform(1, kHour);  // late, unless the watermark lags
      previous_time = t;
      const bool constant_amount = card % 7 == 0 && !chance(0.05);
      double amount = constant_amount ? 12.34 : static_cast<double>(uniform(1, 100'000)) / 100.0;
      if (chance(0.03)) amount = -amount;
      if (chance(0.01)) amount = 12'345'678.9;
      const std::string merchant = "merchant-" + std::to_string(card < 8 ? uniform(0, 4) : uniform(0, 59));
      Place place{static_cast<double>(card % 90), static_cast<double>(card % 180)};  // home
      if (chance(0.4))
        place = {place.latitude + uniform(-100, 100) / 1000.0, place.longitude + uniform(-100, 100) / 1000.0};
      if (chance(0.1)) place = {static_cast<double>(uniform(-89, 89)), static_cast<double>(uniform(-179, 179))};
      out.push_back(transaction(card_name(card), t, amount, merchant, place));
    }
  }
  return out;
}

constexpr int64_t kOutOfOrderness[] = {0, 30 * kSecond, 2 * kMinute, 10 * kMinute, 2 * kHour, 45 * kDay};

TEST(CardFeaturesTest, MatchesTheBruteForceReferenceOnRandomStreams) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    const int64_t out_of_orderness = kOutOfOrderness[seed % std::size(kOutOfOrderness)];
    const auto arrivals = random_stream(seed, out_of_orderness, 3000);
    const auto expected = reference(arrivals, out_of_orderness);
    int late = 0;
    const auto actual = run(arrivals, out_of_orderness, &late);
    std::size_t next = 0;
    int expected_late = 0;
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      if (!expected[i]) {
        ++expected_late;
        continue;
      }
      ASSERT_LT(next, actual.size()) << "seed " << seed;
      const Output& o = actual[next++];
      ASSERT_EQ(o.transaction_id, arrivals[i].transaction_id()) << "seed " << seed;
      ASSERT_EQ(o.key, arrivals[i].card_id());
      ASSERT_EQ(o.timestamp, arrivals[i].event_time());
      ASSERT_TRUE(same_features(o.features, *expected[i]))
          << "seed " << seed << ", arrival " << i << " (" << o.transaction_id << ", card " << o.key << ")";
    }
    EXPECT_EQ(next, actual.size()) << "seed " << seed;
    EXPECT_EQ(late, expected_late) << "seed " << seed;
    if (out_of_orderness > 0 && out_of_orderness < kDay) {
      EXPECT_GT(late, 0) << "seed " << seed;
    }
  }
}

TEST(CardFeaturesTest, ForgetsEveryCardThirtyDaysAfterItsLastTransaction) {
  const auto arrivals = random_stream(7, 2 * kMinute, 2000);
  CardFeaturesOperator op;
  Feeder feeder(2 * kMinute);
  std::vector<Output> out;
  Timestamp latest = kMinTimestamp;
  for (const auto& t : arrivals) {
    feeder.push(op, t, out);
    latest = std::max(latest, t.event_time());
  }
  EXPECT_GT(op.card_count(), 0u);
  auto ignore = [](auto&&) {};
  op.on_watermark(latest + kThirtyDays - 1, ignore);
  EXPECT_GT(op.card_count(), 0u);  // the newest transaction's 30 days are not over
  op.on_watermark(latest + kThirtyDays, ignore);
  EXPECT_EQ(op.card_count(), 0u);
  EXPECT_EQ(op.merchant_count(), 0u);
}

TEST(CardFeaturesTest, RestoredMidStreamGivesIdenticalResults) {
  for (uint64_t seed = 20; seed < 26; ++seed) {
    const int64_t out_of_orderness = kOutOfOrderness[seed % std::size(kOutOfOrderness)];
    const auto arrivals = random_stream(seed, out_of_orderness, 2000);
    const auto uninterrupted = run(arrivals, out_of_orderness);

    // Checkpoint at several points into one state, so most checkpoints write
    // only what changed, and go on in a fresh operator restored from it.
    CardFeaturesOperator op;
    LateCounter late;
    op.bind(late);
    Feeder feeder(out_of_orderness);
    testing::MemoryState state;
    std::vector<Output> out;
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      if (i == arrivals.size() / 2 || i % 331 == 0) {
        op.checkpoint(state.writer(0));
        CardFeaturesOperator restored;
        restored.bind(late);
        ASSERT_TRUE(restored.restore(state.reader(0)).is_ok()) << "seed " << seed << " at " << i;
        EXPECT_EQ(restored.card_count(), op.card_count());
        EXPECT_EQ(restored.merchant_count(), op.merchant_count());
        op = std::move(restored);
      }
      feeder.push(op, arrivals[i], out);
    }
    ASSERT_EQ(out.size(), uninterrupted.size()) << "seed " << seed;
    for (std::size_t i = 0; i < out.size(); ++i) {
      ASSERT_EQ(out[i].transaction_id, uninterrupted[i].transaction_id) << "seed " << seed;
      ASSERT_TRUE(same_features(out[i].features, uninterrupted[i].features)) << "seed " << seed << " output " << i;
    }
  }
}

TEST(CardFeaturesTest, CheckpointsWriteOnlyTheCardsThatChanged) {
  CardFeaturesOperator op;
  Feeder feeder(kMinute);
  std::vector<Output> out;
  for (int c = 0; c < 100; ++c) feeder.push(op, transaction("c" + std::to_string(c), kStart + c, 10), out);
  testing::MemoryState state;
  op.checkpoint(state.writer(0));
  EXPECT_EQ(state.stage(0).take_counts().puts, 100u + 100 + 1);  // every card, its timer, the meta entry

  for (int c : {3, 5, 5, 99}) feeder.push(op, transaction("c" + std::to_string(c), kStart + kSecond, 10), out);
  op.checkpoint(state.writer(0));
  testing::WriteCounts counts = state.stage(0).take_counts();
  EXPECT_EQ(counts.puts, 3u + 1);
  EXPECT_EQ(counts.removes, 0u);

  // 30 days on, every card but the newest one's is forgotten.
  feeder.push(op, transaction("new", kStart + kThirtyDays + 2 * kMinute, 10), out);
  op.checkpoint(state.writer(0));
  counts = state.stage(0).take_counts();
  EXPECT_EQ(counts.puts, 1u + 1 + 1);     // the new card, its timer, the meta entry
  EXPECT_EQ(counts.removes, 100u + 100);  // the cards and their timers
  EXPECT_EQ(state.stage(0).entries.size(), 3u);
}

TEST(CardFeaturesTest, RestoreRejectsSpoiltStateAndKeepsItsOwn) {
  const auto arrivals = random_stream(3, 30 * kSecond, 60);
  CardFeaturesOperator op;
  Feeder feeder(30 * kSecond);
  std::vector<Output> out;
  for (std::size_t i = 0; i < 40; ++i) feeder.push(op, arrivals[i], out);
  testing::MemoryState state;
  op.checkpoint(state.writer(0));

  // Random corruption may decode or not, but never crashes, even going on.
  const auto accepted = testing::restore_spoilt(
      state, 0,
      [&](testing::MemoryState& spoilt) {
        CardFeaturesOperator scratch;
        const Status status = scratch.restore(spoilt.reader(0));
        std::vector<Output> ignored;
        Feeder scratch_feeder(30 * kSecond);
        for (std::size_t i = 40; i < 45; ++i) scratch_feeder.push(scratch, arrivals[i], ignored);
        return status;
      },
      2000);
  EXPECT_EQ(accepted.truncated, 0);
  EXPECT_EQ(accepted.extended, 0);
  EXPECT_EQ(accepted.retagged, 0);

  // Two transactions of a card swapped in time: an entry no checkpoint writes.
  {
    using namespace agg::encoding;
    testing::MemoryState unordered = state;
    std::string value;
    put_i64(value, kMaxTimestamp);  // no timer
    put_varint(value, 0);
    put_count(value, 2);
    for (Timestamp time : {kStart + 1, kStart}) {
      put_i64(value, time);
      put_i64(value, 100);
      put_double(value, 0);
      put_double(value, 0);
      put_string(value, "m");
    }
    unordered.stage(0).entries[std::string(1, '\1') + "c"] = value;
    CardFeaturesOperator other;
    EXPECT_EQ(other.restore(unordered.reader(0)).code(), StatusCode::kCorruption);
  }

  // A failed restore changes nothing; a good one goes on as if never stopped.
  CardFeaturesOperator other;
  testing::MemoryState spoilt = state;
  auto& spoilt_entries = spoilt.stage(0).entries;
  std::prev(spoilt_entries.lower_bound(std::string(1, '\2')))->second.pop_back();  // the last card's entry
  EXPECT_FALSE(other.restore(spoilt.reader(0)).is_ok());
  EXPECT_EQ(other.card_count(), 0u);
  ASSERT_TRUE(other.restore(state.reader(0)).is_ok());
  Feeder other_feeder = feeder;
  std::vector<Output> rest, other_rest;
  for (std::size_t i = 40; i < arrivals.size(); ++i) {
    feeder.push(op, arrivals[i], rest);
    other_feeder.push(other, arrivals[i], other_rest);
  }
  ASSERT_EQ(rest.size(), other_rest.size());
  for (std::size_t i = 0; i < rest.size(); ++i) EXPECT_TRUE(same_features(other_rest[i].features, rest[i].features));
}

TEST(CardFeaturesTest, PipelineBuilderRunsTheOperator) {
  const auto arrivals = random_stream(11, 2 * kMinute, 1000);
  auto p = pipeline<jobs::Transaction>()
               .event_time([](const jobs::Transaction& t) { return t.event_time(); }, 2min)
               .then(card_features());
  static_assert(std::is_same_v<decltype(p)::output_type, FeaturedTransaction>);
  LateCounter late;
  p.bind(late);
  std::vector<Output> out;
  auto sink = [&](Element<FeaturedTransaction>&& r) {
    out.push_back({r.value.transaction.transaction_id(), std::string(r.meta.key), r.meta.timestamp, r.value.features});
  };
  for (const auto& t : arrivals) p.push(Element<jobs::Transaction>{t, {}}, sink);
  p.finish(sink);
  int expected_late = 0;
  const auto expected = run(arrivals, 2 * kMinute, &expected_late);
  EXPECT_EQ(late.late, expected_late);
  ASSERT_EQ(out.size(), expected.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i].transaction_id, expected[i].transaction_id);
    ASSERT_EQ(out[i].key, expected[i].key);
    ASSERT_EQ(out[i].timestamp, expected[i].timestamp);
    ASSERT_TRUE(same_features(out[i].features, expected[i].features));
  }
}

}  // namespace
}  // namespace kappa::fraud
