// Tumbling and hopping windows against the brute-force reference
// (window_reference.h): randomized out-of-order streams over every window
// kind, lateness and emit mode, and the same input through a PipelineTask in
// random batch splits (same bytes out whatever the split).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "tests/operators/window/window_test_harness.h"

namespace kappa::window_testing {
namespace {

using namespace std::chrono_literals;

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

}  // namespace
}  // namespace kappa::window_testing
