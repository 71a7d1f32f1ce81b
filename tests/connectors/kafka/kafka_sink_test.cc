#include "connectors/kafka/kafka_sink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_cluster.h"

namespace kappa {
namespace {

using namespace std::chrono_literals;
using testing::ClusterKind;
using testing::ConsumedRecord;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::TestCluster;

// A one-partition topic on a fresh embedded broker, so that records read
// back in the order written.
struct OneTopic {
  std::unique_ptr<TestCluster> cluster;
  std::string topic = testing::unique_topic("sink");

  OneTopic() {
    auto created = TestCluster::create(ClusterKind::kEmbedded);
    EXPECT_TRUE(created.is_ok()) << created.status().to_string();
    cluster = std::move(created).value();
    EXPECT_TRUE(cluster->create_topic(topic, 1).is_ok());
  }
  std::unique_ptr<KafkaSink> open_sink(std::vector<std::string> properties = {}) {
    auto sink = KafkaSink::open(KafkaSinkOptions{{cluster->bootstrap(), std::move(properties)}, topic});
    EXPECT_TRUE(sink.is_ok()) << sink.status().to_string();
    return sink.is_ok() ? std::move(sink).value() : nullptr;
  }
  std::vector<ConsumedRecord> read_all() {
    auto records = cluster->read_all(topic);
    EXPECT_TRUE(records.is_ok()) << records.status().to_string();
    return records.is_ok() ? std::move(records).value() : std::vector<ConsumedRecord>{};
  }
};

TEST(KafkaSinkTest, DeadLettersAreWrittenAsTheyCameWithTheirHeaders) {
  OneTopic t;
  auto sink = t.open_sink();
  ASSERT_NE(sink, nullptr);
  OutputBatch batch;
  const std::string binary("\0\xff\n", 3);
  batch.add_with_headers("key", binary, 1'700'000'000'001,
                         std::vector<Header>{{"kappa.error.kind", "decode"}, {"empty", ""}});
  batch.add_with_headers(std::string_view{}, std::string_view{}, 1'700'000'000'002, std::vector<Header>{{"n", "2"}});
  batch.add_with_headers("", "", 1'700'000'000'003, {});
  batch.add("", 1'700'000'000'004, [](std::string& bytes) { bytes += "a result"; });
  ASSERT_TRUE(sink->write(batch).is_ok());
  ASSERT_TRUE(sink->flush(10s).is_ok());

  const std::vector<ConsumedRecord> records = t.read_all();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].key, "key");
  EXPECT_EQ(records[0].value, binary);
  EXPECT_EQ(records[0].timestamp, 1'700'000'000'001);
  EXPECT_THAT(records[0].headers, ElementsAre(Pair("kappa.error.kind", "decode"), Pair("empty", "")));

  EXPECT_TRUE(records[1].null_key);
  EXPECT_TRUE(records[1].null_value);
  EXPECT_THAT(records[1].headers, ElementsAre(Pair("n", "2")));

  EXPECT_FALSE(records[2].null_key) << "an empty key stays empty";
  EXPECT_FALSE(records[2].null_value) << "an empty value stays empty";
  EXPECT_TRUE(records[2].headers.empty());

  // A plain result's empty key means "no key", as before.
  EXPECT_TRUE(records[3].null_key);
  EXPECT_EQ(records[3].value, "a result");
  EXPECT_TRUE(records[3].headers.empty());
}

TEST(KafkaSinkTest, ADeadLetterOverMessageMaxBytesFailsTheWriteAndSaysWhatToRaise) {
  OneTopic t;
  OutputBatch batch;
  batch.add_with_headers("big", std::string(2 * 1024 * 1024, 'x'), 1, std::vector<Header>{{"n", "1"}});

  auto sink = t.open_sink();
  ASSERT_NE(sink, nullptr);
  Status status = sink->write(batch);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("producer.message.max.bytes"));

  auto raised = t.open_sink({"producer.message.max.bytes=4194304"});
  ASSERT_NE(raised, nullptr);
  ASSERT_TRUE(raised->write(batch).is_ok());
  ASSERT_TRUE(raised->flush(10s).is_ok());
  const std::vector<ConsumedRecord> records = t.read_all();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value.size(), 2u * 1024 * 1024);
}

}  // namespace
}  // namespace kappa
