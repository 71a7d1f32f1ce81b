#include "runtime/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/encoding.h"
#include "tests/support/memory_state.h"

namespace kappa {
namespace {

using ::testing::ElementsAre;

// Pushes values through a pipeline; the i-th input gets offset 100 + i,
// partition 3, timestamp 1000 + i and key "k<i>".
template <class P>
std::vector<Element<typename P::output_type>> run(P& pipeline, std::vector<typename P::input_type> inputs) {
  static const std::array<const char*, 8> kKeys = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"};
  std::vector<Element<typename P::output_type>> outputs;
  auto sink = [&](Element<typename P::output_type>&& e) { outputs.push_back(std::move(e)); };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    RecordMeta meta{kKeys.at(i), static_cast<Timestamp>(1000 + i), 3, static_cast<int64_t>(100 + i)};
    pipeline.push(Element<typename P::input_type>{std::move(inputs[i]), meta}, sink);
  }
  return outputs;
}

template <class T>
std::vector<T> values(const std::vector<Element<T>>& elements) {
  std::vector<T> out;
  for (const auto& e : elements) out.push_back(e.value);
  return out;
}

template <class T>
std::vector<int64_t> offsets(const std::vector<Element<T>>& elements) {
  std::vector<int64_t> out;
  for (const auto& e : elements) out.push_back(e.meta.offset);
  return out;
}

void expect_meta(const RecordMeta& meta, int i) {
  EXPECT_EQ(meta.key, "k" + std::to_string(i));
  EXPECT_EQ(meta.timestamp, 1000 + i);
  EXPECT_EQ(meta.partition, 3);
  EXPECT_EQ(meta.offset, 100 + i);
}

TEST(PipelineTest, EmptyPipelinePassesValuesThrough) {
  auto p = pipeline<int>();
  static_assert(std::is_same_v<decltype(p)::output_type, int>);
  static_assert(decltype(p)::stage_count() == 0);
  auto out = run(p, {1, 2, 3});
  EXPECT_THAT(values(out), ElementsAre(1, 2, 3));
  for (int i = 0; i < 3; ++i) expect_meta(out[i].meta, i);
}

TEST(PipelineTest, MapWithConstReference) {
  auto p = pipeline<int>().map([](const int& x) { return x * 2; });
  EXPECT_THAT(values(run(p, {1, 2, 3})), ElementsAre(2, 4, 6));
}

TEST(PipelineTest, MapChangesTheType) {
  auto p = pipeline<int>().map([](const int& x) { return std::string(static_cast<std::size_t>(x), 'a'); });
  static_assert(std::is_same_v<decltype(p)::output_type, std::string>);
  EXPECT_THAT(values(run(p, {0, 2})), ElementsAre("", "aa"));
}

TEST(PipelineTest, MapWithMeta) {
  auto p = pipeline<std::string>().map([](const std::string& v, const RecordMeta& meta) {
    return v + "@" + std::string(meta.key) + "/" + std::to_string(meta.partition) + ":" + std::to_string(meta.offset) +
           "@" + std::to_string(meta.timestamp);
  });
  EXPECT_THAT(values(run(p, {"a", "b"})), ElementsAre("a@k0/3:100@1000", "b@k1/3:101@1001"));
}

TEST(PipelineTest, MapTakingByValueAndByRvalueMovesTheValue) {
  auto by_value = pipeline<std::string>().map([](std::string s) {
    s += "!";
    return s;
  });
  EXPECT_THAT(values(run(by_value, {"x"})), ElementsAre("x!"));

  auto by_rvalue = pipeline<std::string>().map([](std::string&& s) { return std::move(s); });
  EXPECT_THAT(values(run(by_rvalue, {"moved"})), ElementsAre("moved"));

  // The input is handed over as an rvalue, so a by-value parameter steals it.
  const char* seen_data = nullptr;
  auto steal = pipeline<std::string>().map([&seen_data](std::string&& s) {
    std::string taken = std::move(s);
    seen_data = taken.data();
    return taken;
  });
  std::vector<Element<std::string>> out;
  auto sink = [&](Element<std::string>&& e) { out.push_back(std::move(e)); };
  std::string big(1000, 'z');
  const char* original = big.data();
  steal.push(Element<std::string>{std::move(big), {}}, sink);
  EXPECT_EQ(seen_data, original);  // no copy on the way in
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].value, std::string(1000, 'z'));
}

TEST(PipelineTest, MapWithRvalueAndMeta) {
  auto p = pipeline<std::string>().map(
      [](std::string&& s, const RecordMeta& meta) { return s + std::to_string(meta.offset); });
  EXPECT_THAT(values(run(p, {"o"})), ElementsAre("o100"));
}

