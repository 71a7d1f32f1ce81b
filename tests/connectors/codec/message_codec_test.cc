#include "connectors/codec/message_codec.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>

#include "jobs/proto/transaction.pb.h"
#include "runtime/codec.h"

namespace kappa {
namespace {

using jobs::Transaction;
using ::testing::HasSubstr;
using ::testing::Not;

static_assert(Codec<MessageCodec<Transaction>, Transaction>);

Transaction full_transaction() {
  Transaction t;
  t.set_transaction_id("tx-1");
  t.set_card_id("card-9");
  t.set_merchant_id("m-3");
  t.set_amount(12.5);
  t.set_currency("EUR");
  t.set_event_time(1'700'000'000'123);
  t.set_merchant_category("grocery");
  t.set_latitude(52.52);
  t.set_longitude(-13.405);
  t.set_channel("online");
  return t;
}

bool same(const Transaction& a, const Transaction& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

class MessageCodecTest : public ::testing::TestWithParam<WireFormat> {};

}  // namespace

// Test names and failure messages say "Json", not "4-byte object <02-00 00-00>".
void PrintTo(WireFormat format, std::ostream* os) {
  *os << (format == WireFormat::kJson ? "Json" : format == WireFormat::kProtobuf ? "Protobuf" : "Default");
}

namespace {

TEST_P(MessageCodecTest, RoundTrip) {
  const MessageCodec<Transaction> codec(GetParam());
  const Transaction original = full_transaction();
  std::string bytes;
  codec.encode(original, bytes);
  Transaction decoded;
  Status status = codec.decode(bytes, decoded);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_TRUE(same(decoded, original)) << decoded.DebugString();
}

TEST_P(MessageCodecTest, EmptyMessageRoundTrip) {
  const MessageCodec<Transaction> codec(GetParam());
  std::string bytes;
  codec.encode(Transaction(), bytes);
  Transaction decoded = full_transaction();
  ASSERT_TRUE(codec.decode(bytes, decoded).is_ok());
  EXPECT_TRUE(same(decoded, Transaction())) << decoded.DebugString();
}

TEST_P(MessageCodecTest, DecodeOverwritesAPreviousValueCompletely) {
  const MessageCodec<Transaction> codec(GetParam());
  Transaction sparse;
  sparse.set_transaction_id("tx-2");
  std::string bytes;
  codec.encode(sparse, bytes);

  Transaction value;
  std::string full_bytes;
  codec.encode(full_transaction(), full_bytes);
  ASSERT_TRUE(codec.decode(full_bytes, value).is_ok());
  ASSERT_TRUE(codec.decode(bytes, value).is_ok());
  EXPECT_TRUE(same(value, sparse)) << value.DebugString();
  EXPECT_EQ(value.card_id(), "");
  EXPECT_EQ(value.amount(), 0);
  EXPECT_EQ(value.event_time(), 0);
}

TEST_P(MessageCodecTest, EncodeAppends) {
  const MessageCodec<Transaction> codec(GetParam());
  std::string out = "head";
  codec.encode(full_transaction(), out);
  EXPECT_EQ(out.rfind("head", 0), 0u);
  EXPECT_GT(out.size(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Formats, MessageCodecTest, ::testing::Values(WireFormat::kProtobuf, WireFormat::kJson),
                         [](const auto& info) { return info.param == WireFormat::kJson ? "Json" : "Protobuf"; });

TEST(MessageCodecFormatTest, DefaultMeansProtobuf) {
  EXPECT_EQ(MessageCodec<Transaction>(WireFormat::kDefault).format(), WireFormat::kProtobuf);
  EXPECT_EQ(MessageCodec<Transaction>(WireFormat::kProtobuf).format(), WireFormat::kProtobuf);
  EXPECT_EQ(MessageCodec<Transaction>(WireFormat::kJson).format(), WireFormat::kJson);
}

TEST(MessageCodecProtobufTest, IsTheStandardBinaryEncoding) {
  const MessageCodec<Transaction> codec(WireFormat::kProtobuf);
  std::string bytes;
  codec.encode(full_transaction(), bytes);
  EXPECT_EQ(bytes, full_transaction().SerializeAsString());
}

TEST(MessageCodecProtobufTest, TruncatedMessageIsCorruptionNamingTheType) {
  const MessageCodec<Transaction> codec(WireFormat::kProtobuf);
  std::string bytes;
  codec.encode(full_transaction(), bytes);
  // The last field is channel = "online"; cut into it.
  bytes.resize(bytes.size() - 2);
  Transaction value;
  Status status = codec.decode(bytes, value);
  ASSERT_EQ(status.code(), StatusCode::kCorruption) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("kappa.jobs.Transaction"));
  EXPECT_THAT(status.message(), Not(HasSubstr("\n")));
}

TEST(MessageCodecProtobufTest, GarbageIsCorruption) {
  const MessageCodec<Transaction> codec(WireFormat::kProtobuf);
  Transaction value;
  Status status = codec.decode(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11), value);
  EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.to_string();
}

TEST(MessageCodecJsonTest, UsesProtoFieldNamesAndPrintsEveryField) {
  const MessageCodec<Transaction> codec(WireFormat::kJson);
  Transaction t;
  t.set_transaction_id("tx-1");
  t.set_event_time(5);
  std::string json;
  codec.encode(t, json);
  EXPECT_THAT(json, HasSubstr("\"transaction_id\":\"tx-1\""));
  EXPECT_THAT(json, Not(HasSubstr("transactionId")));
  EXPECT_THAT(json, HasSubstr("\"event_time\""));
  // Zero fields are written too, so consumers see zeros, not missing keys.
  EXPECT_THAT(json, HasSubstr("\"card_id\":\"\""));
  EXPECT_THAT(json, HasSubstr("\"amount\":0"));
  EXPECT_THAT(json, HasSubstr("\"merchant_category\""));
  // One value per line in JSON-lines files.
  EXPECT_THAT(json, Not(HasSubstr("\n")));
}

TEST(MessageCodecJsonTest, AcceptsProtoAndCamelCaseNames) {
  const MessageCodec<Transaction> codec(WireFormat::kJson);
  Transaction value;
  ASSERT_TRUE(codec.decode(R"({"transaction_id":"a","cardId":"c","amount":3.5,"event_time":"42"})", value).is_ok());
  EXPECT_EQ(value.transaction_id(), "a");
  EXPECT_EQ(value.card_id(), "c");
  EXPECT_EQ(value.amount(), 3.5);
  EXPECT_EQ(value.event_time(), 42);
  ASSERT_TRUE(codec.decode(R"({"event_time":43})", value).is_ok());
  EXPECT_EQ(value.event_time(), 43);
}

TEST(MessageCodecJsonTest, UnknownFieldsAreIgnored) {
  const MessageCodec<Transaction> codec(WireFormat::kJson);
  Transaction value;
  Status status =
      codec.decode(R"({"transaction_id":"t","added_in_v2":{"nested":[1,2,3]},"risk":0.3,"channel":"pos"})", value);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(value.transaction_id(), "t");
  EXPECT_EQ(value.channel(), "pos");
}

TEST(MessageCodecJsonTest, InvalidJsonIsOneLineCorruptionNamingTheType) {
  const MessageCodec<Transaction> codec(WireFormat::kJson);
  for (const char* bad : {"{not json", "", "[1,2]", R"({"amount":"lots"})", R"({"transaction_id":5})",
                          "{\"transaction_id\":\"a\",\n\"card_id\":}"}) {
    Transaction value;
    Status status = codec.decode(bad, value);
    ASSERT_EQ(status.code(), StatusCode::kCorruption) << bad << " -> " << status.to_string();
    EXPECT_THAT(status.message(), HasSubstr("kappa.jobs.Transaction")) << bad;
    EXPECT_THAT(status.message(), HasSubstr("JSON")) << bad;
    EXPECT_THAT(status.message(), Not(HasSubstr("\n"))) << bad;
  }
}

TEST(MessageCodecJsonTest, DecodeAfterAFailureStartsClean) {
  const MessageCodec<Transaction> codec(WireFormat::kJson);
  Transaction value = full_transaction();
  EXPECT_FALSE(codec.decode(R"({"transaction_id":"half", "amount": nope})", value).is_ok());
  ASSERT_TRUE(codec.decode(R"({"card_id":"c2"})", value).is_ok());
  Transaction expected;
  expected.set_card_id("c2");
  EXPECT_TRUE(same(value, expected)) << value.DebugString();
}

}  // namespace
}  // namespace kappa
