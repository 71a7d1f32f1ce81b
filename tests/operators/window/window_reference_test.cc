// Tumbling and hopping windows against the brute-force reference
// (window_reference.h): randomized out-of-order streams over every window
// kind, lateness and emit mode, the same input through a PipelineTask in
// random batch splits (same bytes out whatever the split), and edge cases
// with hand-written expectations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

#include "operators/aggregate/builtins.h"
#include "operators/aggregate/hyperloglog.h"
#include "operators/keyed/key_by.h"
#include "operators/window/slice_assigner.h"
#include "operators/window/window_operator.h"
#include "operators/window/window_spec.h"
#include "runtime/pipeline.h"
#include "runtime/task.h"
#include "tests/operators/window/window_reference.h"

namespace kappa {
namespace {

using namespace std::chrono_literals;
using window_testing::RefAggregates;
using window_testing::RefEmission;
using window_testing::RefEvent;
using window_testing::RefWindowSpec;
using ms = std::chrono::milliseconds;

// ---------------------------------------------------------------------------
// The operator under test: every built-in aggregate in one pass.

auto all_aggregates() {
  auto amount = [](const RefEvent& e) { return e.amount; };
  return agg::aggregates(agg::count(), agg::sum(amount), agg::min(amount), agg::max(amount), agg::mean(amount),
                         agg::variance(amount), agg::stddev(amount), agg::first(amount), agg::last(amount),
                         agg::distinct([](const RefEvent& e) { return e.item; }));
}
using AllAggregates = decltype(all_aggregates());
using Result = WindowResult<std::string, AllAggregates::result_type>;

auto key_of = [](const RefEvent& e) -> const std::string& { return e.key; };

// Late elements, counted by partition through the spec's on_late hook.
using LateByPartition = std::shared_ptr<std::map<int32_t, int64_t>>;

auto window_stage(const RefWindowSpec& s, LateByPartition late = nullptr) {
  auto spec = key_by(key_of).window(SliceAssigner(s.size, s.slide, s.offset));
  spec.allowed_lateness(ms(s.allowed_lateness)).emit(s.emit);
  if (late) spec.on_late([late](const RecordMeta& meta) { ++(*late)[meta.partition]; });
  return spec.aggregate(all_aggregates());
}

RefAggregates to_ref(const AllAggregates::result_type& r) {
  RefAggregates a;
  std::tie(a.count, a.sum, a.min, a.max, a.mean, a.variance, a.stddev, a.first, a.last, a.distinct) = r;
  return a;
}

// One emission of the operator, and the input event during (or right after)
// which it came out; events.size() for the end of the input.
struct Row {
  std::string key;
  Timestamp start = 0;
  Timestamp end = 0;
  bool is_final = true;
  RefAggregates value;
  std::size_t after_event = 0;
};

// ---------------------------------------------------------------------------
// Codecs for running the operator inside a PipelineTask.

// Binary: key length (4 bytes), key, time, has-amount byte, amount, item.
struct EventCodec {
  Status decode(std::string_view bytes, RefEvent& e) const {
    uint32_t key_size;
    if (bytes.size() < sizeof key_size) return Status::corruption("short event");
    std::memcpy(&key_size, bytes.data(), sizeof key_size);
    if (bytes.size() != sizeof key_size + key_size + 8 + 1 + 8 + 8) return Status::corruption("bad event size");
    const char* p = bytes.data() + sizeof key_size;
    e.key.assign(p, key_size);
    p += key_size;
    std::memcpy(&e.time, p, 8);
    double amount;
    std::memcpy(&amount, p + 9, 8);
    e.amount = p[8] != 0 ? std::optional<double>(amount) : std::nullopt;
    std::memcpy(&e.item, p + 17, 8);
    return Status::ok();
  }
  void encode(const RefEvent& e, std::string& out) const {
    const auto key_size = static_cast<uint32_t>(e.key.size());
    const double amount = e.amount.value_or(0.0);
    const char has_amount = e.amount.has_value() ? 1 : 0;
    out.append(reinterpret_cast<const char*>(&key_size), sizeof key_size);
    out.append(e.key);
    out.append(reinterpret_cast<const char*>(&e.time), 8);
    out.append(&has_amount, 1);
    out.append(reinterpret_cast<const char*>(&amount), 8);
    out.append(reinterpret_cast<const char*>(&e.item), 8);
  }
};

// Binary, every field as its bytes (doubles exactly); results are only ever written.
struct ResultCodec {
  Status decode(std::string_view, Result&) const { return Status::invalid_argument("write-only codec"); }
  void encode(const Result& r, std::string& out) const {
    const RefAggregates a = to_ref(r.value);
    auto raw = [&](const auto& v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
    out += r.key;
    out += '|';
    raw(r.start);
    raw(r.end);
    out += r.is_final ? 'F' : 'U';
    raw(a.count);
    for (auto v : {std::optional<double>(a.sum), a.min, a.max, a.mean, a.variance, a.stddev, a.first, a.last}) {
      out += v.has_value() ? '+' : '-';
      raw(v.value_or(0.0));
    }
    raw(a.distinct);
  }
};
static_assert(Codec<EventCodec, RefEvent>);
static_assert(Codec<ResultCodec, Result>);

// An output record as bytes: key, timestamp, value.
std::string output_bytes(std::string_view key, Timestamp timestamp, std::string_view value) {
  return std::string(key) + "#" + std::to_string(timestamp) + "#" + std::string(value);
}

// ---------------------------------------------------------------------------
// Running one task's events.

class LateCounter final : public StageContext {
 public:
  void report_late() override { ++late; }
  int64_t late = 0;
};

struct DirectRun {
  std::vector<Row> rows;
  std::vector<std::string> outputs;  // output_bytes of each row, in order (if asked for)
  int64_t late = 0;                  // reported to the task context
};

// Pushes `events` through pipeline `p` (a copy: its own state), element by
// element, then ends the input.
template <class P>
DirectRun run_pipeline(P p, const std::vector<RefEvent>& events, int32_t partition = 0, bool encode = false) {
  LateCounter context;
  p.bind(context);
  DirectRun run;
  std::size_t current = 0;
  auto sink = [&](Element<Result>&& r) {
    const Result& v = r.value;
    run.rows.push_back(Row{v.key, v.start, v.end, v.is_final, to_ref(v.value), current});
    if (!encode) return;
    std::string value;
    ResultCodec{}.encode(v, value);
    run.outputs.push_back(output_bytes(r.meta.key, r.meta.timestamp, value));
  };
  for (; current < events.size(); ++current) {
    const RefEvent& e = events[current];
    p.push(Element<RefEvent>{e, RecordMeta{e.key, 0, partition, static_cast<int64_t>(current)}}, sink);
  }
  p.finish(sink);
  run.late = context.late;
  return run;
}

auto direct_pipeline(const RefWindowSpec& s, LateByPartition late = nullptr) {
  return pipeline<RefEvent>()
      .event_time([](const RefEvent& e) { return e.time; }, ms(s.out_of_orderness))
      .then(window_stage(s, std::move(late)));
}

DirectRun run_direct(const RefWindowSpec& s, const std::vector<RefEvent>& events) {
  return run_pipeline(direct_pipeline(s), events);
}

// Input records for a task, over bytes they own.
struct Records {
  std::vector<std::string> values;
  std::vector<Record> records;
};

Records to_records(const std::vector<RefEvent>& events, int32_t partition) {
  Records r;
  r.values.reserve(events.size());
  for (const RefEvent& e : events) {
    r.values.emplace_back();
    EventCodec{}.encode(e, r.values.back());
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    Record record;
    record.key = events[i].key;
    record.value = r.values[i];
    record.timestamp = events[i].time;
    record.partition = partition;
    record.offset = static_cast<int64_t>(i);
    r.records.push_back(record);
  }
  return r;
}

struct TaskRun {
  std::vector<std::string> outputs;  // output_bytes, in order
  std::vector<std::string> late;     // the late records, as key#timestamp#value
  uint64_t records_in = 0, records_out = 0, records_late = 0;
};

// Runs the records through a PipelineTask in batches of the given sizes
// (summing to the record count), then finishes it. The task's pipeline takes
// event time from the records' timestamps.
TaskRun run_task(const RefWindowSpec& s, const std::vector<Record>& records, const std::vector<std::size_t>& batches,
                 int32_t partition) {
  auto p = pipeline<RefEvent>().event_time(ms(s.out_of_orderness)).then(window_stage(s));
  PipelineTask<decltype(p), EventCodec, ResultCodec> task(PartitionId{"in", partition}, ErrorPolicy::kFail, p,
                                                          EventCodec{}, ResultCodec{});
  TaskRun run;
  TaskOutput out;
  auto take = [&] {
    for (std::size_t i = 0; i < out.results.size(); ++i) {
      run.outputs.push_back(output_bytes(out.results.key(i), out.results.timestamp(i), out.results.value(i)));
    }
    for (std::size_t i = 0; i < out.late.size(); ++i) {
      run.late.push_back(output_bytes(out.late.key(i), out.late.timestamp(i), out.late.value(i)));
    }
    out.clear();
  };
  std::size_t at = 0;
  for (std::size_t size : batches) {
    const Status status = task.process(std::span<const Record>(records).subspan(at, size), out);
    EXPECT_TRUE(status.is_ok()) << status.message();
    at += size;
    take();
  }
  const Status status = task.finish(out);
  EXPECT_TRUE(status.is_ok()) << status.message();
  take();
  run.records_in = task.counters().records_in.load();
  run.records_out = task.counters().records_out.load();
  run.records_late = task.counters().records_late.load();
  return run;
}

// ---------------------------------------------------------------------------
// Comparing with the reference.

std::string describe(const std::string& key, Timestamp start, Timestamp end, bool is_final, const RefAggregates& v) {
  return key + " [" + std::to_string(start) + "," + std::to_string(end) + ") n=" + std::to_string(v.count) +
         " sum=" + std::to_string(v.sum) + (is_final ? " final" : " update");
}

// Every difference between the reference's emissions and the operator's:
// as multisets (sorted by key, window, count, is_final; within one window
// that identifies an emission), with aggregate values compared by
// aggregate_diff; and, per (key, window), the order of the emissions.
std::vector<std::string> compare(const std::vector<RefEmission>& want, const std::vector<Row>& got) {
  std::vector<std::string> diffs;
  const int64_t exact_distinct = static_cast<int64_t>(agg::HyperLogLog::kMaxSparseEntries);
  auto order = [](const auto& r) { return std::tie(r.key, r.start, r.end, r.value.count, r.is_final); };
  std::vector<const RefEmission*> w;
  std::vector<const Row*> g;
  for (const auto& e : want) w.push_back(&e);
  for (const auto& r : got) g.push_back(&r);
  std::stable_sort(w.begin(), w.end(), [&](auto* a, auto* b) { return order(*a) < order(*b); });
  std::stable_sort(g.begin(), g.end(), [&](auto* a, auto* b) { return order(*a) < order(*b); });
  std::size_t i = 0, j = 0;
  while (i < w.size() || j < g.size()) {
    if (j == g.size() || (i < w.size() && order(*w[i]) < order(*g[j]))) {
      diffs.push_back("missing " + describe(w[i]->key, w[i]->start, w[i]->end, w[i]->is_final, w[i]->value) +
                      " (reference: after event " + std::to_string(w[i]->position.event) + ")");
      ++i;
    } else if (i == w.size() || order(*g[j]) < order(*w[i])) {
      diffs.push_back("unexpected " + describe(g[j]->key, g[j]->start, g[j]->end, g[j]->is_final, g[j]->value) +
                      " (at event " + std::to_string(g[j]->after_event) + ")");
      ++j;
    } else {
      const std::string d = window_testing::aggregate_diff(w[i]->value, g[j]->value, exact_distinct);
      if (!d.empty()) {
        diffs.push_back("values of " + describe(g[j]->key, g[j]->start, g[j]->end, g[j]->is_final, g[j]->value) +
                        ":" + d);
      }
      ++i;
      ++j;
    }
  }

  using WindowId = std::tuple<std::string, Timestamp, Timestamp>;
  std::map<WindowId, std::string> want_seq, got_seq;
  auto step = [](const RefAggregates& v, bool is_final) {
    return " n=" + std::to_string(v.count) + (is_final ? "F" : "U");
  };
  for (const auto& e : want) want_seq[{e.key, e.start, e.end}] += step(e.value, e.is_final);  // in order per window
  for (const auto& r : got) got_seq[{r.key, r.start, r.end}] += step(r.value, r.is_final);
  for (const auto& [id, seq] : want_seq) {
    auto it = got_seq.find(id);
    const std::string got_order = it == got_seq.end() ? "" : it->second;
    if (got_order != seq) {
      diffs.push_back("order of " + std::get<0>(id) + " [" + std::to_string(std::get<1>(id)) + "," +
                      std::to_string(std::get<2>(id)) + "): want" + seq + ", got" + got_order);
    }
  }
  for (const auto& [id, seq] : got_seq) {
    if (!want_seq.contains(id)) {
      diffs.push_back("order of " + std::get<0>(id) + " [" + std::to_string(std::get<1>(id)) + "," +
                      std::to_string(std::get<2>(id)) + "): want nothing, got" + seq);
    }
  }
  return diffs;
}

void expect_no_differences(const std::vector<std::string>& diffs, const std::string& context) {
  if (diffs.empty()) return;
  std::string shown;
  for (std::size_t i = 0; i < diffs.size() && i < 15; ++i) shown += "\n  " + diffs[i];
  ADD_FAILURE() << context << ": " << diffs.size() << " differences from the reference:" << shown;
}

// ---------------------------------------------------------------------------
// Random streams.

// Items for distinct(): integers whose hashes have pairwise different 25-bit
// prefixes, so the sketch's sparse form (up to 256 values) counts any subset
// of them exactly (operators/aggregate/hyperloglog.h).
const std::vector<int64_t>& distinct_items() {
  static const std::vector<int64_t> items = [] {
    std::vector<int64_t> out;
    std::unordered_set<uint64_t> prefixes;
    for (int64_t v = 0; out.size() < 20000; ++v) {
      if (prefixes.insert(agg::distinct_hash(v) >> (64 - agg::HyperLogLog::kSparsePrecision)).second) {
        out.push_back(v);
      }
    }
    return out;
  }();
  return items;
}

struct StreamShape {
  std::size_t events = 1000;
  int keys = 50;         // keys k1..kN
  double hot = 0;        // share of events of key "hot", whose items are spread wide
  int64_t max_step = 3;  // the clock advances by [0, max_step] per event

