#include "operators/aggregate/aggregate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "operators/aggregate/encoding.h"
#include "tests/operators/aggregate/aggregate_harness.h"

namespace kappa {
namespace {

// A user-defined aggregate, written as operators/README.md describes: the
// time span (latest - earliest event time) of the elements, 0 for fewer than
// two distinct times.
struct SpanAccumulator {
  Timestamp earliest = kMaxTimestamp;
  Timestamp latest = kMinTimestamp;
  friend bool operator==(const SpanAccumulator&, const SpanAccumulator&) = default;
};

class SpanAggregate {
 public:
  using accumulator_type = SpanAccumulator;
  using result_type = int64_t;

  SpanAccumulator init() const { return {}; }
  template <class T>
  void add(SpanAccumulator& acc, const T& /*element*/, Timestamp ts) const {
    acc.earliest = ts < acc.earliest ? ts : acc.earliest;
    acc.latest = ts > acc.latest ? ts : acc.latest;
  }
  void merge(SpanAccumulator& acc, const SpanAccumulator& other) const {
    acc.earliest = other.earliest < acc.earliest ? other.earliest : acc.earliest;
    acc.latest = other.latest > acc.latest ? other.latest : acc.latest;
  }
  int64_t result(const SpanAccumulator& acc) const { return acc.latest > acc.earliest ? acc.latest - acc.earliest : 0; }
  void serialize(const SpanAccumulator& acc, std::string& out) const {
    agg::encoding::put_i64(out, acc.earliest);
    agg::encoding::put_i64(out, acc.latest);
  }
  bool deserialize(std::string_view& in, SpanAccumulator& acc) const {
    return agg::encoding::get_i64(in, acc.earliest) && agg::encoding::get_i64(in, acc.latest);
  }
};

static_assert(Aggregate<SpanAggregate, int>);
static_assert(SerializableAggregate<SpanAggregate>);

// What the concept rejects.
struct NoResultType {
  using accumulator_type = int;
  int init() const { return 0; }
  void add(int&, int, Timestamp) const {}
  void merge(int&, const int&) const {}
  int result(const int&) const { return 0; }
};
static_assert(!Aggregate<NoResultType, int>);

struct InitReturnsOtherType {
  using accumulator_type = int;
  using result_type = int;
  long init() const { return 0; }
  void add(int&, int, Timestamp) const {}
  void merge(int&, const int&) const {}
  int result(const int&) const { return 0; }
};
static_assert(!Aggregate<InitReturnsOtherType, int>);

struct NonConstAdd {
  using accumulator_type = int;
  using result_type = int;
  int init() const { return 0; }
  void add(int&, int, Timestamp) {}
  void merge(int&, const int&) const {}
  int result(const int&) const { return 0; }
};
static_assert(!Aggregate<NonConstAdd, int>);
static_assert(!SerializableAggregate<NonConstAdd>);

TEST(AggregateConceptTest, UserAggregateRunsOnEveryPath) {
  const SpanAggregate agg;
  std::mt19937_64 rng(29);
  for (int round = 0; round < 50; ++round) {
    std::vector<agg::testing::Event<int>> events;
    const int n = static_cast<int>(rng() % 100);
    Timestamp lo = kMaxTimestamp;
    Timestamp hi = kMinTimestamp;
    for (int i = 0; i < n; ++i) {
      const Timestamp ts = static_cast<Timestamp>(rng() % 10'000);
      lo = std::min(lo, ts);
      hi = std::max(hi, ts);
      events.push_back({i, ts});
    }
    const int64_t expected = n >= 2 ? hi - lo : 0;
    agg::testing::for_each_path(agg::testing::run_every_path(agg, events, rng),
                                [&](int64_t r, const char* path) { EXPECT_EQ(r, expected) << path; });
  }
}

}  // namespace
}  // namespace kappa
