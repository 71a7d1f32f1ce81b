// state_memory_bench: what --state-memory saves window_agg, and what it
// costs, on keyed state larger than the budget (DESIGN.md §5, issue #4).
//
// Writes a JSON-lines file: every one of --keys keys once, in random order,
// then --events more, --hot-share of them on a hot --hot-fraction of the
// keys and the rest on any key; event times spread over 50 minutes, so that
// every key's tumbling 1h window stays open until the input ends. That is
// state that only grows while the job runs, most of it cold, the case a
// budget is for. window_agg (count, sum, min, max, mean per key) then runs
// on it twice as a child process, with --state-dir and its default 10 s
// checkpoint interval (--checkpoint-interval): without a budget, then with
// --state-memory. Reported for each:
// the peak RSS (the kernel's, from wait4), the median of RSS samples taken
// every 100 ms (the level the process holds while it reads), the wall time
// and the CPU time. The two runs' outputs must be byte-identical, or the
// benchmark fails.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_process.h"
#include "tests/support/child_process.h"

namespace kappa::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using testing::ChildProcess;

struct Options {
  int64_t keys = 1'000'000;
  int64_t events = 3'000'000;
  double hot_fraction = 0.05;
  double hot_share = 0.9;
  std::string budget = "32MiB";
  std::string checkpoint_interval = "10s";
  bool json = false;
};

struct Run {
  double peak_rss_mib = 0;
  double median_rss_mib = 0;
  double seconds = 0;
  double cpu_seconds = 0;
};

constexpr int64_t kStartMillis = 1'767'225'600'000;  // 2026-01-01T00:00:00Z, an hour boundary
constexpr int64_t kSpanMillis = 50 * 60 * 1000;

Status write_events(const Options& o, const fs::path& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::unavailable("cannot write " + path.string());
  std::mt19937_64 rng(42);
  std::vector<int64_t> order(static_cast<std::size_t>(o.keys));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  const int64_t total = o.keys + o.events;
  const auto hot_keys = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(o.keys) * o.hot_fraction));
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<int> cents(1, 100'000);
  char line[128];
  for (int64_t i = 0; i < total; ++i) {
    int64_t key = 0;
    if (i < o.keys) {
      key = order[static_cast<std::size_t>(i)];
    } else {
      const bool hot = unit(rng) < o.hot_share;
      key = static_cast<int64_t>(unit(rng) * static_cast<double>(hot ? hot_keys : o.keys));
    }
    const int64_t ts = kStartMillis + i * kSpanMillis / total;
    const int n =
        std::snprintf(line, sizeof line, "{\"card\":\"card-%07lld\",\"ts\":%lld,\"amount\":%d.%02d}\n",
                      static_cast<long long>(key), static_cast<long long>(ts), cents(rng) / 100, cents(rng) % 100);
    out.write(line, n);
  }
  out.close();
  if (!out) return Status::unavailable("cannot write " + path.string());
  return Status::ok();
}

// The process's resident set, from /proc; nullopt once it is gone.
std::optional<int64_t> rss_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return std::nullopt;
}

Result<Run> run_window_agg(const Options& o, const fs::path& dir, const std::string& name, const std::string& budget) {
  const fs::path state = dir / ("state-" + name);
  // clang-format off: a flag and its value to a line
  std::vector<std::string> argv = {KAPPA_WINDOW_AGG_PATH,
                                   "--input",
                                   "file:" + (dir / "events.jsonl").string(),
                                   "--output",
                                   "file:" + (dir / ("out-" + name + ".jsonl")).string(),
                                   "--key",
                                   "card",
                                   "--time",
                                   "ts",
                                   "--value",
                                   "amount",
                                   "--window",
                                   "tumbling:1h",
                                   "--agg",
                                   "count,sum,min,max,mean",
                                   "--state-dir",
                                   state.string(),
                                   "--checkpoint-interval",
                                   o.checkpoint_interval,
                                   "--metrics-addr",
                                   "off"};
  // clang-format on
  if (!budget.empty()) {
    argv.push_back("--state-memory");
    argv.push_back(budget);
  }
  const Clock::time_point start = Clock::now();
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> job,
                         ChildProcess::spawn(argv, (dir / ("job-" + name + ".log")).string()));
  std::vector<int64_t> samples;
  while (job->running()) {
    if (interrupted()) return Status::aborted("interrupted");
    if (std::optional<int64_t> rss = rss_bytes(job->pid())) samples.push_back(*rss);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Run run;
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (job->wait(std::chrono::milliseconds(0)) != 0) {
    return Status::internal("window_agg (" + name + ") ended with " + job->describe_exit() + ":\n" +
                            job->output_tail(10));
  }
  constexpr double kMiB = 1 << 20;
  run.peak_rss_mib = static_cast<double>(job->max_rss_bytes()) / kMiB;
  if (!samples.empty()) {
    std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 2), samples.end());
    run.median_rss_mib = static_cast<double>(samples[samples.size() / 2]) / kMiB;
  }
  run.cpu_seconds = job->cpu_seconds();
  fs::remove_all(state);
  return run;
}