  std::string to_string() const {
    return "events=" + std::to_string(events) + " keys=" + std::to_string(keys) + " hot=" + std::to_string(hot) +
           " max_step=" + std::to_string(max_step);
  }
};

// Events around an increasing clock: most within the out-of-orderness
// behind it, some around the allowed lateness, ~3% far beyond it (late),
// and now and then a gap of several windows (empty windows, a watermark
// jump over many window ends). Amounts are integers (exact sums), some
// missing or NaN.
std::vector<RefEvent> random_stream(std::mt19937_64& rng, const RefWindowSpec& w, const StreamShape& shape) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const auto& items = distinct_items();
  std::vector<RefEvent> events;
  Timestamp clock = uniform(-3000, 3000);
  for (std::size_t i = 0; i < shape.events; ++i) {
    clock += uniform(0, shape.max_step);
    if (unit(rng) < 0.01) clock += uniform(w.size, 10 * w.size);
    RefEvent e;
    const double kind = unit(rng);
    if (kind < 0.03) {
      e.time = clock - w.out_of_orderness - w.allowed_lateness - uniform(2 * w.size, 20 * w.size);
    } else if (kind < 0.15) {
      e.time = clock - w.out_of_orderness - uniform(0, w.allowed_lateness + w.size);
    } else {
      e.time = clock - uniform(0, w.out_of_orderness);
    }
    const bool hot = unit(rng) < shape.hot;
    e.key = hot ? "hot" : "k" + std::to_string(uniform(1, shape.keys));
    const double a = unit(rng);
    if (a < 0.04) {
      e.amount = std::nullopt;
    } else if (a < 0.06) {
      e.amount = std::numeric_limits<double>::quiet_NaN();
    } else {
      e.amount = static_cast<double>(uniform(-1000, 1000));
    }
    e.item = items[hot ? uniform(0, static_cast<int64_t>(items.size()) - 1) : uniform(0, 40)];
    events.push_back(std::move(e));
  }
  return events;
}

// Batch sizes summing to n: all in one, one by one, or random.
std::vector<std::size_t> random_batches(std::mt19937_64& rng, std::size_t n, int style) {
  std::vector<std::size_t> sizes;
  if (style == 0) {
    if (n > 0) sizes.push_back(n);
    return sizes;
  }
  const std::size_t max = style == 1 ? 1 : std::uniform_int_distribution<std::size_t>(2, 300)(rng);
  for (std::size_t left = n; left > 0;) {
    const std::size_t size = std::min(left, std::uniform_int_distribution<std::size_t>(1, max)(rng));
    sizes.push_back(size);
    left -= size;
  }
  return sizes;
}

// What the reference saw over some runs, to check that the random input
// reaches the cases it is meant to.
struct Coverage {
  int64_t emissions = 0;
  int64_t updates = 0;       // is_final = false
  int64_t late_updates = 0;  // final emissions right after an event (past the window's end)
  int64_t late_events = 0;
  int64_t sparse_distinct = 0;  // emissions with 2..256 distinct items
  int64_t dense_distinct = 0;   // emissions with more than 256 distinct items

