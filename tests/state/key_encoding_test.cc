#include "state/key_encoding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace kappa::state_internal {
namespace {

const std::vector<PartitionId> kPartitions = {{"", 0},
                                              {"a", std::numeric_limits<int32_t>::min()},
                                              {"a", -1},
                                              {"a", 0},
                                              {"a", 1},
                                              {"a", 255},
                                              {"a", 256},
                                              {"a", 65536},
                                              {"a", std::numeric_limits<int32_t>::max()},
                                              {std::string("a\0", 2), 0},
                                              {std::string("a\0\x01", 3), 0},
                                              {std::string("a\0\xff", 3), 0},
                                              {"a\x01", 0},
                                              {"ab", 0},
                                              {"b", 0},
                                              {"\xff", 7}};

TEST(KeyEncodingTest, TaskPrefixesSortLikePartitionIds) {
  std::vector<PartitionId> sorted = kPartitions;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    EXPECT_LT(task_prefix(sorted[i - 1]), task_prefix(sorted[i]))
        << sorted[i - 1].to_string() << " vs " << sorted[i].to_string();
  }
}

TEST(KeyEncodingTest, NoTaskPrefixIsAPrefixOfAnother) {
  for (const PartitionId& a : kPartitions) {
    for (const PartitionId& b : kPartitions) {
      if (a == b) continue;
      const std::string pa = task_prefix(a);
      const std::string pb = task_prefix(b);
      EXPECT_FALSE(pb.starts_with(pa)) << a.to_string() << " is a prefix of " << b.to_string();
      // Nor does any key of task a fall in task b's range.
      EXPECT_FALSE(pa + "key" >= pb && pa + "key" < prefix_end(pb));
    }
  }
}

TEST(KeyEncodingTest, TaskPrefixesDecode) {
  for (const PartitionId& p : kPartitions) {
    const std::string key = task_prefix(p) + "rest";
    std::string_view in = key;
    PartitionId decoded;
    ASSERT_TRUE(decode_task_prefix(in, decoded)) << p.to_string();
    EXPECT_EQ(decoded, p);
    EXPECT_EQ(in, "rest");
  }
  std::string_view bad = "no terminator";
  PartitionId p;
  EXPECT_FALSE(decode_task_prefix(bad, p));
  std::string cut = task_prefix({"t", 1});
  cut.pop_back();
  std::string_view short_in = cut;
  EXPECT_FALSE(decode_task_prefix(short_in, p));
}

TEST(KeyEncodingTest, PrefixEndBoundsEveryKeyWithThePrefix) {
  const std::string prefix = task_prefix({"t", 255});  // ends in 0xff
  const std::string end = prefix_end(prefix);
  EXPECT_GT(end, prefix);
  EXPECT_LT(prefix + std::string(100, '\xff'), end);
  EXPECT_EQ(prefix_end(std::string("a\xff\xff", 3)), "b");
}

TEST(KeyEncodingTest, Int64sSortLikeNumbers) {
  const std::vector<int64_t> values = {std::numeric_limits<int64_t>::min(), -1'000'000, -1, 0, 1, 255, 256,
                                       std::numeric_limits<int64_t>::max()};
  for (std::size_t i = 0; i < values.size(); ++i) {
    int64_t back = 0;
    ASSERT_TRUE(decode_int64(encode_int64(values[i]), back));
    EXPECT_EQ(back, values[i]);
    if (i > 0) {
      EXPECT_LT(encode_int64(values[i - 1]), encode_int64(values[i]));
    }
  }
  int64_t ignored = 0;
  EXPECT_FALSE(decode_int64("1234567", ignored));
}

TEST(KeyEncodingTest, MetaKeysDoNotCollide) {
  EXPECT_NE(offset_key({"t", 0}), watermark_key({"t", 0}));
  EXPECT_NE(offset_key({"t", 0}), std::string(kCheckpointIdKey));
}

}  // namespace
}  // namespace kappa::state_internal