int twice(const int& x) { return 2 * x; }

TEST(PipelineTest, MapWithAFunctionPointer) {
  auto p = pipeline<int>().map(&twice).map(twice);
  EXPECT_THAT(values(run(p, {1, 5})), ElementsAre(4, 20));
}

TEST(PipelineTest, MapReturningAReferenceStoresAValue) {
  auto p = pipeline<std::string>().map([](const std::string& s) -> const std::string& { return s; });
  static_assert(std::is_same_v<decltype(p)::output_type, std::string>);
  EXPECT_THAT(values(run(p, {"ref"})), ElementsAre("ref"));
}

TEST(PipelineTest, FilterOnValue) {
  auto p = pipeline<int>().filter([](const int& x) { return x % 2 == 0; });
  static_assert(std::is_same_v<decltype(p)::output_type, int>);
  auto out = run(p, {1, 2, 3, 4});
  EXPECT_THAT(values(out), ElementsAre(2, 4));
  expect_meta(out[0].meta, 1);
  expect_meta(out[1].meta, 3);
}

TEST(PipelineTest, FilterOnValueAndMeta) {
  auto p = pipeline<int>().filter([](const int&, const RecordMeta& meta) { return meta.offset >= 102; });
  EXPECT_THAT(values(run(p, {7, 8, 9, 10})), ElementsAre(9, 10));
}

TEST(PipelineTest, FlatMapReturningAVector) {
  auto p = pipeline<std::string>().flat_map([](const std::string& s) {
    std::vector<char> chars(s.begin(), s.end());
    return chars;
  });
  static_assert(std::is_same_v<decltype(p)::output_type, char>);
  auto out = run(p, {"ab", "", "c"});
  EXPECT_THAT(values(out), ElementsAre('a', 'b', 'c'));
  expect_meta(out[0].meta, 0);
  expect_meta(out[1].meta, 0);
  expect_meta(out[2].meta, 2);
}

TEST(PipelineTest, FlatMapReturningAnArrayWithMeta) {
  auto p = pipeline<int>().flat_map([](int x, const RecordMeta& meta) {
    return std::array<int64_t, 2>{x, meta.offset};
  });
  static_assert(std::is_same_v<decltype(p)::output_type, int64_t>);
  EXPECT_THAT(values(run(p, {5, 6})), ElementsAre(5, 100, 6, 101));
}

TEST(PipelineTest, FlatMapWithACollector) {
  auto p = pipeline<std::string>().flat_map<int>([](const std::string& s, auto& out) {
    for (char c : s) out(c - '0');
  });
  static_assert(std::is_same_v<decltype(p)::output_type, int>);
  auto out = run(p, {"12", "", "3"});
  EXPECT_THAT(values(out), ElementsAre(1, 2, 3));
  EXPECT_THAT(offsets(out), ElementsAre(100, 100, 102));
  expect_meta(out[0].meta, 0);
  expect_meta(out[2].meta, 2);
}

TEST(PipelineTest, ChainOfSeveralStages) {
  auto p = pipeline<std::string>()
               .filter([](const std::string& s) { return !s.empty(); })
               .map([](const std::string& s) { return static_cast<int>(s.size()); })
               .flat_map([](int n) { return std::vector<int>(static_cast<std::size_t>(n), n); })
               .filter([](const int&, const RecordMeta& meta) { return meta.offset != 103; })
               .flat_map<std::string>([](const int& n, auto& out) { out(std::to_string(n)); })
               .map([](std::string s, const RecordMeta& meta) { return s + std::string(meta.key); });
  static_assert(decltype(p)::stage_count() == 6);
  static_assert(std::is_same_v<decltype(p)::input_type, std::string>);
  static_assert(std::is_same_v<decltype(p)::output_type, std::string>);
  auto out = run(p, {"a", "", "bb", "zzz", "c"});
  EXPECT_THAT(values(out), ElementsAre("1k0", "2k2", "2k2", "1k4"));
  EXPECT_THAT(offsets(out), ElementsAre(100, 102, 102, 104));
  expect_meta(out[0].meta, 0);
  expect_meta(out[1].meta, 2);
  expect_meta(out[3].meta, 4);
}