  void add(const window_testing::RefWindowOutput& out) {
    late_events += static_cast<int64_t>(out.late.size());
    for (const RefEmission& e : out.emissions) {
      ++emissions;
      updates += !e.is_final;
      late_updates += e.is_final && e.position.phase == 0;
      sparse_distinct += e.value.distinct >= 2 && e.value.distinct <= 256;
      dense_distinct += e.value.distinct > 256;
    }
  }
};

// One randomized run: `partitions` tasks, each with its own stream and its
// own copy of one pipeline, each compared with the reference; one of them
// also run as a PipelineTask in three batch splits.
void check_random_run(uint64_t seed, RefWindowSpec spec, int partitions, bool large, Coverage& coverage) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (!large) spec.out_of_orderness = std::array<int64_t, 4>{0, 3, 20, 100}[rng() % 4];
  LateByPartition late_by_partition = std::make_shared<std::map<int32_t, int64_t>>();
  const auto prototype = direct_pipeline(spec, late_by_partition);
  const int checked_task = static_cast<int>(rng() % partitions);
  for (int32_t partition = 0; partition < partitions; ++partition) {
    StreamShape shape;
    if (large) {
      shape = StreamShape{4000, 20, 0.7, 1};
    } else {
      const double r = unit(rng);
      shape.events = r < 0.1 ? rng() % 4 : 200 + rng() % 1200;  // sometimes (almost) idle
      shape.keys = std::array<int, 4>{1, 5, 50, 500}[rng() % 4];
      shape.hot = unit(rng) < 0.3 ? 0.3 : 0.0;
      shape.max_step = std::array<int64_t, 3>{1, 3, 8}[rng() % 3];
    }
    const std::vector<RefEvent> events = random_stream(rng, spec, shape);
    const std::string context = "seed=" + std::to_string(seed) + " partition=" + std::to_string(partition) + " " +
                                spec.to_string() + " " + shape.to_string();

    const window_testing::RefWindowOutput want = window_testing::reference_windows(events, spec);
    coverage.add(want);
    const DirectRun got = run_pipeline(prototype, events, partition, /*encode=*/partition == checked_task);
    expect_no_differences(compare(want.emissions, got.rows), context);
    EXPECT_EQ(got.late, static_cast<int64_t>(want.late.size())) << context;
    EXPECT_EQ((*late_by_partition)[partition], static_cast<int64_t>(want.late.size())) << context;

    if (partition != checked_task) continue;
    const Records records = to_records(events, partition);
    std::vector<std::string> want_late;
    for (std::size_t i : want.late) {
      want_late.push_back(output_bytes(records.records[i].key, records.records[i].timestamp, records.values[i]));
    }
    for (int style = 0; style < 3; ++style) {
      const TaskRun task = run_task(spec, records.records, random_batches(rng, events.size(), style), partition);
      // Byte-identical to the element-by-element run, so to every other split.
      EXPECT_TRUE(task.outputs == got.outputs) << context << " batch style " << style << ": " << task.outputs.size()
                                               << " outputs vs " << got.outputs.size();
      EXPECT_TRUE(task.late == want_late) << context << " batch style " << style;
      EXPECT_EQ(task.records_late, want.late.size()) << context;
      EXPECT_EQ(task.records_in, events.size()) << context;
      EXPECT_EQ(task.records_out, got.outputs.size()) << context;
    }
  }
}

// Window kinds: tumbling, with an offset, hopping with a slide that divides
// the size and with one that does not, with an offset.
struct WindowKind {
  const char* name;
  int64_t size, slide, offset;
  uint64_t first_seed;
};
const WindowKind kWindowKinds[] = {
    {"Tumbling", 10, 10, 0, 1000},         {"TumblingOffset", 10, 10, 3, 2000},
    {"TumblingOne", 1, 1, 0, 3000},        {"HoppingDividing", 12, 4, 0, 4000},
    {"HoppingNotDividing", 10, 4, 0, 5000}, {"HoppingNotDividingOffset", 9, 6, 5, 6000},
};

void PrintTo(const WindowKind& kind, std::ostream* os) {
  *os << kind.name << " (size " << kind.size << ", slide " << kind.slide << ", offset " << kind.offset << ")";
}

class WindowReferenceRandomTest : public ::testing::TestWithParam<WindowKind> {};

TEST_P(WindowReferenceRandomTest, MatchesTheReference) {
  const WindowKind kind = GetParam();
  Coverage coverage;
  int run = 0;
  for (int64_t lateness : {0, 7, 25}) {
    for (EmitMode emit : {EmitMode::kFinal, EmitMode::kUpdates}) {
      for (int i = 0; i < 9; ++i, ++run) {
        RefWindowSpec spec;
        spec.size = kind.size;
        spec.slide = kind.slide;
        spec.offset = kind.offset;
        spec.allowed_lateness = lateness;
        spec.emit = emit;
        check_random_run(kind.first_seed + run, spec, /*partitions=*/3, /*large=*/false, coverage);
      }
    }
  }
  EXPECT_GT(coverage.updates, 0);
  EXPECT_GT(coverage.late_updates, 0);
  EXPECT_GT(coverage.late_events, 0);
  EXPECT_GT(coverage.sparse_distinct, 0);
}

INSTANTIATE_TEST_SUITE_P(Kinds, WindowReferenceRandomTest, ::testing::ValuesIn(kWindowKinds),
                         [](const auto& info) { return std::string(info.param.name); });

// Windows of hundreds of distinct items for one key: the sketch turns dense
// and distinct() is compared within 5%.
TEST(WindowReferenceLargeTest, DistinctCountsBeyondTheSparseRange) {
  Coverage coverage;
  for (EmitMode emit : {EmitMode::kFinal, EmitMode::kUpdates}) {
    for (uint64_t seed : {101, 102}) {
      RefWindowSpec spec;
      spec.size = 400;
      spec.slide = seed == 101 ? 400 : 100;
      spec.allowed_lateness = 50;
      spec.out_of_orderness = 20;
      spec.emit = emit;
      check_random_run(seed, spec, 1, /*large=*/true, coverage);
    }
  }
  EXPECT_GT(coverage.dense_distinct, 0);
  EXPECT_GT(coverage.sparse_distinct, 0);
}

// ---------------------------------------------------------------------------
// Edge cases, with hand-written expectations (and the reference too).

RefEvent ev(std::string key, Timestamp time, double amount = 1, int64_t item = 0) {
  return RefEvent{std::move(key), time, amount, item};
}

// What a hand-written expectation looks at.
struct Brief {
  std::string key;
  Timestamp start, end;
  int64_t count;
  double sum;
  bool is_final;
  std::size_t after_event;
  friend bool operator==(const Brief&, const Brief&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Brief& b) {
    return os << "{" << b.key << " [" << b.start << "," << b.end << ") n=" << b.count << " sum=" << b.sum
              << (b.is_final ? " final" : " update") << " @" << b.after_event << "}";
  }
};

std::vector<Brief> briefs(const std::vector<Row>& rows) {
  std::vector<Brief> out;
  for (const Row& r : rows) out.push_back({r.key, r.start, r.end, r.value.count, r.value.sum, r.is_final, r.after_event});
  return out;
}

RefWindowSpec tumbling_spec(int64_t size, int64_t offset = 0, int64_t ooo = 0, int64_t lateness = 0) {
  RefWindowSpec s;
  s.size = s.slide = size;
  s.offset = offset;
  s.out_of_orderness = ooo;
  s.allowed_lateness = lateness;
  return s;
}

// Runs the operator, checks it against the reference and returns its rows.
std::vector<Brief> run_checked(const RefWindowSpec& spec, const std::vector<RefEvent>& events, int64_t* late = nullptr) {
  const DirectRun run = run_direct(spec, events);
  const auto want = window_testing::reference_windows(events, spec);
  expect_no_differences(compare(want.emissions, run.rows), spec.to_string());
  EXPECT_EQ(run.late, static_cast<int64_t>(want.late.size()));
  if (late) *late = run.late;
  return briefs(run.rows);
}

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

TEST(WindowReferenceEdgeTest, EventsOnWindowBoundaries) {
  // t = start and t = end - 1 are in [0, 10); t = end opens [10, 20) and
  // moves the watermark to 10, which fires [0, 10) right then.
  const auto rows = run_checked(tumbling_spec(10), {ev("a", 0, 1), ev("a", 9, 2), ev("a", 10, 4), ev("a", 19, 8),
                                                    ev("a", 20, 16)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 0, 10, 2, 3, true, 2}, Brief{"a", 10, 20, 2, 12, true, 4},
                                Brief{"a", 20, 30, 1, 16, true, 5}));
}

