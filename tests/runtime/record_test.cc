#include "runtime/record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace kappa {
namespace {

// Stands in for a connector's own message: headers are read from it only
// when a Headers view asks.
struct FakeMessage {
  std::vector<std::pair<std::string, std::string>> headers;
  mutable int reads = 0;
};

bool fake_header_at(const void* native, std::size_t index, Header& out) {
  const auto* m = static_cast<const FakeMessage*>(native);
  ++m->reads;
  if (index >= m->headers.size()) return false;
  out = {m->headers[index].first, m->headers[index].second};
  return true;
}

TEST(HeadersTest, EmptyByDefault) {
  Headers headers;
  int seen = 0;
  headers.for_each([&](const Header&) { ++seen; });
  EXPECT_EQ(seen, 0);
  EXPECT_FALSE(headers.find("anything").has_value());
}

TEST(HeadersTest, ReadFromTheMessageOnlyWhenAsked) {
  FakeMessage m{{{"label", "fraud"}, {"source", "gen"}, {"label", "second"}}};
  Record r;
  r.headers = Headers(&m, &fake_header_at);
  EXPECT_EQ(m.reads, 0);

  std::vector<std::string> keys;
  r.headers.for_each([&](const Header& h) { keys.emplace_back(h.key); });
  EXPECT_THAT(keys, ::testing::ElementsAre("label", "source", "label"));
  EXPECT_EQ(r.headers.find("label"), std::optional<std::string_view>("fraud"));  // the first one
  EXPECT_EQ(r.headers.find("source"), std::optional<std::string_view>("gen"));
  EXPECT_FALSE(r.headers.find("missing").has_value());
  EXPECT_GT(m.reads, 0);
}

}  // namespace
}  // namespace kappa
