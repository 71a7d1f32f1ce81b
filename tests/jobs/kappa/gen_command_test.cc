// Runs the built kappa executable: `kappa gen transactions` to files.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/codec/message_codec.h"
#include "jobs/gen/transaction_generator.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace kappa::gen {
namespace {

using KappaRun = testing::ProgramRun;

KappaRun run_kappa(std::vector<std::string> args) {
  args.insert(args.begin(), KAPPA_PATH);
  Result<KappaRun> run = testing::run_to_exit(args, std::chrono::seconds(60));
  EXPECT_TRUE(run.is_ok()) << run.status().message();
  return run.is_ok() ? *run : KappaRun{};
}

// A fresh folder, removed at the end of the test.
class GenCommandTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return dir_.path(name); }
  std::vector<std::string> lines(const std::string& name) const { return dir_.read(name); }

 private:
  testing::TempDir dir_{"gen_command_test"};
};

int count_lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

TEST_F(GenCommandTest, WritesTheLibrarysTransactionsAndTheirLabelsToFiles) {
  const KappaRun run =
      run_kappa({"gen", "transactions", "--count", "1000", "--seed", "3", "--start", "2026-11-21T10:00:00Z", "--output",
                 "file:" + path("tx.jsonl"), "--labels-output", "file:" + path("labels.jsonl"), "--no-pace"});
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_NE(run.log.find("kappa gen: 1000 transactions ("), std::string::npos) << run.log;
  EXPECT_EQ(count_lines(run.log), 1) << run.log;

  const std::vector<std::string> transactions = lines("tx.jsonl");
  const std::vector<std::string> labels = lines("labels.jsonl");
  ASSERT_EQ(transactions.size(), 1000u);
  ASSERT_EQ(labels.size(), 1000u);

  GeneratorOptions options;
  options.seed = 3;
  options.start_ms = 1'795'255'200'000;  // 2026-11-21T10:00:00Z
  TransactionGenerator generator(options);
  const MessageCodec<jobs::Transaction> json(WireFormat::kJson);
  for (std::size_t i = 0; i < transactions.size(); ++i) {
    const LabelledTransaction expected = generator.next();
    jobs::Transaction written;
    ASSERT_TRUE(json.decode(transactions[i], written).is_ok()) << transactions[i];
    ASSERT_EQ(written.SerializeAsString(), expected.transaction.SerializeAsString()) << transactions[i];
    ASSERT_NE(transactions[i].find(R"("transaction_id":"tx-)" + std::to_string(i) + "\""), std::string::npos)
        << "proto field names: " << transactions[i];

    google::protobuf::Struct label;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(labels[i], &label).ok()) << labels[i];
    const auto& fields = label.fields();
    EXPECT_EQ(fields.at("transaction_id").string_value(), written.transaction_id());
    EXPECT_EQ(fields.at("card_id").string_value(), written.card_id());
    EXPECT_EQ(fields.at("fraud").bool_value(), expected.fraud);
    EXPECT_EQ(fields.at("kind").string_value(), expected.kind);
    EXPECT_EQ(fields.at("event_time").number_value(), static_cast<double>(written.event_time()));
  }
}

TEST_F(GenCommandTest, DurationBoundsTheTransactionsByTheirSchedule) {
  const KappaRun run =
      run_kappa({"gen", "transactions", "--duration", "2s", "--rate", "250", "--output", "file:" + path("tx.jsonl")});
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_EQ(lines("tx.jsonl").size(), 500u);
}

TEST_F(GenCommandTest, AWrongFlagIsOneLineAndExitCodeTwo) {
  const std::vector<std::vector<std::string>> wrong{
      {"--count", "10", "--output", "tx.jsonl"},                  // not file:
      {"--output", "file:" + path("tx.jsonl")},                   // unbounded file
      {"--count", "10"},                                          // nowhere to write
      {"--count", "10", "--topic", "t"},                          // no brokers
      {"--count", "10", "--rate", "0", "--output", "file:x"},     // generator option out of range
      {"--count", "10", "--duration", "soon", "--topic", "t"},    // not a duration
      {"--count", "10", "--start", "yesterday", "--topic", "t"},  // not a time
      {"--count", "10", "--topic", "t", "--output", "file:x"},    // both
  };
  for (const std::vector<std::string>& flags : wrong) {
    std::vector<std::string> args{"gen", "transactions"};
    args.insert(args.end(), flags.begin(), flags.end());
    const KappaRun run = run_kappa(args);
    EXPECT_EQ(run.exit_code, 2) << flags[flags.size() - 1] << ": " << run.log;
    EXPECT_EQ(count_lines(run.log), 1) << run.log;
  }
}

}  // namespace
}  // namespace kappa::gen