TEST(WindowReferenceEdgeTest, AnEventAtTheWatermarkOfAWindowEndIsLateWithoutLateness) {
  // The watermark is 10 = the end of [0, 10): an event at 9 is late with
  // lateness 0, and updates the fired window with lateness 1.
  int64_t late = 0;
  auto rows = run_checked(tumbling_spec(10), {ev("a", 1, 1), ev("a", 10, 2), ev("a", 9, 4)}, &late);
  EXPECT_EQ(late, 1);
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 0, 10, 1, 1, true, 1}, Brief{"a", 10, 20, 1, 2, true, 3}));

  rows = run_checked(tumbling_spec(10, 0, 0, 1), {ev("a", 1, 1), ev("a", 10, 2), ev("a", 9, 4)}, &late);
  EXPECT_EQ(late, 0);
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 0, 10, 1, 1, true, 1}, Brief{"a", 0, 10, 2, 5, true, 2},
                                Brief{"a", 10, 20, 1, 2, true, 3}));
}

TEST(WindowReferenceEdgeTest, OffsetWithNegativeEventTimes) {
  // tumbling(10, offset 3): [-17, -7), [-7, 3), [3, 13), [13, 23).
  const auto rows = run_checked(tumbling_spec(10, 3, 100), {ev("a", -8, 1), ev("a", -7, 2), ev("a", -1, 4),
                                                           ev("a", 2, 8), ev("a", 3, 16), ev("a", 12, 32),
                                                           ev("a", 13, 64)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", -17, -7, 1, 1, true, 7}, Brief{"a", -7, 3, 3, 14, true, 7},
                                Brief{"a", 3, 13, 2, 48, true, 7}, Brief{"a", 13, 23, 1, 64, true, 7}));
}

