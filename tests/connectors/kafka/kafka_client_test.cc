#include "connectors/kafka/kafka_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "connectors/kafka/embedded_broker.h"

namespace kappa {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A property's value in `conf`, or "<unset>".
std::string get(const KafkaConf& conf, const std::string& key) {
  char value[1024];
  std::size_t size = sizeof value;
  if (rd_kafka_conf_get(conf.get(), key.c_str(), value, &size) != RD_KAFKA_CONF_OK) return "<unset>";
  return value;
}

KafkaConf conf_for(KafkaRole role, std::vector<std::string> properties,
                   const std::map<std::string, std::string>& defaults = {}) {
  KafkaClientOptions options;
  options.brokers = "broker-a:9092,broker-b:9092";
  options.properties = std::move(properties);
  Result<KafkaConf> conf = make_kafka_conf(role, options, defaults);
  EXPECT_TRUE(conf.is_ok()) << conf.status().to_string();
  return conf.is_ok() ? std::move(conf).value() : KafkaConf(rd_kafka_conf_new());
}

TEST(MakeKafkaConfTest, SetsBootstrapServers) {
  KafkaConf conf = conf_for(KafkaRole::kConsumer, {});
  EXPECT_EQ(get(conf, "bootstrap.servers"), "broker-a:9092,broker-b:9092");
}

TEST(MakeKafkaConfTest, PropertiesApplyToBothRoles) {
  for (KafkaRole role : {KafkaRole::kConsumer, KafkaRole::kProducer}) {
    KafkaConf conf = conf_for(role, {"socket.timeout.ms=12345", "client.id=kappa-test"});
    EXPECT_EQ(get(conf, "socket.timeout.ms"), "12345");
    EXPECT_EQ(get(conf, "client.id"), "kappa-test");
  }
}

TEST(MakeKafkaConfTest, RolePrefixesApplyToOneRoleOnly) {
  const std::vector<std::string> properties{"consumer.fetch.wait.max.ms=77", "producer.linger.ms=33",
                                            "consumer.socket.timeout.ms=11111", "producer.socket.timeout.ms=22222"};
  KafkaConf consumer = conf_for(KafkaRole::kConsumer, properties);
  KafkaConf producer = conf_for(KafkaRole::kProducer, properties);
  const KafkaConf untouched(rd_kafka_conf_new());

  EXPECT_EQ(get(consumer, "fetch.wait.max.ms"), "77");
  EXPECT_EQ(get(consumer, "socket.timeout.ms"), "11111");
  EXPECT_EQ(get(consumer, "linger.ms"), get(untouched, "linger.ms"));

  EXPECT_EQ(get(producer, "linger.ms"), "33");
  EXPECT_EQ(get(producer, "socket.timeout.ms"), "22222");
  EXPECT_EQ(get(producer, "fetch.wait.max.ms"), get(untouched, "fetch.wait.max.ms"));
}

TEST(MakeKafkaConfTest, UserPropertiesWinOverDefaults) {
  KafkaConf conf =
      conf_for(KafkaRole::kConsumer, {"session.timeout.ms=7000"}, {{"session.timeout.ms", "6000"}, {"group.id", "g"}});
  EXPECT_EQ(get(conf, "session.timeout.ms"), "7000");
  EXPECT_EQ(get(conf, "group.id"), "g");
}

TEST(MakeKafkaConfTest, LaterPropertyWins) {
  KafkaConf conf = conf_for(KafkaRole::kProducer, {"linger.ms=1", "producer.linger.ms=2"});
  EXPECT_EQ(get(conf, "linger.ms"), "2");
}

TEST(MakeKafkaConfTest, BadPropertyIsInvalidArgumentNamingIt) {
  KafkaClientOptions options;
  options.brokers = "b:9092";
  const std::pair<std::string, std::string> cases[] = {
      {"no.such.property=1", "no.such.property"},
      {"socket.timeout.ms=soon", "socket.timeout.ms"},
      {"consumer.bogus.key=x", "bogus.key"},
  };
  for (const auto& [bad, key] : cases) {
    options.properties = {"linger.ms=1", bad};
    Result<KafkaConf> conf = make_kafka_conf(KafkaRole::kConsumer, options, {});
    ASSERT_FALSE(conf.is_ok()) << bad;
    EXPECT_EQ(conf.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(conf.status().message(), HasSubstr(key)) << conf.status().message();
    EXPECT_THAT(conf.status().message(), HasSubstr("-X")) << conf.status().message();
  }
}

TEST(MakeKafkaConfTest, BadPropertyForTheOtherRoleIsNotLookedAt) {
  KafkaClientOptions options;
  options.brokers = "b:9092";
  options.properties = {"producer.no.such.property=1"};
  EXPECT_TRUE(make_kafka_conf(KafkaRole::kConsumer, options, {}).is_ok());
  EXPECT_FALSE(make_kafka_conf(KafkaRole::kProducer, options, {}).is_ok());
}

TEST(SplitListTest, Splits) {
  EXPECT_THAT(split_list("a,b,,c"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(split_list("one"), ElementsAre("one"));
  EXPECT_THAT(split_list(""), IsEmpty());
  EXPECT_THAT(split_list(",,,"), IsEmpty());
  EXPECT_THAT(split_list(",a,"), ElementsAre("a"));
  EXPECT_THAT(split_list("x;y", ';'), ElementsAre("x", "y"));
  EXPECT_THAT(split_list("x,y", ';'), ElementsAre("x,y"));
}

class DescribeTopicsTest : public ::testing::Test {
 protected:
  // A consumer: unlike a producer, it never asks the broker to create topics.
  KafkaHandle client_for(const std::string& brokers) {
    KafkaClientOptions options;
    options.brokers = brokers;
    Result<KafkaConf> conf = make_kafka_conf(KafkaRole::kConsumer, options, {{"group.id", "describe-test"}});
    EXPECT_TRUE(conf.is_ok()) << conf.status().to_string();
    if (!conf.is_ok()) return nullptr;
    Result<KafkaHandle> client = make_kafka_client(KafkaRole::kConsumer, std::move(conf).value());
    EXPECT_TRUE(client.is_ok()) << client.status().to_string();
    return client.is_ok() ? std::move(client).value() : nullptr;
  }
};

TEST_F(DescribeTopicsTest, EmbeddedBrokerTopics) {
  auto broker = EmbeddedBroker::start();
  ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
  const std::string bootstrap = (*broker)->bootstrap();
  EXPECT_THAT(bootstrap, HasSubstr(":"));
  ASSERT_TRUE((*broker)->create_topic("three", 3).is_ok());
  ASSERT_TRUE((*broker)->create_topic("one", 1).is_ok());
  ASSERT_TRUE((*broker)->create_topic("three", 3).is_ok());  // again: a no-op

  KafkaHandle client = client_for(bootstrap);
  ASSERT_NE(client, nullptr);
  Result<std::map<std::string, int>> topics = describe_topics(client.get(), {"three", "one"}, bootstrap, 10s);
  ASSERT_TRUE(topics.is_ok()) << topics.status().to_string();
  EXPECT_EQ(topics->size(), 2u);
  EXPECT_EQ(topics->at("three"), 3);
  EXPECT_EQ(topics->at("one"), 1);
}

// Regression test: asking for a topic by name must not create it. librdkafka's
// mock cluster (the embedded broker) auto-creates any topic named in a
// Metadata request below v4 (4 partitions), and real brokers with
// auto.create.topics.enable do the same for producer handles, so the
// "no such topic" check never fired and a typo'd topic was created.
TEST_F(DescribeTopicsTest, MissingTopicIsNotFoundAndNotCreated) {
  auto broker = EmbeddedBroker::start();
  ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
  const std::string bootstrap = (*broker)->bootstrap();
  ASSERT_TRUE((*broker)->create_topic("three", 3).is_ok());
  KafkaHandle client = client_for(bootstrap);
  ASSERT_NE(client, nullptr);

  Result<std::map<std::string, int>> missing = describe_topics(client.get(), {"three", "nope"}, bootstrap, 10s);
  ASSERT_FALSE(missing.is_ok()) << "'nope' now exists with " << missing->at("nope") << " partitions";
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().to_string();
  EXPECT_THAT(missing.status().message(), HasSubstr("'nope'"));
  EXPECT_THAT(missing.status().message(), HasSubstr(bootstrap));
}

TEST_F(DescribeTopicsTest, MissingTopicThroughAProducerHandle) {
  // The sink checks its topic through its producer; that check must not
  // create the topic it is checking for.
  auto broker = EmbeddedBroker::start();
  ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
  const std::string bootstrap = (*broker)->bootstrap();
  KafkaClientOptions options;
  options.brokers = bootstrap;
  Result<KafkaConf> conf = make_kafka_conf(KafkaRole::kProducer, options, {});
  ASSERT_TRUE(conf.is_ok());
  Result<KafkaHandle> producer = make_kafka_client(KafkaRole::kProducer, std::move(conf).value());
  ASSERT_TRUE(producer.is_ok());
  Result<std::map<std::string, int>> missing = describe_topics(producer->get(), {"absent"}, bootstrap, 10s);
  ASSERT_FALSE(missing.is_ok()) << "the topic exists now with " << missing->at("absent") << " partitions";
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("'absent'"));
}

TEST_F(DescribeTopicsTest, UnreachableBrokersAreUnavailableNamingThem) {
  const std::string brokers = "127.0.0.1:1";
  KafkaHandle client = client_for(brokers);
  ASSERT_NE(client, nullptr);
  const auto started = std::chrono::steady_clock::now();
  Result<std::map<std::string, int>> topics = describe_topics(client.get(), {"t"}, brokers, 1s);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(topics.is_ok());
  EXPECT_EQ(topics.status().code(), StatusCode::kUnavailable) << topics.status().to_string();
  EXPECT_THAT(topics.status().message(), HasSubstr(brokers));
  EXPECT_THAT(topics.status().message(), HasSubstr("--brokers"));
  EXPECT_LT(took, 5s);
}

}  // namespace
}  // namespace kappa
