// What the Kafka benchmarks' main() sets up first: library log lines to
// stderr (stdout holds only the figures), Ctrl-C and SIGTERM turned into a
// flag (so the benchmark stops its children and removes its files), and a
// work directory.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>

#include "runtime/status.h"

namespace kappa::bench {

// Set by SIGINT or SIGTERM once start_bench_process() ran.
const std::atomic<bool>& interrupted();

// Routes spdlog (and librdkafka's lines through it) to stderr at warn level
// under `name`, and installs the signal handlers.
void start_bench_process(const std::string& name);

// A fresh folder <tmp>/<prefix>-XXXXXX for the benchmark's files.
Result<std::filesystem::path> make_work_dir(const std::string& prefix);

}  // namespace kappa::bench
