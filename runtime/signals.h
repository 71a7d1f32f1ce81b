// Turns SIGTERM and SIGINT into a stop request the job polls for. A second
// signal of either kind ends the process at once (the default action), for
// the operator who really means it.
#pragma once

#include <atomic>

namespace kappa {

// Installs the handlers (idempotent) and returns the flag they set.
const std::atomic<bool>& install_stop_signal_handlers();

}  // namespace kappa
