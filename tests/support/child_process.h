// ChildProcess: runs a job executable for an integration test, with its
// stderr kept in a file so a failing test can show what the job said.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace kappa::testing {

class ChildProcess {
 public:
  // Starts `path args...`; stdout and stderr go to a temporary log file.
  ChildProcess(const std::string& path, const std::vector<std::string>& args);
  // Kills the process if it still runs.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void signal(int signo);
  // The exit code, or -signal if it died of a signal; nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  // Everything the process printed so far.
  std::string output() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

}  // namespace kappa::testing