TEST(PipelineTest, OutputTypeOfChains) {
  struct Word {
    std::string text;
  };
  auto p1 = pipeline<int>().map([](int x) { return static_cast<double>(x); });
  static_assert(std::is_same_v<decltype(p1)::output_type, double>);
  auto p2 = p1.filter([](const double& d) { return d > 0; });
  static_assert(std::is_same_v<decltype(p2)::output_type, double>);
  auto p3 = p2.flat_map([](double d) { return std::vector<std::string>{std::to_string(d)}; });
  static_assert(std::is_same_v<decltype(p3)::output_type, std::string>);
  auto p4 = p3.flat_map<Word>([](const std::string& s, auto& out) { out(Word{s}); });
  static_assert(std::is_same_v<decltype(p4)::output_type, Word>);
  auto p5 = p4.map([](const Word& w, const RecordMeta&) { return w.text.size(); });
  static_assert(std::is_same_v<decltype(p5)::output_type, std::size_t>);
  static_assert(std::is_same_v<decltype(p5)::input_type, int>);
  static_assert(decltype(p5)::stage_count() == 5);
  // Building a longer chain leaves the shorter one unchanged.
  static_assert(decltype(p1)::stage_count() == 1);
  EXPECT_THAT(values(run(p5, {-1, 2})), ElementsAre(std::to_string(2.0).size()));
}

TEST(PipelineTest, MetaPreservedThroughEveryStageKind) {
  auto p = pipeline<int>()
               .map([](int x) { return x + 1; })
               .filter([](const int&) { return true; })
               .flat_map([](int x) { return std::vector<int>{x}; })
               .flat_map<int>([](const int& x, auto& out) { out(x); });
  auto out = run(p, {10, 20, 30, 40, 50});
  ASSERT_EQ(out.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(out[i].value, 10 * (i + 1) + 1);
    expect_meta(out[i].meta, i);
  }
}

TEST(PipelineTest, CopiesHoldIndependentState) {
  const auto prototype = pipeline<int>().map([count = 0](int x) mutable { return x * 100 + count++; });
  auto task_a = prototype;
  auto task_b = prototype;
  EXPECT_THAT(values(run(task_a, {1, 1, 1})), ElementsAre(100, 101, 102));
  EXPECT_THAT(values(run(task_b, {2, 2})), ElementsAre(200, 201));
  EXPECT_THAT(values(run(task_a, {3})), ElementsAre(303));
  // The prototype itself was never run.
  auto task_c = prototype;
  EXPECT_THAT(values(run(task_c, {4})), ElementsAre(400));
}

TEST(PipelineTest, CopiesHoldIndependentFilterAndFlatMapState) {
  const auto prototype = pipeline<int>()
                             .filter([seen = 0](const int&) mutable { return ++seen % 2 == 1; })
                             .flat_map<int>([total = 0](const int& x, auto& out) mutable {
                               total += x;
                               out(total);
                             });
  auto a = prototype;
  auto b = prototype;
  EXPECT_THAT(values(run(a, {1, 2, 3, 4, 5})), ElementsAre(1, 4, 9));
  EXPECT_THAT(values(run(b, {10, 20, 30})), ElementsAre(10, 40));
  EXPECT_THAT(values(run(a, {100, 7})), ElementsAre(16));  // a's filter count (6th dropped) and sum (9 + 7) went on
}

TEST(PipelineTest, MoveOnlyValuesFlowThroughMap) {
  auto p = pipeline<std::unique_ptr<int>>()
               .map([](std::unique_ptr<int> p) {
                 *p += 1;
                 return p;
               })
               .filter([](const std::unique_ptr<int>& p) { return *p > 1; })
               .map([](std::unique_ptr<int>&& p) { return *p; });
  std::vector<std::unique_ptr<int>> inputs;
  inputs.push_back(std::make_unique<int>(0));
  inputs.push_back(std::make_unique<int>(5));
  EXPECT_THAT(values(run(p, std::move(inputs))), ElementsAre(6));
}

// A stateful stage for the checkpoint tests: emits each value plus the sum
// of the values before it. Its state is that sum, one entry.
struct RunningSumStage {
  using input_type = int;
  using output_type = int;
  int sum = 0;
  Status fail_restore;     // returned by restore() instead of reading, unless OK
  int* restores = nullptr;  // counts restore() calls

  template <class Emit>
  void process(Element<int>&& e, Emit& emit) {
    const int value = e.value;
    e.value += sum;
    sum += value;
    emit(std::move(e));
  }
  void checkpoint(StateWriter& out) { out.put("sum", std::to_string(sum)); }
  Status restore(StateReader& in) {
    if (restores != nullptr) ++*restores;
    KAPPA_RETURN_IF_ERROR(fail_restore);
    return in.scan([&](std::string_view key, std::string_view value) {
      if (key != "sum") return Status::corruption("unexpected entry");
      sum = std::stoi(std::string(value));
      return Status::ok();
    });
  }
};
struct RunningSum {
  Status fail_restore;
  int* restores = nullptr;
  template <class T>
  RunningSumStage make_stage() const {
    return {0, fail_restore, restores};
  }
};