Result<std::string> read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::unavailable("cannot read " + path.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

int run_main(const Options& o) {
  Result<fs::path> dir = make_work_dir("kappa-state-memory-bench");
  if (!dir.is_ok()) {
    std::fprintf(stderr, "state_memory_bench: %s\n", dir.status().message().c_str());
    return 1;
  }
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "state_memory_bench: %s (files kept in %s)\n", what.c_str(), dir->c_str());
    return 1;
  };
  if (Status written = write_events(o, *dir / "events.jsonl"); !written.is_ok()) return fail(written.message());
  Result<Run> unbounded = run_window_agg(o, *dir, "unbounded", "");
  if (!unbounded.is_ok()) return fail(unbounded.status().message());
  Result<Run> budgeted = run_window_agg(o, *dir, "budget", o.budget);
  if (!budgeted.is_ok()) return fail(budgeted.status().message());
  Result<std::string> a = read_all(*dir / "out-unbounded.jsonl");
  Result<std::string> b = read_all(*dir / "out-budget.jsonl");
  if (!a.is_ok() || !b.is_ok()) return fail("cannot read the outputs back");
  if (a->empty() || *a != *b) return fail("the runs with and without --state-memory wrote different results");
  const auto results = std::count(a->begin(), a->end(), '\n');
  if (o.json) {
    std::printf(
        "{\"keys\":%lld,\"events\":%lld,\"results\":%lld,\"budget\":\"%s\",\"checkpoint_interval\":\"%s\","
        "\"peak_rss_mib\":%.1f,\"median_rss_mib\":%.1f,\"seconds\":%.2f,\"cpu_seconds\":%.2f,"
        "\"budget_peak_rss_mib\":%.1f,\"budget_median_rss_mib\":%.1f,\"budget_seconds\":%.2f,"
        "\"budget_cpu_seconds\":%.2f}\n",
        static_cast<long long>(o.keys), static_cast<long long>(o.keys + o.events), static_cast<long long>(results),
        o.budget.c_str(), o.checkpoint_interval.c_str(), unbounded->peak_rss_mib, unbounded->median_rss_mib,
        unbounded->seconds, unbounded->cpu_seconds, budgeted->peak_rss_mib, budgeted->median_rss_mib, budgeted->seconds,
        budgeted->cpu_seconds);
  } else {
    std::printf("%lld keys, %lld events, %lld results (identical with and without the budget), checkpoints every %s\n",
                static_cast<long long>(o.keys), static_cast<long long>(o.keys + o.events),
                static_cast<long long>(results), o.checkpoint_interval.c_str());
    for (const auto& [label, run] :
         {std::pair{std::string("no budget"), *unbounded}, std::pair{"--state-memory " + o.budget, *budgeted}}) {
      std::printf("%-22s RSS peak %7.1f MiB, median %7.1f MiB; %6.2f s, %6.2f s CPU\n", label.c_str(), run.peak_rss_mib,
                  run.median_rss_mib, run.seconds, run.cpu_seconds);
    }
    std::printf("ratios (budget / none): peak RSS %.2f, median RSS %.2f, time %.2f\n",
                budgeted->peak_rss_mib / unbounded->peak_rss_mib, budgeted->median_rss_mib / unbounded->median_rss_mib,
                budgeted->seconds / unbounded->seconds);
  }
  fs::remove_all(*dir);
  return 0;
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) {
  kappa::bench::Options o;
  bool quick = false;
  CLI::App app{
      "state_memory_bench: window_agg's memory and time with and without --state-memory, on keyed state larger "
      "than the budget (most of it cold)."};
  app.add_option("--keys", o.keys, "Keys, each with an open window until the input ends.")->check(CLI::PositiveNumber);
  app.add_option("--events", o.events, "Events after the first one of each key.")->check(CLI::NonNegativeNumber);
  app.add_option("--hot-fraction", o.hot_fraction, "The share of the keys that are hot.")->check(CLI::Range(0.0, 1.0));
  app.add_option("--hot-share", o.hot_share, "The share of those events that go to a hot key.")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--budget", o.budget, "The --state-memory of the second run.");
  app.add_option("--checkpoint-interval", o.checkpoint_interval,
                 "window_agg's --checkpoint-interval in both runs (its default: 10s).");
  app.add_flag("--quick", quick, "A small run (20k keys), for the smoke test.");
  app.add_flag("--json", o.json, "One JSON object on stdout, nothing else there.");
  CLI11_PARSE(app, argc, argv);
  if (quick) {
    o.keys = 20'000;
    o.events = 60'000;
    o.budget = "512KiB";
  }
  kappa::bench::start_bench_process("state_memory_bench");
  return kappa::bench::run_main(o);
}
