// HugePageAllocator: an allocator for large arrays that are walked or
// filled in a hurry, and asks the kernel for 2 MiB pages: the hash table
// inside a keyed table (operators/keyed/key_table.h), and a checkpoint's
// pending changes (state/task_state.h), which the tasks fill at the barrier.
//
// A table of a million keys spans ~100 MiB; each lookup of a key not in the
// cache then also misses the TLB, and on a virtual machine a 4 KiB page walk
// costs as much as the miss itself. Blocks of 2 MiB and more are aligned to
// 2 MiB and marked MADV_HUGEPAGE, which transparent huge pages honour in the
// default "madvise" mode. checkpoint_bench (1M keys, 10% changed), which
// finds every changed key: pause p50 41-44 ms without, 33-37 ms with (a few
// runs each). A fresh block of pending changes then takes one page fault
// per 2 MiB instead of one per 4 KiB. The advice is only a hint: where huge
// pages are off, the memory is ordinary. Smaller blocks come from
// std::allocator.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace kappa {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

template <class T>
class HugePageAllocator {
 public:
  using value_type = T;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding, as allocators do

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return std::allocator<T>().allocate(n);
    const std::size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void* block = std::aligned_alloc(kHugePageBytes, rounded);
    if (block == nullptr) throw std::bad_alloc();
    ::madvise(block, rounded, MADV_HUGEPAGE);  // a hint: refused, the pages stay small
    return static_cast<T*>(block);
  }

  void deallocate(T* block, std::size_t n) {
    if (n * sizeof(T) < kHugePageBytes) {
      std::allocator<T>().deallocate(block, n);
    } else {
      std::free(block);
    }
  }

  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace kappa
