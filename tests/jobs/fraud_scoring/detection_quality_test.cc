// Detection quality of the fraud pipeline on the generator's labelled
// transactions (fixed seed): the job's own pipeline, in-process, one task.
// The figures are printed for the README; the assertions are floors well
// below them, so the test fails when detection breaks, not when it moves.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "connectors/codec/message_codec.h"
#include "jobs/fraud_scoring/evaluation.h"
#include "jobs/fraud_scoring/fraud_pipeline.h"
#include "jobs/gen/transaction_generator.h"

namespace kappa::fraud {
namespace {

struct ScoredRun {
  std::vector<LabelledScore> scores;
  std::map<std::string, std::vector<LabelledScore>> by_kind;
};

ScoredRun score_generated(int64_t transactions, const gen::GeneratorOptions& generator_options,
                    const FraudModelOptions& model) {
  EXPECT_TRUE(gen::TransactionGenerator::validate(generator_options).is_ok());
  gen::TransactionGenerator generator(generator_options);
  auto p = fraud_pipeline(model, 0, MessageCodec<jobs::TransactionFeatures>(WireFormat::kProtobuf));
  std::map<std::string, gen::LabelledTransaction> pending;
  ScoredRun run;
  auto sink = [&](Element<jobs::FraudScore>&& e) {
    auto it = pending.find(e.value.transaction_id());
    ASSERT_NE(it, pending.end());
    LabelledScore s{e.value.score(), e.value.alarm(), it->second.fraud, std::to_string(it->second.incident)};
    run.scores.push_back(s);
    run.by_kind[it->second.kind].push_back(s);
    pending.erase(it);
  };
  for (int64_t i = 0; i < transactions; ++i) {
    gen::LabelledTransaction t = generator.next();
    std::string id = t.transaction.transaction_id();
    Element<jobs::Transaction> e;
    e.value = t.transaction;
    e.meta.timestamp = t.transaction.event_time();
    pending.emplace(id, std::move(t));
    p.push(std::move(e), sink);
  }
  p.finish(sink);
  EXPECT_TRUE(pending.empty()) << "every transaction is scored once";
  return run;
}

TEST(DetectionQualityTest, AveragePrecisionFarAboveTheBaseRate) {
  gen::GeneratorOptions generator;
  generator.seed = 7;
  // A card used every 1000 s on average: time is compressed (real cards wait
  // hours), but bursts still stand out against a card's own pace.
  generator.cards = 500'000;
  generator.rate = 500;
  const ScoredRun run = score_generated(200'000, generator, FraudModelOptions{});
  const DetectionQuality q = evaluate(run.scores);
  std::printf("detection quality (seed 7, 200k transactions, 500k cards, 500/s): AP %.3f, base rate %.4f (%.0fx); "
              "alarms %zu, precision %.3f, recall %.3f, incident recall %.3f of %zu\n",
              q.average_precision, q.base_rate, q.average_precision / q.base_rate, q.alarms, q.alarm_precision,
              q.alarm_recall, q.incident_recall, q.incidents);
  for (const auto& [kind, scores] : run.by_kind) {
    if (kind == "legit") continue;
    const DetectionQuality k = evaluate(scores);
    std::printf("  %-18s %zu transactions, alarm recall %.3f, incident recall %.3f\n", kind.c_str(), k.fraud,
                k.alarm_recall, k.incident_recall);
  }
  EXPECT_GT(q.fraud, 1000u);
  EXPECT_GT(q.average_precision, 10 * q.base_rate);
}

}  // namespace
}  // namespace kappa::fraud
