#include "bench/bench_process.h"

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>

namespace kappa::bench {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_signal(int) { g_interrupted.store(true, std::memory_order_relaxed); }

}  // namespace

const std::atomic<bool>& interrupted() { return g_interrupted; }

void start_bench_process(const std::string& name) {
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_level(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

Result<std::filesystem::path> make_work_dir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::unavailable("cannot create a work directory " + pattern + ": " + std::strerror(errno));
  }
  return std::filesystem::path(pattern);
}

}  // namespace kappa::bench
