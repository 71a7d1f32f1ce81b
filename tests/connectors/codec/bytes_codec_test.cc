#include "connectors/codec/bytes_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "runtime/codec.h"

namespace kappa {
namespace {

static_assert(Codec<BytesCodec, std::string>);

TEST(BytesCodecTest, RoundTrip) {
  const BytesCodec codec;
  std::string value;
  ASSERT_TRUE(codec.decode("hello, world", value).is_ok());
  EXPECT_EQ(value, "hello, world");
  std::string out;
  codec.encode(value, out);
  EXPECT_EQ(out, "hello, world");
}

TEST(BytesCodecTest, Empty) {
  const BytesCodec codec;
  std::string value = "left over";
  ASSERT_TRUE(codec.decode("", value).is_ok());
  EXPECT_EQ(value, "");
  std::string out;
  codec.encode(value, out);
  EXPECT_EQ(out, "");
}

TEST(BytesCodecTest, BinaryBytesIncludingNulAreKept) {
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  binary += std::string("\0\0\xff", 3);
  const BytesCodec codec;
  std::string value;
  ASSERT_TRUE(codec.decode(binary, value).is_ok());
  EXPECT_EQ(value.size(), 259u);
  EXPECT_EQ(value, binary);
  std::string out;
  codec.encode(value, out);
  EXPECT_EQ(out, binary);
}

TEST(BytesCodecTest, DecodeOverwritesAndEncodeAppends) {
  const BytesCodec codec;
  std::string value = "a much longer previous value";
  ASSERT_TRUE(codec.decode("xy", value).is_ok());
  EXPECT_EQ(value, "xy");
  std::string out = "prefix|";
  codec.encode(value, out);
  codec.encode(value, out);
  EXPECT_EQ(out, "prefix|xyxy");
}

}  // namespace
}  // namespace kappa
