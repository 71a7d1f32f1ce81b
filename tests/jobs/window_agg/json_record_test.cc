#include "jobs/window_agg/json_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <utility>

#include "runtime/codec.h"

namespace kappa::window_agg {
namespace {

using ::testing::HasSubstr;

static_assert(Codec<JsonRecordCodec, JsonRecord>);
static_assert(std::is_copy_constructible_v<JsonRecord> && std::is_nothrow_move_constructible_v<JsonRecord>);

JsonRecord parsed(std::string_view json) {
  JsonRecord record;
  Status status = record.parse(json);
  EXPECT_TRUE(status.is_ok()) << json << ": " << status.message();
  return record;
}

std::string parse_error(std::string_view json) {
  JsonRecord record;
  Status status = record.parse(json);
  EXPECT_FALSE(status.is_ok()) << json << " parsed";
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_EQ(record.field_count(), 0u);
  return status.message();
}

TEST(JsonRecord, TopLevelFieldsWithTheirTextAsWritten) {
  const JsonRecord r =
      parsed(R"( {"card":"c1", "ts" : 1700000000000 ,"amount":12.50,"n":null,"ok":true,)"
             R"("o":{"a":[1,{"x":"]\"}"}]},"arr":[ 1, 2 ],"big":12345678901234567890,"e\u0041":"a\"b\\"} )");
  ASSERT_EQ(r.field_count(), 9u);
  struct Expected {
    std::string_view name;
    JsonKind kind;
    std::string_view json;
  };
  const Expected expected[] = {
      {"card", JsonKind::kString, R"("c1")"},   {"ts", JsonKind::kNumber, "1700000000000"},
      {"amount", JsonKind::kNumber, "12.50"},   {"n", JsonKind::kNull, "null"},
      {"ok", JsonKind::kBool, "true"},          {"o", JsonKind::kObject, R"({"a":[1,{"x":"]\"}"}]})"},
      {"arr", JsonKind::kArray, "[ 1, 2 ]"},    {"big", JsonKind::kNumber, "12345678901234567890"},
      {"eA", JsonKind::kString, R"("a\"b\\")"},
  };
  for (std::size_t i = 0; i < r.field_count(); ++i) {
    const JsonField f = r.field(i);
    EXPECT_EQ(f.name, expected[i].name);
    EXPECT_EQ(f.kind, expected[i].kind) << f.name;
    EXPECT_EQ(f.json, expected[i].json) << f.name;
  }
  EXPECT_EQ(r.find("card")->string, "c1");
  EXPECT_EQ(r.find("card")->text(), "c1");
  EXPECT_EQ(r.find("eA")->string, "a\"b\\");
  EXPECT_EQ(r.find("amount")->text(), "12.50");
  EXPECT_EQ(r.find("amount")->number(), 12.5);
  EXPECT_EQ(r.find("big")->number(), 12345678901234567890.0);
  EXPECT_EQ(r.find("card")->number(), std::nullopt);
  EXPECT_EQ(r.find("n")->number(), std::nullopt);
  EXPECT_FALSE(r.find("missing").has_value());
  EXPECT_FALSE(r.find("a").has_value());  // nested fields are not top-level fields
}

TEST(JsonRecord, EmptyObjectAndDuplicateNames) {
  EXPECT_EQ(parsed("{}").field_count(), 0u);
  const JsonRecord r = parsed(R"({"a":1,"a":2})");
  EXPECT_EQ(r.field_count(), 2u);
  EXPECT_EQ(r.find("a")->json, "1");  // the first one
}

TEST(JsonRecord, BadJsonIsOneLineNamingTheByte) {
  EXPECT_EQ(parse_error(R"({"a":1,})"), "invalid JSON at byte 7: Missing a name for object member.");
  EXPECT_THAT(parse_error(R"({"a":1} x)"), HasSubstr("invalid JSON at byte 8"));
  EXPECT_THAT(parse_error("not json"), HasSubstr("invalid JSON at byte 1: Invalid value."));
  EXPECT_THAT(parse_error(""), HasSubstr("The document is empty."));
  EXPECT_THAT(parse_error("{\"a\":\"\xff\"}"), HasSubstr("Invalid encoding"));
  // rapidjson rejects numbers beyond double's range, even kept as text.
  EXPECT_THAT(parse_error(R"({"a":1e999})"), HasSubstr("Number too big"));
  EXPECT_THAT(parse_error(std::string_view("{\"a\":1}\0{", 9)), HasSubstr("a NUL byte"));
  EXPECT_EQ(parse_error("[1,2]"), "a record must be a JSON object ({...}), found another JSON value");
  EXPECT_EQ(parse_error("42"), "a record must be a JSON object ({...}), found another JSON value");
  for (const std::string& message : {parse_error("{\n\"a\":\n}")}) {
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(JsonRecord, DeepNestingDoesNotOverflowTheStack) {
  const std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  const JsonRecord r = parsed(deep);
  EXPECT_EQ(r.find("a")->kind, JsonKind::kArray);
  EXPECT_EQ(r.find("a")->json.size(), 200000u);
}

TEST(JsonRecord, ReusedForTheNextRecordAndCopiedIndependently) {
  JsonRecord r = parsed(R"({"card":"long-card-identifier-0001","amount":1})");
  JsonRecord copy = r;
  ASSERT_TRUE(r.parse(R"({"x":"y"})").is_ok());
  EXPECT_EQ(r.field_count(), 1u);
  EXPECT_FALSE(r.find("card").has_value());
  EXPECT_EQ(copy.find("card")->string, "long-card-identifier-0001");
  EXPECT_EQ(copy.json(), R"({"card":"long-card-identifier-0001","amount":1})");
  JsonRecord moved = std::move(copy);
  EXPECT_EQ(moved.find("amount")->json, "1");
  // A moved-from record can be parsed into again, as tasks do with their scratch value.
  ASSERT_TRUE(copy.parse(R"({"z":3})").is_ok());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(copy.find("z")->json, "3");
}

TEST(JsonRecordCodec, DecodesAndEncodesTheText) {
  JsonRecordCodec codec;
  JsonRecord r;
  ASSERT_TRUE(codec.decode(R"({"a": 1})", r).is_ok());
  std::string out = "x";
  codec.encode(r, out);
  EXPECT_EQ(out, R"(x{"a": 1})");
  EXPECT_EQ(codec.decode("{", r).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace kappa::window_agg
