// Executor: the pool of worker threads that tasks run on (a oneTBB arena).
// Work is enqueued, never spun for: an idle job has idle threads.
#pragma once

#include <functional>
#include <memory>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

namespace kappa {

class Executor {
 public:
  // `threads` worker threads (>= 1).
  explicit Executor(int threads);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs `work` on a worker thread, from any thread. Work must not throw and
  // must not outlive what it refers to: callers wait for their own work.
  void enqueue(std::function<void()> work);

  int threads() const { return threads_; }

 private:
  int threads_;
  std::unique_ptr<tbb::global_control> parallelism_;
  std::unique_ptr<tbb::task_arena> arena_;
};

}  // namespace kappa
