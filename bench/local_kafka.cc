#include "bench/local_kafka.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>

namespace kappa::bench {
namespace {

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace

Result<std::unique_ptr<LocalKafka>> LocalKafka::start(const std::string& script, const std::string& state_file,
                                                      const std::atomic<bool>* interrupted) {
  std::unique_ptr<LocalKafka> kafka(new LocalKafka(script, state_file));
  // From here on the destructor runs `stop`, which also cleans up after a
  // start that failed half-way.
  // A start can fail at random: scripts/kafka-local picks a random cluster
  // id, and one that begins with '-' (1 in 64) is taken for an option by
  // Kafka's storage formatter. Such a failure leaves nothing behind, so retry.
  Result<std::string> started = kafka->run("start");
  for (int attempt = 2; attempt <= 3 && !started.is_ok(); ++attempt) {
    if (interrupted != nullptr && interrupted->load()) break;
    std::fprintf(stderr, "%s start failed; trying again (%d of 3)\n", script.c_str(), attempt);
    started = kafka->run("start");
  }
  KAPPA_ASSIGN_OR_RETURN(std::string out, std::move(started));
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  const auto last_line = out.rfind('\n');
  kafka->bootstrap_ = last_line == std::string::npos ? out : out.substr(last_line + 1);
  if (kafka->bootstrap_.find(':') == std::string::npos) {
    return Status::unavailable(script + " start printed '" + out + "', not a host:port");
  }
  std::ifstream state(state_file);
  std::string line;
  while (std::getline(state, line)) {
    if (line.rfind("pid=", 0) == 0) kafka->pid_ = std::atoi(line.c_str() + 4);
  }
  return kafka;
}

LocalKafka::~LocalKafka() {
  Result<std::string> stopped = run("stop");
  if (!stopped.is_ok()) std::fprintf(stderr, "warning: %s\n", stopped.status().message().c_str());
}

Result<std::string> LocalKafka::run(const std::string& command) const {
  // The state file goes in through the environment of this one command;
  // setenv() would race with librdkafka threads reading the environment.
  const std::string line =
      "KAFKA_LOCAL_STATE=" + shell_quote(state_file_) + " " + shell_quote(script_) + " " + command + " </dev/null";
  FILE* pipe = ::popen(line.c_str(), "r");
  if (pipe == nullptr) return Status::unavailable("cannot run " + script_);
  std::string out;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::unavailable(script_ + " " + command + " failed (see its messages above)");
  }
  return out;
}

}  // namespace kappa::bench