// Records the watermarks that reach it; no state.
struct WatermarkRecorderStage {
  using input_type = int;
  using output_type = int;
  std::vector<Timestamp>* seen;
  template <class Emit>
  void process(Element<int>&& e, Emit& emit) {
    emit(std::move(e));
  }
  template <class Emit>
  void on_watermark(Timestamp t, Emit&) {
    seen->push_back(t);
  }
};
struct WatermarkRecorder {
  std::vector<Timestamp>* seen;
  template <class T>
  WatermarkRecorderStage make_stage() const {
    return {seen};
  }
};

std::vector<int> push_all(auto& pipeline, const std::vector<int>& inputs) {
  std::vector<int> out;
  auto sink = [&](Element<int>&& e) { out.push_back(e.value); };
  for (int x : inputs) pipeline.push(Element<int>{x, {}}, sink);
  return out;
}

TEST(PipelineTest, CheckpointAndRestoreReachEveryStatefulStageByItsPosition) {
  std::vector<Timestamp> watermarks;
  const auto prototype = pipeline<int>()
                             .map([](int x) { return x; })
                             .event_time([](const int& x) { return Timestamp{x}; }, std::chrono::milliseconds(5))
                             .then(RunningSum{})
                             .filter([](const int&) { return true; })
                             .then(WatermarkRecorder{&watermarks});
  auto running = prototype;
  EXPECT_THAT(push_all(running, {10, 20, 30}), ElementsAre(10, 30, 60));
  testing::MemoryState state;
  running.checkpoint(state);
  std::vector<std::size_t> stateful;
  for (const auto& [index, stage] : state.stages()) stateful.push_back(index);
  EXPECT_THAT(stateful, ElementsAre(1, 2));  // event_time and the running sum
  EXPECT_EQ(state.stage(2).entries.at("sum"), "60");

  auto restored = prototype;
  ASSERT_TRUE(restored.restore(state).is_ok());
  watermarks.clear();
  // 26 - 5 is behind the restored watermark, 25: only 40 moves it.
  EXPECT_THAT(push_all(restored, {26, 40}), ElementsAre(86, 126));
  const std::vector<Timestamp> after_restore = watermarks;
  watermarks.clear();
  EXPECT_THAT(push_all(running, {26, 40}), ElementsAre(86, 126));
  EXPECT_EQ(after_restore, watermarks);
  EXPECT_THAT(watermarks, ElementsAre(35));
}

TEST(PipelineTest, RestoreStopsAtTheFirstStageThatFails) {
  int first = 0;
  int second = 0;
  auto p = pipeline<int>()
               .then(RunningSum{Status::corruption("first"), &first})
               .then(RunningSum{Status::corruption("second"), &second});
  testing::MemoryState state;
  const Status status = p.restore(state);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_EQ(status.message(), "first");
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0);

  auto q = pipeline<int>().then(RunningSum{Status::ok(), &first}).then(RunningSum{Status::corruption("second"), &second});
  EXPECT_EQ(q.restore(state).message(), "second");
  EXPECT_EQ(second, 1);
}

TEST(PipelineTest, EventTimeStateIsOneWatermarkEntryAndAnythingElseIsRejected) {
  auto p = pipeline<int>().event_time([](const int& x) { return Timestamp{x}; }, std::chrono::milliseconds(5));
  push_all(p, {100, 90});
  testing::MemoryState state;
  p.checkpoint(state);
  const auto& entries = state.stage(0).entries;
  ASSERT_EQ(entries.size(), 1u);
  std::string_view value = entries.begin()->second;
  Timestamp watermark = 0;
  ASSERT_TRUE(encoding::get_i64(value, watermark));
  EXPECT_EQ(watermark, 95);

  const auto fresh = pipeline<int>().event_time([](const int& x) { return Timestamp{x}; }, std::chrono::milliseconds(5));
  auto restore_with = [&](auto spoil) {
    testing::MemoryState copy = state;
    spoil(copy.stage(0).entries);
    auto q = fresh;
    return q.restore(copy).code();
  };
  EXPECT_EQ(restore_with([](auto&) {}), StatusCode::kOk);
  EXPECT_EQ(restore_with([](auto& m) { m.begin()->second.pop_back(); }), StatusCode::kCorruption);
  EXPECT_EQ(restore_with([](auto& m) { m.begin()->second += "x"; }), StatusCode::kCorruption);
  EXPECT_EQ(restore_with([](auto& m) { m["other"] = "x"; }), StatusCode::kCorruption);
}

}  // namespace
}  // namespace kappa
