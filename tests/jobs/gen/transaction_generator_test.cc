#include "jobs/gen/transaction_generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace kappa::gen {
namespace {

std::vector<LabelledTransaction> generate(const GeneratorOptions& options, int64_t count) {
  TransactionGenerator generator(options);
  std::vector<LabelledTransaction> out;
  out.reserve(count);
  for (int64_t i = 0; i < count; ++i) out.push_back(generator.next());
  return out;
}

// Everything a consumer of the stream sees of one transaction.
std::string serialized(const LabelledTransaction& t) {
  return t.transaction.SerializeAsString() + "|" + t.kind + "|" + std::to_string(t.fraud) + "|" +
         std::to_string(t.incident);
}

double distance_km(const jobs::Transaction& a, const jobs::Transaction& b) {
  constexpr double kEarthRadiusKm = 6371.0;
  constexpr double kRadians = M_PI / 180;
  const double dlat = (b.latitude() - a.latitude()) * kRadians;
  const double dlon = (b.longitude() - a.longitude()) * kRadians;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) + std::cos(a.latitude() * kRadians) *
                                                                 std::cos(b.latitude() * kRadians) *
                                                                 std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(h));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

TEST(TransactionGenerator, SameSeedGivesTheSameStreamAndAnotherSeedAnother) {
  GeneratorOptions options;
  options.seed = 7;
  const std::vector<LabelledTransaction> a = generate(options, 50'000);
  const std::vector<LabelledTransaction> b = generate(options, 50'000);
  options.seed = 8;
  const std::vector<LabelledTransaction> c = generate(options, 50'000);
  int differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(serialized(a[i]), serialized(b[i])) << "transaction " << i;
    differ += serialized(a[i]) != serialized(c[i]) ? 1 : 0;
  }
  EXPECT_EQ(differ, static_cast<int>(a.size()));
}

TEST(TransactionGenerator, EventTimesFollowTheOpenLoopSchedule) {
  GeneratorOptions options;
  options.rate = 300;  // 3.33 ms apart: floor matters
  options.start_ms = 1'000'000;
  TransactionGenerator generator(options);
  for (int64_t i = 0; i < 10'000; ++i) {
    const LabelledTransaction t = generator.next();
    ASSERT_EQ(t.transaction.event_time(), 1'000'000 + i * 1000 / 300) << i;
    ASSERT_EQ(t.transaction.transaction_id(), "tx-" + std::to_string(i));
    ASSERT_EQ(generator.event_time(i), t.transaction.event_time());
  }
}

TEST(TransactionGenerator, ValidateNamesTheOptionOutOfRange) {
  auto problem = [](auto change) {
    GeneratorOptions options;
    change(options);
    return TransactionGenerator::validate(options);
  };
  EXPECT_TRUE(problem([](GeneratorOptions&) {}).is_ok());
  EXPECT_EQ(problem([](GeneratorOptions& o) { o.cards = 0; }).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(problem([](GeneratorOptions& o) { o.cards = 2'000'000; }).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(problem([](GeneratorOptions& o) { o.rate = 0; }).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(problem([](GeneratorOptions& o) { o.rate = std::nan(""); }).code(), StatusCode::kInvalidArgument);
  const Status fraud = problem([](GeneratorOptions& o) { o.fraud_rate = 0.6; });
  EXPECT_EQ(fraud.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fraud.message(), "fraud rate must be from 0 to 0.5, not 0.6");
}

TEST(TransactionGenerator, NoFraudAtFraudRateZero) {
  GeneratorOptions options;
  options.fraud_rate = 0;
  for (const LabelledTransaction& t : generate(options, 20'000)) {
    ASSERT_FALSE(t.fraud);
    ASSERT_EQ(t.kind, kLegitKind);
  }
}

TEST(TransactionGenerator, FraudShareIsNearTheFraudRate) {
  // At 100/s incidents (up to a minute and a half) are short against the
  // stream, so few are cut off at its end.
  for (double fraud_rate : {0.005, 0.02}) {
    GeneratorOptions options;
    options.rate = 100;
    options.fraud_rate = fraud_rate;
    constexpr int64_t kCount = 200'000;
    int64_t fraud = 0;
    for (const LabelledTransaction& t : generate(options, kCount)) fraud += t.fraud ? 1 : 0;
    EXPECT_NEAR(static_cast<double>(fraud) / kCount, fraud_rate, 0.15 * fraud_rate);
  }
}

TEST(LabelJson, HasTheLabelFields) {
  LabelledTransaction t;
  t.transaction.set_transaction_id("tx-7");
  t.transaction.set_card_id("card-000042");
  t.transaction.set_event_time(1'767'268'800'007);
  t.fraud = true;
  t.kind = "card_testing";
  t.incident = 3;
  EXPECT_EQ(label_json(t), R"({"transaction_id":"tx-7","card_id":"card-000042","fraud":true,"kind":"card_testing",)"
                           R"("incident":3,"event_time":1767268800007})");
}

// 200,000 transactions at the defaults (200 s of event time), read by every
// test below.
class GeneratedStream : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    generator_ = new TransactionGenerator(GeneratorOptions{});
    stream_ = new std::vector<LabelledTransaction>();
    for (int i = 0; i < 200'000; ++i) stream_->push_back(generator_->next());
  }
  static void TearDownTestSuite() {
    delete stream_;
    delete generator_;
  }

  static const std::vector<LabelledTransaction>& stream() { return *stream_; }
  static const TransactionGenerator& generator() { return *generator_; }

  // The fraud transactions of `kind`, by incident.
  static std::map<int64_t, std::vector<const LabelledTransaction*>> incidents(std::string_view kind) {
    std::map<int64_t, std::vector<const LabelledTransaction*>> out;
    for (const LabelledTransaction& t : stream()) {
      if (t.kind == kind) out[t.incident].push_back(&t);
    }
    return out;
  }

  // The merchants each card used in legitimate transactions.
  static std::map<std::string, std::set<std::string>> legit_merchants() {
    std::map<std::string, std::set<std::string>> out;
    for (const LabelledTransaction& t : stream()) {
      if (!t.fraud) out[t.transaction.card_id()].insert(t.transaction.merchant_id());
    }
    return out;
  }

  // Whether the incident started early enough to end before the stream does.
  static bool complete(const std::vector<const LabelledTransaction*>& incident, Timestamp longest_ms) {
    return incident.front()->transaction.event_time() + longest_ms < stream().back().transaction.event_time();
  }

 private:
  static TransactionGenerator* generator_;
  static std::vector<LabelledTransaction>* stream_;
};
TransactionGenerator* GeneratedStream::generator_ = nullptr;
std::vector<LabelledTransaction>* GeneratedStream::stream_ = nullptr;

TEST_F(GeneratedStream, EveryFraudKindAppearsAndLabelsAgree) {
  std::map<std::string, int> by_kind;
  for (const LabelledTransaction& t : stream()) {
    ++by_kind[t.kind];
    ASSERT_EQ(t.fraud, t.kind != kLegitKind);
    ASSERT_EQ(t.fraud, t.incident > 0);
  }
  for (std::string_view kind : kFraudKinds) EXPECT_GE(by_kind[std::string(kind)], 20) << kind;
  EXPECT_EQ(by_kind.size(), kFraudKinds.size() + 1);
}

TEST_F(GeneratedStream, IdsAreUniqueAndEachCardMovesForwardInTime) {
  std::set<std::string> ids;
  std::map<std::string, Timestamp> last_time;
  for (const LabelledTransaction& t : stream()) {
    ASSERT_TRUE(ids.insert(t.transaction.transaction_id()).second) << t.transaction.transaction_id();
    auto [it, first] = last_time.try_emplace(t.transaction.card_id(), t.transaction.event_time());
    ASSERT_LE(it->second, t.transaction.event_time()) << t.transaction.card_id();
    it->second = t.transaction.event_time();
  }
  // Cards differ in activity, and many take part.
  EXPECT_GT(last_time.size(), 9'000u);
}

TEST_F(GeneratedStream, TransactionsAreWellFormed) {
  const std::set<std::string> channels{"pos", "online", "atm"};
  for (const LabelledTransaction& t : stream()) {
    const jobs::Transaction& x = t.transaction;
    ASSERT_EQ(x.card_id().rfind("card-", 0), 0u);
    ASSERT_EQ(x.merchant_id().rfind("m-", 0), 0u);
    ASSERT_GT(x.amount(), 0);
    ASSERT_EQ(x.amount(), std::round(x.amount() * 100) / 100) << "whole cents";
    ASSERT_EQ(x.currency().size(), 3u);
    ASSERT_FALSE(x.merchant_category().empty());
    ASSERT_TRUE(channels.count(x.channel())) << x.channel();
    ASSERT_TRUE(x.latitude() != 0 || x.longitude() != 0);
  }
}

TEST_F(GeneratedStream, LegitimateTransactionsStayNearHomeAtUsualMerchants) {
  std::map<std::string, const jobs::Transaction*> first;
  std::map<std::string, std::set<std::string>> merchants = legit_merchants();
  for (const LabelledTransaction& t : stream()) {
    if (t.fraud) continue;
    auto [it, inserted] = first.try_emplace(t.transaction.card_id(), &t.transaction);
    ASSERT_LT(distance_km(*it->second, t.transaction), 100) << t.transaction.transaction_id();
  }
  for (const auto& [card, used] : merchants) ASSERT_LE(used.size(), 21u) << card << ": 5-20 merchants and an ATM";
}

TEST_F(GeneratedStream, CardTestingIsSmallAmountsAtNewOnlineMerchantsSecondsApart) {
  const auto usual = legit_merchants();
  const auto all = incidents(kFraudKinds[0]);
  ASSERT_GE(all.size(), 10u);
  for (const auto& [id, incident] : all) {
    SCOPED_TRACE("incident " + std::to_string(id));
    std::set<std::string> merchants;
    for (std::size_t i = 0; i < incident.size(); ++i) {
      const jobs::Transaction& t = incident[i]->transaction;
      EXPECT_EQ(t.card_id(), incident[0]->transaction.card_id());
      EXPECT_GE(t.amount(), 0.5);
      EXPECT_LE(t.amount(), 2.0);
      EXPECT_EQ(t.channel(), "online");
      EXPECT_FALSE(usual.count(t.card_id()) && usual.at(t.card_id()).count(t.merchant_id())) << t.merchant_id();
      merchants.insert(t.merchant_id());
      // 1-3 s apart; a due step may wait a few transactions (ms) behind another.
      if (i > 0) {
        EXPECT_LE(t.event_time() - incident[i - 1]->transaction.event_time(), 3'100);
      }
    }
    EXPECT_EQ(merchants.size(), incident.size()) << "a new merchant each time";
    EXPECT_LE(incident.size(), 15u);
    if (complete(incident, 50'000)) {
      EXPECT_GE(incident.size(), 5u);
    }
  }
}

TEST_F(GeneratedStream, LargeAmountsAreManyTimesTheCardsUsualAmount) {
  std::map<std::string, std::vector<double>> legit_amounts;
  for (const LabelledTransaction& t : stream()) {
    if (!t.fraud && t.transaction.channel() != "atm") {
      legit_amounts[t.transaction.card_id()].push_back(t.transaction.amount());
    }
  }
  const auto usual = legit_merchants();
  const auto all = incidents(kFraudKinds[1]);
  ASSERT_GE(all.size(), 10u);
  int compared = 0;
  for (const auto& [id, incident] : all) {
    EXPECT_LE(incident.size(), 2u);
    for (const LabelledTransaction* t : incident) {
      const std::string& card = t->transaction.card_id();
      const int64_t index = std::stoll(card.substr(card.find('-') + 1));
      EXPECT_GE(t->transaction.amount(), 7.9 * generator().world().card(index).typical_amount) << card;
      EXPECT_FALSE(usual.count(card) && usual.at(card).count(t->transaction.merchant_id()));
      if (legit_amounts[card].size() >= 5) {
        EXPECT_GT(t->transaction.amount(), 4 * median(legit_amounts[card])) << card;
        ++compared;
      }
    }
  }
  EXPECT_GE(compared, 10);
}

TEST_F(GeneratedStream, ImpossibleTravelIsFasterThanAnyPlaneFromThePreviousTransaction) {
  std::map<std::string, const jobs::Transaction*> previous;
  int checked = 0;
  for (const LabelledTransaction& t : stream()) {
    const jobs::Transaction& x = t.transaction;
    if (t.kind == kFraudKinds[2]) {
      EXPECT_EQ(x.channel(), "pos");
      ASSERT_TRUE(previous.count(x.card_id())) << x.transaction_id() << " has no previous transaction";
      const jobs::Transaction& before = *previous[x.card_id()];
      const double km = distance_km(before, x);
      const double hours = static_cast<double>(x.event_time() - before.event_time()) / 3'600'000;
      EXPECT_GT(km, 5000) << x.transaction_id();
      EXPECT_LE(hours, 0.5) << x.transaction_id();
      EXPECT_GT(km / std::max(hours, 1e-9), 1000) << x.transaction_id();
      ++checked;
    }
    previous[x.card_id()] = &x;
  }
  EXPECT_GE(checked, 20);
}

TEST_F(GeneratedStream, MerchantBurstIsNewMerchantsWithinMinutes) {
  const auto usual = legit_merchants();
  const auto all = incidents(kFraudKinds[3]);
  ASSERT_GE(all.size(), 10u);
  for (const auto& [id, incident] : all) {
    SCOPED_TRACE("incident " + std::to_string(id));
    std::set<std::string> merchants;
    for (const LabelledTransaction* t : incident) {
      EXPECT_FALSE(usual.count(t->transaction.card_id()) &&
                   usual.at(t->transaction.card_id()).count(t->transaction.merchant_id()));
      merchants.insert(t->transaction.merchant_id());
    }
    EXPECT_EQ(merchants.size(), incident.size());
    EXPECT_LE(incident.size(), 10u);
    EXPECT_LE(incident.back()->transaction.event_time() - incident.front()->transaction.event_time(), 90'500);
    if (complete(incident, 100'000)) {
      EXPECT_GE(incident.size(), 5u);
    }
  }
}

}  // namespace
}  // namespace kappa::gen
