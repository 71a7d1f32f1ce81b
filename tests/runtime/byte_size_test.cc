#include "runtime/byte_size.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kappa {
namespace {

TEST(ByteSizeTest, UnitsAreDecimalOrBinary) {
  EXPECT_EQ(parse_byte_size("4096").value(), 4096);
  EXPECT_EQ(parse_byte_size("10B").value(), 10);
  EXPECT_EQ(parse_byte_size("300MB").value(), 300'000'000);
  EXPECT_EQ(parse_byte_size("512MiB").value(), 512LL << 20);
  EXPECT_EQ(parse_byte_size("2gib").value(), 2LL << 30);
  EXPECT_EQ(parse_byte_size("2G").value(), 2LL << 30);
  EXPECT_EQ(parse_byte_size("1TB").value(), 1'000'000'000'000);
}

TEST(ByteSizeTest, AnythingElseIsRefusedWithAnExample) {
  for (const char* text : {"", "MiB", "-1GiB", "1.5GiB", "12 MiB", "3 parsecs", "9999999999999TiB"}) {
    Result<int64_t> size = parse_byte_size(text);
    ASSERT_FALSE(size.is_ok()) << text;
    EXPECT_EQ(size.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(size.status().message(), ::testing::HasSubstr("as in 512MiB")) << text;
  }
}

}  // namespace
}  // namespace kappa
