// window_throughput: keyed event-time windows in-process (no broker, no
// codec), the operator pipeline's own speed.
//
// Events: key = a 64-bit mix of (event index mod --keys), event time moving
// 1 microsecond per event (so 1000 events share each millisecond), amount =
// a small number. Each run counts and sums per key over (a) tumbling 1 s and
// (b) hopping 10 s sliding by 1 s, with 1 and 2 worker threads. With N
// threads the keys are split into N partitions, one task (pipeline copy) per
// thread, as the runtime does for N input partitions. Checks: the counts of
// all results add up to the events (tumbling) and to 10x the events
// (hopping: every event is in 10 windows; edge windows are emitted too, at
// the end of the input).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench/keyed_events.h"
#include "operators/aggregate/builtins.h"
#include "operators/keyed/key_by.h"
#include "runtime/pipeline.h"

namespace {

using namespace std::chrono_literals;
using kappa::Element;
using kappa::Timestamp;

using Event = kappa::bench::KeyedEvent;
using kappa::bench::mix;

struct Totals {
  uint64_t results = 0;
  int64_t count_sum = 0;
};

// Runs one partition's task: every event whose key index falls in it.
// REQUIRES: keys % partitions == 0 (so key index mod partitions is the event
// index mod partitions).
template <class Spec>
Totals run_partition(const Spec& spec, int64_t events, int64_t keys, int partition, int partitions) {
  auto task = kappa::pipeline<Event>().event_time(0ms).then(spec);
  Totals totals;
  auto sink = [&](auto&& result) {
    ++totals.results;
    totals.count_sum += std::get<0>(result.value.value);
  };
  Element<Event> e{};
  // Counters instead of divisions: generating an event should cost next to
  // nothing beside processing it. Partition p holds the key indexes
  // congruent to p, so it steps through the events `partitions` at a time.
  int64_t key_index = partition;
  int64_t micros_in_ms = partition;
  Timestamp ms = 0;
  for (int64_t i = partition; i < events; i += partitions) {
    e.value.key = mix(static_cast<uint64_t>(key_index));
    e.value.amount = static_cast<double>(i & 1023);
    e.meta.timestamp = ms;  // 1 microsecond per event, in milliseconds
    task.push(std::move(e), sink);
    key_index += partitions;
    if (key_index >= keys) key_index -= keys;
    micros_in_ms += partitions;
    while (micros_in_ms >= 1000) {
      micros_in_ms -= 1000;
      ++ms;
    }
  }
  task.finish(sink);
  return totals;
}

struct Measurement {
  std::string window;
  int threads = 0;
  int64_t events = 0;
  double seconds = 0;
  Totals totals;
};

template <class Spec>
Measurement measure(const std::string& window, const Spec& spec, int64_t events, int64_t keys, int threads) {
  std::vector<Totals> totals(threads);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int p = 0; p < threads; ++p) {
    workers.emplace_back([&, p] { totals[p] = run_partition(spec, events, keys, p, threads); });
  }
  for (auto& w : workers) w.join();
  Measurement m{window, threads, events, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                {}};
  for (const Totals& t : totals) {
    m.totals.results += t.results;
    m.totals.count_sum += t.count_sum;
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Keyed count and sum over tumbling and hopping windows, in-process.", "window_throughput");
  int64_t events = 20'000'000;
  int64_t keys = 100'000;
  bool json = false;
  bool quick = false;
  app.add_option("--events", events, "Events per run. Default: 20M.")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--keys", keys, "Distinct keys. Default: 100k.")->check(CLI::Range(int64_t{2}, int64_t{1} << 32));
  app.add_flag("--json", json, "One JSON object per run on stdout, nothing else there.");
  app.add_flag("--quick", quick, "A smoke run: 1M events.");
  CLI11_PARSE(app, argc, argv);
  if (quick) events = 1'000'000;

  auto key_of = [](const Event& e) { return e.key; };
  const auto count_and_sum = kappa::agg::aggregates(kappa::agg::count(), kappa::agg::sum([](const Event& e) {
                                                      return e.amount;
                                                    }));
  const auto tumbling = kappa::key_by(key_of).window(kappa::tumbling(1s)).aggregate(count_and_sum);
  const auto hopping = kappa::key_by(key_of).window(kappa::hopping(10s, 1s)).aggregate(count_and_sum);

  std::vector<Measurement> runs;
  for (int threads : {1, 2}) {
    if (keys % threads != 0) continue;
    runs.push_back(measure("tumbling_1s", tumbling, events, keys, threads));
    runs.push_back(measure("hopping_10s_1s", hopping, events, keys, threads));
  }

  bool ok = true;
  double single[2] = {0, 0};
  for (const Measurement& m : runs) {
    const int64_t expected = m.window == "tumbling_1s" ? m.events : 10 * m.events;
    const bool counts_ok = m.totals.count_sum == expected;
    ok = ok && counts_ok;
    const double rate = m.events / m.seconds;
    const int kind = m.window == "tumbling_1s" ? 0 : 1;
    if (m.threads == 1) single[kind] = rate;
    if (json) {
      std::printf(
          "{\"window\":\"%s\",\"threads\":%d,\"events\":%lld,\"events_per_s\":%.0f,\"results\":%llu,\"count_sum\":%lld}\n",
          m.window.c_str(), m.threads, static_cast<long long>(m.events), rate,
          static_cast<unsigned long long>(m.totals.results), static_cast<long long>(m.totals.count_sum));
    } else {
      std::fprintf(stderr, "%-15s threads %d: %11.0f events/s  (%lld events in %.2f s, %llu results, counts %s%s)\n",
                   m.window.c_str(), m.threads, rate, static_cast<long long>(m.events), m.seconds,
                   static_cast<unsigned long long>(m.totals.results), counts_ok ? "add up" : "DO NOT add up",
                   m.threads > 1 && single[kind] > 0
                       ? (", " + std::to_string(rate / single[kind]).substr(0, 4) + "x one thread").c_str()
                       : "");
    }
  }
  if (!ok) std::fprintf(stderr, "window_throughput: result counts do not add up to the events\n");
  return ok ? 0 : 1;
}
