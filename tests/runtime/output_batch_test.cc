#include "runtime/output_batch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kappa {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::string copy(std::string_view s) { return std::string(s); }

void add_plain(OutputBatch& batch, std::string_view key, std::string_view value, Timestamp t) {
  batch.add(key, t, [&](std::string& bytes) { bytes.append(value); });
}

std::vector<std::pair<std::string, std::string>> headers_of(const OutputBatch& batch, std::size_t i) {
  std::vector<std::pair<std::string, std::string>> headers;
  batch.for_each_header(i, [&](const Header& h) { headers.emplace_back(h.key, h.value); });
  return headers;
}

TEST(OutputBatchTest, PlainResultsHaveNoHeadersAndNoNulls) {
  OutputBatch batch;
  add_plain(batch, "k", "v", 5);
  add_plain(batch, "", "", 6);
  EXPECT_TRUE(batch.plain());
  ASSERT_EQ(batch.size(), 2u);
  // A result's empty key is none; its value is never null.
  EXPECT_EQ(copy(batch.nullable_key(0)), "k");
  EXPECT_EQ(batch.nullable_key(1).data(), nullptr);
  EXPECT_NE(batch.nullable_value(1).data(), nullptr);
  EXPECT_TRUE(headers_of(batch, 0).empty());
}

TEST(OutputBatchTest, HeadersAndNullsAreKeptPerEntry) {
  OutputBatch batch;
  add_plain(batch, "plain", "before", 1);
  const std::vector<Header> headers{{"h1", "v1"}, {"h2", ""}};
  batch.add_with_headers("key", "value", 2, headers);
  batch.add_with_headers(std::string_view{}, std::string_view{}, 3, {});  // null key and value
  batch.add_with_headers("", "", 4, std::vector<Header>{{"only", "one"}});  // empty, not null
  add_plain(batch, "plain", "after", 5);

  EXPECT_FALSE(batch.plain());
  ASSERT_EQ(batch.size(), 5u);
  EXPECT_EQ(copy(batch.key(1)), "key");
  EXPECT_EQ(copy(batch.value(1)), "value");
  EXPECT_EQ(batch.timestamp(1), 2);
  EXPECT_THAT(headers_of(batch, 1), ElementsAre(Pair("h1", "v1"), Pair("h2", "")));

  EXPECT_EQ(batch.nullable_key(2).data(), nullptr);
  EXPECT_EQ(batch.nullable_value(2).data(), nullptr);
  EXPECT_TRUE(batch.key(2).empty());
  EXPECT_TRUE(headers_of(batch, 2).empty());

  EXPECT_NE(batch.nullable_key(3).data(), nullptr);
  EXPECT_NE(batch.nullable_value(3).data(), nullptr);
  EXPECT_TRUE(batch.nullable_key(3).empty());
  EXPECT_THAT(headers_of(batch, 3), ElementsAre(Pair("only", "one")));

  for (std::size_t plain : {0u, 4u}) {
    EXPECT_EQ(copy(batch.nullable_key(plain)), "plain") << plain;
    EXPECT_TRUE(headers_of(batch, plain).empty()) << plain;
  }
  EXPECT_EQ(copy(batch.value(0)), "before");
  EXPECT_EQ(copy(batch.value(4)), "after");
}

TEST(OutputBatchTest, TruncateDropsTheHeadersOfDroppedEntries) {
  OutputBatch batch;
  batch.add_with_headers("a", "1", 1, std::vector<Header>{{"n", "1"}});
  batch.add_with_headers("b", "2", 2, std::vector<Header>{{"n", "2"}, {"m", "2"}});
  batch.truncate(1);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_THAT(headers_of(batch, 0), ElementsAre(Pair("n", "1")));
  // What comes next reuses the dropped space without seeing the old headers.
  batch.add_with_headers("c", "3", 3, std::vector<Header>{{"n", "3"}});
  add_plain(batch, "d", "4", 4);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(copy(batch.key(1)), "c");
  EXPECT_THAT(headers_of(batch, 1), ElementsAre(Pair("n", "3")));
  EXPECT_TRUE(headers_of(batch, 2).empty());

  batch.truncate(0);
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(batch.plain());
}

// A plain result between two dead letters has no headers of its own:
// truncating at it keeps the headers of the dead letter before it.
TEST(OutputBatchTest, TruncateAtAPlainResultKeepsTheHeadersBeforeIt) {
  OutputBatch batch;
  batch.add_with_headers("a", "1", 1, std::vector<Header>{{"n", "1"}});
  add_plain(batch, "b", "2", 2);
  batch.add_with_headers("c", "3", 3, std::vector<Header>{{"n", "3"}});
  batch.truncate(1);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_THAT(headers_of(batch, 0), ElementsAre(Pair("n", "1")));
  batch.add_with_headers("d", "4", 4, std::vector<Header>{{"n", "4"}});
  EXPECT_THAT(headers_of(batch, 0), ElementsAre(Pair("n", "1")));
  EXPECT_THAT(headers_of(batch, 1), ElementsAre(Pair("n", "4")));
}

TEST(OutputBatchTest, ClearMakesTheBatchPlainAgain) {
  OutputBatch batch;
  batch.add_with_headers(std::string_view{}, "v", 1, std::vector<Header>{{"n", "1"}});
  batch.clear();
  EXPECT_TRUE(batch.plain());
  add_plain(batch, "k", "v", 2);
  EXPECT_TRUE(batch.plain());
  EXPECT_EQ(copy(batch.nullable_key(0)), "k");
  EXPECT_TRUE(headers_of(batch, 0).empty());
}

}  // namespace
}  // namespace kappa