TEST(WindowReferenceEdgeTest, HoppingWithOffsetAndNegativeTimes) {
  // size 10, slide 4, offset 1: starts ..., -11, -7, -3, 1; -5 is in [-11, -1) and [-7, 3).
  RefWindowSpec spec;
  spec.size = 10;
  spec.slide = 4;
  spec.offset = 1;
  const auto rows = run_checked(spec, {ev("a", -5, 1)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", -11, -1, 1, 1, true, 1}, Brief{"a", -7, 3, 1, 1, true, 1}));
}

TEST(WindowReferenceEdgeTest, SlideThatDoesNotDivideTheSize) {
  // size 10, slide 4 (slices of 2): 3 is in [-4,6) [0,10); 5 in [-4,6) [0,10)
  // [4,14); 8 in [0,10) [4,14) [8,18).
  RefWindowSpec spec;
  spec.size = 10;
  spec.slide = 4;
  spec.out_of_orderness = 100;
  const auto rows = run_checked(spec, {ev("a", 3, 1), ev("a", 5, 2), ev("a", 8, 4)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", -4, 6, 2, 3, true, 3}, Brief{"a", 0, 10, 3, 7, true, 3},
                                Brief{"a", 4, 14, 2, 6, true, 3}, Brief{"a", 8, 18, 1, 4, true, 3}));
}

TEST(WindowReferenceEdgeTest, EmptyWindowInTheMiddleEmitsNothing) {
  auto rows = run_checked(tumbling_spec(10), {ev("a", 5, 1), ev("a", 25, 2)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 0, 10, 1, 1, true, 1}, Brief{"a", 20, 30, 1, 2, true, 2}));

  RefWindowSpec hopping_spec;
  hopping_spec.size = 10;
  hopping_spec.slide = 5;
  rows = run_checked(hopping_spec, {ev("a", 2, 1), ev("a", 33, 2)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", -5, 5, 1, 1, true, 1}, Brief{"a", 0, 10, 1, 1, true, 1},
                                Brief{"a", 25, 35, 1, 2, true, 2}, Brief{"a", 30, 40, 1, 2, true, 2}));
}

TEST(WindowReferenceEdgeTest, UpdatesModeEmitsEachChangeThenFinal) {
  RefWindowSpec spec = tumbling_spec(10, 0, 0, 5);
  spec.emit = EmitMode::kUpdates;
  // 12 moves the watermark to 12: [0, 10) fires; 8 is a late update (12 < 10 + 5).
  const auto rows = run_checked(spec, {ev("a", 1, 1), ev("a", 2, 2), ev("a", 12, 4), ev("a", 8, 8)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 0, 10, 1, 1, false, 0}, Brief{"a", 0, 10, 2, 3, false, 1},
                                Brief{"a", 10, 20, 1, 4, false, 2}, Brief{"a", 0, 10, 2, 3, true, 2},
                                Brief{"a", 0, 10, 3, 11, true, 3}, Brief{"a", 10, 20, 1, 4, true, 4}));
}

