// ChildProcess: a job executable that an integration test or a benchmark
// runs as a child process, with its stdout and stderr kept in a log file so
// that a failure can show what the job said.
//
// The child gets its own process group (a Ctrl-C in the terminal reaches the
// test or benchmark only, which then stops the child itself), reads
// /dev/null, and the kernel kills it (PR_SET_PDEATHSIG) when the thread that
// spawned it ends, so no job outlives a crashed or killed parent. Spawn from
// a thread that lives at least as long as the child, such as the main thread.
// Not thread-safe: one thread owns a ChildProcess.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/status.h"

namespace kappa::testing {

class ChildProcess {
 public:
  // Runs argv[0] (a path, not searched on PATH) with `argv`, appending its
  // stdout and stderr to `log_path`; with an empty `log_path`, to a fresh
  // temporary file that the destructor removes. Fails if the log cannot be
  // opened or the program cannot be executed.
  static Result<std::unique_ptr<ChildProcess>> spawn(const std::vector<std::string>& argv,
                                                     const std::string& log_path = "");
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Whether the child is still running; does not block.
  bool running();
  // The child's process id (for /proc/<pid>/...; stale once it was reaped).
  pid_t pid() const { return pid_; }
  // Sends `signo` to the child unless it has exited.
  void signal(int signo);
  // Waits up to `timeout` for the child to exit. Returns its exit code, or
  // -N if signal N ended it; nullopt if it still runs.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Sends SIGTERM and waits up to `grace` for the child to exit; returns what
  // wait() returns. After `grace` it kills the child with SIGKILL and returns
  // an error saying so.
  Result<int> terminate(std::chrono::milliseconds grace);

  // How the child ended ("exit code 0", "killed by signal 9 (Killed)").
  // REQUIRES: !running().
  std::string describe_exit() const;
  // User + system CPU time the child used over its life. REQUIRES: !running().
  double cpu_seconds() const { return cpu_seconds_; }
  // The child's peak resident memory in bytes. REQUIRES: !running().
  int64_t max_rss_bytes() const { return max_rss_bytes_; }

  // Everything in the log file so far: what the child printed, after
  // whatever a given `log_path` held before.
  std::string output() const;
  // The last `lines` lines of the log, each indented with "  | ", to quote
  // in an error message; "" if the log cannot be read.
  std::string output_tail(int lines) const;

 private:
  ChildProcess(pid_t pid, std::string log_path, bool owns_log)
      : pid_(pid), log_path_(std::move(log_path)), owns_log_(owns_log) {}
  void kill_and_reap();
  // wait4() that also records the child's CPU time and memory; true once reaped.
  bool reap(bool block);

  pid_t pid_ = -1;
  std::string log_path_;
  bool owns_log_ = false;  // a temporary log, removed by the destructor
  bool reaped_ = false;
  int wait_status_ = 0;
  double cpu_seconds_ = 0;
  int64_t max_rss_bytes_ = 0;
};

// How a program that ran to its end ended, and what it printed.
struct ProgramRun {
  int exit_code = -1;  // or -N if signal N ended it
  std::string log;     // stdout and stderr
};

// Runs argv[0] with `argv` and waits up to `timeout` for it to exit; an
// error if it cannot be started or is still running then (it is killed).
Result<ProgramRun> run_to_exit(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

}  // namespace kappa::testing
