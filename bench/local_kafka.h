// LocalKafka: a throw-away Apache Kafka broker started with
// scripts/kafka-local for the length of a benchmark.
//
// It uses its own kafka-local state file, so it never adopts (nor stops) a
// broker that someone else started with the script, and `kafka-local stop`
// in the destructor removes the broker and its data directory.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "runtime/status.h"

namespace kappa::bench {

class LocalKafka {
 public:
  // Runs `script start` with the state file `state_file`; returns once the
  // broker answers. Retries twice unless `*interrupted` (optional) is set.
  // On failure nothing is left running.
  static Result<std::unique_ptr<LocalKafka>> start(const std::string& script, const std::string& state_file,
                                                   const std::atomic<bool>* interrupted = nullptr);
  // Runs `script stop` (clean shutdown; SIGKILL after the script's timeout).
  ~LocalKafka();
  LocalKafka(const LocalKafka&) = delete;
  LocalKafka& operator=(const LocalKafka&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  // The broker's process id (from the script's state file), or -1.
  int pid() const { return pid_; }

 private:
  LocalKafka(std::string script, std::string state_file)
      : script_(std::move(script)), state_file_(std::move(state_file)) {}
  // Runs the script with `command`; stdout is returned, stderr passes through.
  Result<std::string> run(const std::string& command) const;

  std::string script_;
  std::string state_file_;
  std::string bootstrap_;
  int pid_ = -1;
};

}  // namespace kappa::bench