// A late event that is the first of its (already fired, still within
// lateness) window is emitted once, right away, as the design says ("fires
// again after each later event that counts in it"). Found by the randomized
// test: the operator emits the window a second time when the key's next
// timer runs (WindowOperator::service starts from fired_through, which
// process() never advances).
TEST(WindowReferenceEdgeTest, LateEventOpeningAFiredWindowIsEmittedOnce) {
  const auto rows = run_checked(tumbling_spec(10, 0, 0, 10), {ev("a", 25, 1), ev("a", 15, 2)});
  EXPECT_THAT(rows, ElementsAre(Brief{"a", 10, 20, 1, 2, true, 1}, Brief{"a", 20, 30, 1, 1, true, 2}));
}

// The same cause with lateness 0: an event too late for the first of its
// hopping windows but in time for the next must not be emitted in the
// first (the reference and the header's semantics: it counts only in
// windows with end + lateness > watermark). The operator emits b [10, 20)
// at the end of the input.
TEST(WindowReferenceEdgeTest, EventTooLateForAnEarlierHoppingWindowIsNotEmittedInIt) {
  RefWindowSpec spec;
  spec.size = 10;
  spec.slide = 5;
  // The watermark is 20 when b@17 arrives: [10, 20) is closed, [15, 25) open.
  const auto rows = run_checked(spec, {ev("a", 20, 1), ev("b", 17, 2)});
  EXPECT_THAT(rows, UnorderedElementsAre(Brief{"a", 15, 25, 1, 1, true, 2}, Brief{"a", 20, 30, 1, 1, true, 2},
                                         Brief{"b", 15, 25, 1, 2, true, 2}));
}

