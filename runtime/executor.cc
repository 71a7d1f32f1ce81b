#include "runtime/executor.h"

#include "runtime/status.h"

namespace kappa {

Executor::Executor(int threads) : threads_(threads) {
  KAPPA_CHECK(threads >= 1, "an executor needs at least one thread");
  // oneTBB sizes its worker pool to the core count minus one by default;
  // raise the limit so an arena of `threads` really gets that many workers
  // (none of them is this thread: it coordinates and never joins the arena).
  parallelism_ = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, threads + 1);
  arena_ = std::make_unique<tbb::task_arena>(threads, /*reserved_for_masters=*/0);
}

Executor::~Executor() = default;

void Executor::enqueue(std::function<void()> work) { arena_->enqueue(std::move(work)); }

}  // namespace kappa
