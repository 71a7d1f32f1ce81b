#include "operators/aggregate/encoding.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace kappa::agg::encoding {
namespace {

TEST(EncodingTest, VarintRoundTripsAndSizes) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{16383}, uint64_t{16384},
                     uint64_t{1} << 63, std::numeric_limits<uint64_t>::max()}) {
    std::string out;
    put_varint(out, v);
    EXPECT_EQ(out.size(), v == 0 ? 1u : (64 - static_cast<std::size_t>(std::countl_zero(v)) + 6) / 7) << v;
    out += "x";
    std::string_view in = out;
    uint64_t back;
    ASSERT_TRUE(get_varint(in, back));
    EXPECT_EQ(back, v);
    EXPECT_EQ(in, "x");
  }
}

TEST(EncodingTest, VarintRejectsTruncatedAndOverlong) {
  uint64_t v;
  std::string_view truncated("\x80\x80", 2);
  EXPECT_FALSE(get_varint(truncated, v));
  std::string_view too_wide("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);  // 65 bits
  EXPECT_FALSE(get_varint(too_wide, v));
  std::string_view eleven("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11);
  EXPECT_FALSE(get_varint(eleven, v));
  int64_t n;
  std::string big;
  put_varint(big, uint64_t{1} << 63);
  std::string_view in = big;
  EXPECT_FALSE(get_count(in, n));  // does not fit int64
}

TEST(EncodingTest, FixedWidthIsLittleEndian) {
  std::string out;
  put_u64(out, 0x0102030405060708ULL);
  EXPECT_EQ(out, std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  put_i64(out, -2);
  std::string_view in = out;
  uint64_t u;
  int64_t i;
  ASSERT_TRUE(get_u64(in, u));
  ASSERT_TRUE(get_i64(in, i));
  EXPECT_EQ(u, 0x0102030405060708ULL);
  EXPECT_EQ(i, -2);
  EXPECT_FALSE(get_u64(in, u));
}

TEST(EncodingTest, DoublesKeepTheirBits) {
  for (double d : {0.0, -0.0, 1.5, -1e300, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::quiet_NaN()}) {
    std::string out;
    put_double(out, d);
    std::string_view in = out;
    double back;
    ASSERT_TRUE(get_double(in, back));
    EXPECT_EQ(std::bit_cast<uint64_t>(back), std::bit_cast<uint64_t>(d));
  }
}

TEST(EncodingTest, StringsAndBools) {
  std::string out;
  put_string(out, "");
  put_string(out, std::string(300, 'z'));
  put_bool(out, true);
  std::string_view in = out;
  std::string s;
  bool b = false;
  ASSERT_TRUE(get_string(in, s));
  EXPECT_EQ(s, "");
  ASSERT_TRUE(get_string(in, s));
  EXPECT_EQ(s, std::string(300, 'z'));
  ASSERT_TRUE(get_bool(in, b));
  EXPECT_TRUE(b);
  EXPECT_TRUE(in.empty());

  const std::string short_bytes = std::string(1, '\x05') + "abc";  // says 5 bytes, has 3
  std::string_view short_string = short_bytes;
  EXPECT_FALSE(get_string(short_string, s));
  std::string_view not_bool("\x07", 1);
  EXPECT_FALSE(get_bool(not_bool, b));
}

}  // namespace
}  // namespace kappa::agg::encoding
