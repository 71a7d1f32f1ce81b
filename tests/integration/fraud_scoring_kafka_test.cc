// Runs fraud_scoring over Kafka topics (embedded broker, and the real Kafka
// of the ctest fixture) and over a file holding the same generated
// transactions. Over Kafka every transaction gets exactly one score on the
// scores topic and one record on the features topic, keyed by its card; and
// every transaction's features are the ones the file run computed (a card's
// transactions share a partition, in order, so features do not depend on
// where they are read from: a replay gives the features served live).
// Scores are not compared: the Half-Space Trees model is per task, so it
// learns from different transactions with 4 partitions than with a file.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "connectors/codec/message_codec.h"
#include "jobs/gen/transaction_generator.h"
#include "jobs/proto/transaction.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/test_cluster.h"

namespace kappa::testing {
namespace {

using namespace std::chrono_literals;
using google::protobuf::util::MessageDifferencer;

constexpr int kTransactions = 20'000;

std::unique_ptr<ChildProcess> spawn_fraud_scoring(const std::vector<std::string>& args) {
  std::vector<std::string> argv{KAPPA_FRAUD_SCORING_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  Result<std::unique_ptr<ChildProcess>> job = ChildProcess::spawn(argv);
  if (!job.is_ok()) throw std::runtime_error(job.status().to_string());
  return std::move(job).value();
}

std::vector<jobs::Transaction> generate() {
  gen::GeneratorOptions options;
  options.seed = 11;
  options.cards = 20'000;
  options.rate = 100;
  gen::TransactionGenerator generator(options);
  std::vector<jobs::Transaction> transactions;
  for (int i = 0; i < kTransactions; ++i) transactions.push_back(generator.next().transaction);
  return transactions;
}

class FraudScoringKafkaTest : public ::testing::TestWithParam<ClusterKind> {};

TEST_P(FraudScoringKafkaTest, OneScorePerTransactionAndTheFileRunsFeatures) {
  const std::vector<jobs::Transaction> transactions = generate();
  char dir_template[] = "/tmp/fraud-kafka-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;

  // The file run: the reference features.
  const MessageCodec<jobs::Transaction> json_transactions(WireFormat::kJson);
  {
    std::ofstream input(dir + "/transactions.jsonl");
    std::string line;
    for (const jobs::Transaction& t : transactions) {
      line.clear();
      json_transactions.encode(t, line);
      input << line << "\n";
    }
  }
  auto file_run = spawn_fraud_scoring({"--input", "file:" + dir + "/transactions.jsonl", "--output",
                                       "file:" + dir + "/scores.jsonl", "--features-output",
                                       "file:" + dir + "/features.jsonl"});
  std::optional<int> file_code = file_run->wait(120s);
  ASSERT_TRUE(file_code.has_value());
  ASSERT_EQ(*file_code, 0) << file_run->output();
  const MessageCodec<jobs::TransactionFeatures> json_features(WireFormat::kJson);
  std::map<std::string, jobs::CardFeatures> expected;
  {
    std::ifstream features(dir + "/features.jsonl");
    jobs::TransactionFeatures f;
    for (std::string line; std::getline(features, line);) {
      ASSERT_TRUE(json_features.decode(line, f).is_ok()) << line;
      expected[f.transaction().transaction_id()] = f.features();
    }
  }
  ASSERT_EQ(expected.size(), transactions.size());

  auto cluster = TestCluster::create(GetParam());
  ASSERT_TRUE(cluster.is_ok()) << cluster.status().to_string();
  const std::string input = unique_topic("transactions");
  const std::string scores = unique_topic("scores");
  const std::string features = unique_topic("features");
  for (const std::string& topic : {input, scores, features}) ASSERT_TRUE((*cluster)->create_topic(topic, 4).is_ok());
  std::vector<std::pair<std::string, std::string>> records;
  for (const jobs::Transaction& t : transactions) records.emplace_back(t.card_id(), t.SerializeAsString());
  ASSERT_TRUE((*cluster)->produce(input, records).is_ok());

  auto job = spawn_fraud_scoring({"--brokers", (*cluster)->bootstrap(), "--input", input, "--output", scores,
                                  "--features-output", features, "--job-id", unique_topic("fraud"), "--from",
                                  "earliest", "--checkpoint-interval", "1s"});
  const bool all_scored = (*cluster)->wait_for_count(scores, kTransactions, 120s) &&
                          (*cluster)->wait_for_count(features, kTransactions, 60s);
  job->signal(SIGTERM);
  std::optional<int> code = job->wait(60s);
  ASSERT_TRUE(all_scored) << job->output();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << job->output();

  auto score_records = (*cluster)->read_all(scores);
  ASSERT_TRUE(score_records.is_ok()) << score_records.status().to_string();
  std::map<std::string, int> scored;
  std::size_t alarms = 0;
  for (const ConsumedRecord& r : *score_records) {
    jobs::FraudScore s;
    ASSERT_TRUE(s.ParseFromString(r.value));
    EXPECT_EQ(r.key, s.card_id());
    EXPECT_GE(s.score(), 0.0);
    EXPECT_LE(s.score(), 1.0);
    ASSERT_TRUE(expected.count(s.transaction_id())) << s.transaction_id();
    EXPECT_TRUE(MessageDifferencer::Equals(s.features(), expected[s.transaction_id()])) << s.transaction_id();
    ++scored[s.transaction_id()];
    alarms += s.alarm() ? 1 : 0;
  }
  EXPECT_EQ(scored.size(), transactions.size());
  for (const auto& [id, n] : scored) EXPECT_EQ(n, 1) << id << " scored " << n << " times";
  EXPECT_GT(alarms, 0u);

  auto feature_records = (*cluster)->read_all(features);
  ASSERT_TRUE(feature_records.is_ok()) << feature_records.status().to_string();
  std::size_t matching = 0;
  for (const ConsumedRecord& r : *feature_records) {
    jobs::TransactionFeatures f;
    ASSERT_TRUE(f.ParseFromString(r.value));
    EXPECT_EQ(r.key, f.transaction().card_id());
    matching += MessageDifferencer::Equals(f.features(), expected[f.transaction().transaction_id()]) ? 1 : 0;
  }
  EXPECT_EQ(matching, transactions.size());
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Embedded, FraudScoringKafkaTest, ::testing::Values(ClusterKind::kEmbedded));
INSTANTIATE_TEST_SUITE_P(Real, FraudScoringKafkaTest, ::testing::Values(ClusterKind::kReal));

}  // namespace
}  // namespace kappa::testing
