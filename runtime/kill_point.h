// Kill points: named places where a crash test makes the process die as if
// it had been sent SIGKILL, to check that what it leaves on disk recovers.
//
//   KAPPA_KILL_POINT("after_write_batch");
//
// compiles to nothing unless KAPPA_KILL_POINTS is defined (the CMake option
// of the same name, on in builds with tests; a public definition of
// kappa::runtime, so every library above it agrees). When it is, and the
// environment variable KAPPA_KILL_POINT is `after_write_batch` (or
// `after_write_batch:N`: the N-th time the point is reached), the process
// writes one line to stderr and calls _exit(137), the exit code a shell
// reports for SIGKILL: no destructor, no atexit handler, no stdio flush.
//
// Header-only and free of dependencies, so that any library can place its
// own points. Points in state/ (CheckpointStore::commit, in this order):
// after_write_batch, after_checkpoint_files, after_manifest_temp,
// after_manifest_rename, before_prune. In runtime/ (JobRunner's checkpoint
// with --exactly-once, after the state checkpoint): before_transaction_commit,
// after_transaction_commit.
//
// Thread-safe. The counter behind `:N` counts only the point the variable
// names, across all threads of the process.
#pragma once

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>

namespace kappa {

// The exit code of a process stopped at a kill point.
inline constexpr int kKillPointExitCode = 137;

// How many times `point` must be reached before the process dies, given
// KAPPA_KILL_POINT's value `spec`: 1 for "point", N for "point:N" (N >= 1);
// 0 if `spec` names another point or N is not a positive number.
inline int kill_point_trigger(std::string_view spec, std::string_view point) {
  int times = 1;
  if (const std::size_t colon = spec.find(':'); colon != std::string_view::npos) {
    const std::string_view count = spec.substr(colon + 1);
    const auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), times);
    if (error != std::errc() || end != count.data() + count.size() || times < 1) return 0;
    spec = spec.substr(0, colon);
  }
  return spec == point ? times : 0;
}

// Dies with kKillPointExitCode if KAPPA_KILL_POINT names `point` and this is
// the time it asks for. Use the macro, which disappears in builds without
// kill points.
inline void kill_point(std::string_view point) {
  const char* spec = std::getenv("KAPPA_KILL_POINT");
  if (spec == nullptr) return;
  const int trigger = kill_point_trigger(spec, point);
  if (trigger == 0) return;
  static std::atomic<int> reached{0};
  if (reached.fetch_add(1) + 1 != trigger) return;
  const std::string line =
      "kappa: kill point " + std::string(point) + " reached (KAPPA_KILL_POINT=" + spec + "): exiting with code 137\n";
  [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  ::_exit(kKillPointExitCode);
}

}  // namespace kappa

#ifdef KAPPA_KILL_POINTS
#define KAPPA_KILL_POINT(name) ::kappa::kill_point(name)
#else
#define KAPPA_KILL_POINT(name) static_cast<void>(0)
#endif
