#include "runtime/huge_page_allocator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>

namespace kappa {
namespace {

TEST(HugePageAllocatorTest, LargeBlocksAreAlignedToHugePagesAndSmallOnesAreOrdinary) {
  HugePageAllocator<std::pair<const int64_t, int64_t>> allocator;
  const std::size_t large = 3 * kHugePageBytes / sizeof(std::pair<const int64_t, int64_t>);
  auto* block = allocator.allocate(large);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % kHugePageBytes, 0u);
  std::memset(static_cast<void*>(block), 1, large * sizeof(*block));  // all of it is usable
  allocator.deallocate(block, large);
  auto* small = allocator.allocate(10);
  std::memset(static_cast<void*>(small), 1, 10 * sizeof(*small));
  allocator.deallocate(small, 10);
}

}  // namespace
}  // namespace kappa
