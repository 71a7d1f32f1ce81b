// state_commit_helper: the process the crash tests (kill_point_test.cc)
// kill. Opens a store, commits steps of checkpoint_steps.h, exits 0.
//
//   state_commit_helper STATE_DIR FIRST_STEP LAST_STEP [KILL_POINT]
//
// With KILL_POINT ("after_write_batch", "before_prune:2", ...) it sets
// KAPPA_KILL_POINT before opening the store, so the process dies there with
// exit code 137. Exit code 1 and a message on stderr for anything else.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "state/checkpoint_store.h"
#include "tests/state/checkpoint_steps.h"

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: %s STATE_DIR FIRST_STEP LAST_STEP [KILL_POINT]\n", argv[0]);
    return 1;
  }
  const int first = std::atoi(argv[2]);
  const int last = std::atoi(argv[3]);
  if (argc == 5) ::setenv("KAPPA_KILL_POINT", argv[4], 1);
  kappa::Result<std::unique_ptr<kappa::CheckpointStore>> store = kappa::CheckpointStore::open(argv[1], "job");
  if (!store.is_ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().to_string().c_str());
    return 1;
  }
  for (int step = first; step <= last; ++step) {
    kappa::Result<kappa::CheckpointInfo> info = kappa::state_test::commit_step(**store, step);
    if (!info.is_ok()) {
      std::fprintf(stderr, "step %d: %s\n", step, info.status().to_string().c_str());
      return 1;
    }
    std::printf(
        "step %d committed as checkpoint %llu: %llu bytes in %zu files; write batch %lld us, "
        "checkpoint files %lld us, manifest %lld us, prune %lld us, total %lld us\n",
        step, static_cast<unsigned long long>(info->id), static_cast<unsigned long long>(info->size_bytes), info->files,
        static_cast<long long>(info->write_batch.count()), static_cast<long long>(info->checkpoint_files.count()),
        static_cast<long long>(info->manifest.count()), static_cast<long long>(info->prune.count()),
        static_cast<long long>(info->total.count()));
  }
  return 0;
}
