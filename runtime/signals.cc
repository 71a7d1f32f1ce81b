#include "runtime/signals.h"

#include <csignal>

namespace kappa {
namespace {

std::atomic<bool> g_stop_requested{false};

extern "C" void on_stop_signal(int signo) {
  g_stop_requested.store(true, std::memory_order_relaxed);
  std::signal(signo == SIGINT ? SIGINT : SIGTERM, SIG_DFL);
  // Re-arm the other one too: any second signal ends the process.
  std::signal(signo == SIGINT ? SIGTERM : SIGINT, SIG_DFL);
}

}  // namespace

const std::atomic<bool>& install_stop_signal_handlers() {
  static const bool installed = [] {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
    return true;
  }();
  (void)installed;
  return g_stop_requested;
}

}  // namespace kappa