// The stage itself, driven by hand: process() and on_watermark() with an
// emitter that collects results and ignores watermarks.
template <class F>
struct Emitter : F {
  void watermark(Timestamp) const {}
};
template <class F>
Emitter(F) -> Emitter<F>;

auto make_operator(int64_t lateness) {
  return WindowOperator<RefEvent, decltype(key_of), AllAggregates>(key_of, tumbling(10ms), all_aggregates(),
                                                                    WindowOptions{ms(lateness), EmitMode::kFinal},
                                                                    nullptr);
}

Element<RefEvent> element(const RefEvent& e) { return Element<RefEvent>{e, RecordMeta{e.key, e.time, 0, 0}}; }

TEST(WindowReferenceEdgeTest, SilentKeysStillFireAndTheirStateIsDropped) {
  for (int64_t lateness : {0, 5}) {
    SCOPED_TRACE("lateness " + std::to_string(lateness));
    auto op = make_operator(lateness);
    std::vector<std::string> fired;
    Emitter emit{[&](Element<Result>&& r) {
      fired.push_back(r.value.key + "[" + std::to_string(r.value.start) + "," + std::to_string(r.value.end) + ")");
    }};
    op.process(element(ev("a", 1)), emit);
    op.process(element(ev("b", 2)), emit);
    op.on_watermark(2, emit);
    EXPECT_EQ(op.key_count(), 2u);
    // b keeps going; a goes silent.
    op.process(element(ev("b", 12)), emit);
    op.on_watermark(12, emit);
    EXPECT_THAT(fired, ElementsAre("a[0,10)", "b[0,10)"));
    EXPECT_EQ(op.key_count(), lateness == 0 ? 1u : 2u);  // a's window is past its lateness only with 0
    op.on_watermark(14, emit);
    EXPECT_EQ(op.key_count(), lateness == 0 ? 1u : 2u);
    op.on_watermark(15, emit);
    EXPECT_EQ(op.key_count(), 1u);  // a is forgotten; b still has [10, 20)
    op.on_watermark(20 + lateness, emit);
    EXPECT_THAT(fired, ElementsAre("a[0,10)", "b[0,10)", "b[10,20)"));
    EXPECT_EQ(op.key_count(), 0u);

    // A forgotten key comes back as a new one.
    op.process(element(ev("a", 31)), emit);
    EXPECT_EQ(op.key_count(), 1u);
    op.on_watermark(kMaxTimestamp, emit);
    EXPECT_THAT(fired, ElementsAre("a[0,10)", "b[0,10)", "b[10,20)", "a[30,40)"));
    EXPECT_EQ(op.key_count(), 0u);
  }
}

TEST(WindowReferenceEdgeTest, StateIsDroppedAfterALateUpdate) {
  auto op = make_operator(10);
  std::vector<int64_t> counts;
  Emitter emit{[&](Element<Result>&& r) { counts.push_back(std::get<0>(r.value.value)); }};
  op.process(element(ev("a", 1)), emit);
  op.on_watermark(12, emit);               // [0, 10) fires
  op.process(element(ev("a", 5)), emit);   // late update, within lateness
  EXPECT_THAT(counts, ElementsAre(1, 2));
  EXPECT_EQ(op.key_count(), 1u);
  op.on_watermark(19, emit);
  EXPECT_EQ(op.key_count(), 1u);
  op.on_watermark(20, emit);  // 10 + lateness: gone, without another emission
  EXPECT_EQ(op.key_count(), 0u);
  EXPECT_THAT(counts, ElementsAre(1, 2));
}

TEST(WindowReferenceEdgeTest, AnIdlePartitionDoesNotHoldBackAnother) {
  const RefWindowSpec spec = tumbling_spec(10);
  const auto prototype = direct_pipeline(spec);
  auto busy = prototype;
  auto idle = prototype;
  LateCounter context;
  busy.bind(context);
  idle.bind(context);
  std::vector<std::string> busy_out, idle_out;
  auto busy_sink = [&](Element<Result>&& r) { busy_out.push_back(r.value.key + std::to_string(r.value.end)); };
  auto idle_sink = [&](Element<Result>&& r) { idle_out.push_back(r.value.key + std::to_string(r.value.end)); };
  const RefEvent a1 = ev("a", 1), a15 = ev("a", 15);
  busy.push(Element<RefEvent>{a1, {a1.key, 0, 0, 0}}, busy_sink);
  busy.push(Element<RefEvent>{a15, {a15.key, 0, 0, 1}}, busy_sink);
  EXPECT_THAT(busy_out, ElementsAre("a10"));  // fired though the other partition saw nothing
  idle.finish(idle_sink);
  EXPECT_THAT(idle_out, IsEmpty());

  // The same with two tasks, the idle one given empty batches.
  const std::vector<RefEvent> events = {a1, a15};
  const Records records = to_records(events, 0);
  auto p = pipeline<RefEvent>().event_time(0ms).then(window_stage(spec));
  PipelineTask<decltype(p), EventCodec, ResultCodec> busy_task(PartitionId{"in", 0}, ErrorPolicy::kFail, p, {}, {});
  PipelineTask<decltype(p), EventCodec, ResultCodec> idle_task(PartitionId{"in", 1}, ErrorPolicy::kFail, p, {}, {});
  TaskOutput busy_output, idle_output;
  ASSERT_TRUE(idle_task.process({}, idle_output).is_ok());
  ASSERT_TRUE(busy_task.process(records.records, busy_output).is_ok());
  ASSERT_TRUE(idle_task.process({}, idle_output).is_ok());
  ASSERT_EQ(busy_output.results.size(), 1u);
  EXPECT_EQ(busy_output.results.key(0), "a");
  EXPECT_EQ(idle_output.results.size(), 0u);
}

TEST(WindowReferenceEdgeTest, EndOfInputFiresEveryOpenWindow) {
  // A large out-of-orderness keeps the watermark behind every window end.
  RefWindowSpec spec;
  spec.size = 10;
  spec.slide = 5;
  spec.out_of_orderness = 1000;
  spec.allowed_lateness = 100;
  const std::vector<RefEvent> events = {ev("a", 1), ev("b", 7), ev("a", 12), ev("c", -3)};
  const auto rows = run_checked(spec, events);
  // (The order across keys is the operator's choice.)
  EXPECT_THAT(rows, UnorderedElementsAre(Brief{"c", -10, 0, 1, 1, true, 4}, Brief{"a", -5, 5, 1, 1, true, 4},
                                         Brief{"c", -5, 5, 1, 1, true, 4}, Brief{"a", 0, 10, 1, 1, true, 4},
                                         Brief{"b", 0, 10, 1, 1, true, 4}, Brief{"b", 5, 15, 1, 1, true, 4},
                                         Brief{"a", 5, 15, 1, 1, true, 4}, Brief{"a", 10, 20, 1, 1, true, 4}));

  // And the stage forgets every key at the end.
  auto op = make_operator(100);
  int fired = 0;
  Emitter emit{[&](Element<Result>&&) { ++fired; }};
  for (const RefEvent& e : events) op.process(element(e), emit);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(op.key_count(), 3u);
  op.on_watermark(kMaxTimestamp, emit);
  EXPECT_EQ(fired, 4);  // tumbling(10): a [0,10) [10,20), b [0,10), c [-10,0)
  EXPECT_EQ(op.key_count(), 0u);
}

}  // namespace
}  // namespace kappa
