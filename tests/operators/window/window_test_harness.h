// What the window reference tests share: the operator under test (every
// built-in aggregate in one pass), running it directly and through a
// PipelineTask, and comparing its emissions with the reference's.
#pragma once

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

namespace kappa::window_testing {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

// ---------------------------------------------------------------------------
// The operator under test: every built-in aggregate in one pass.

inline auto all_aggregates() {
  auto amount = [](const RefEvent& e) { return e.amount; };
  return agg::aggregates(agg::count(), agg::sum(amount), agg::min(amount), agg::max(amount), agg::mean(amount),
                         agg::variance(amount), agg::stddev(amount), agg::first(amount), agg::last(amount),
                         agg::distinct([](const RefEvent& e) { return e.item; }));
}
using AllAggregates = decltype(all_aggregates());
using Result = WindowResult<std::string, AllAggregates::result_type>;

inline auto key_of = [](const RefEvent& e) -> const std::string& { return e.key; };

// Late elements, counted by partition through the spec's on_late hook.
using LateByPartition = std::shared_ptr<std::map<int32_t, int64_t>>;

inline auto window_stage(const RefWindowSpec& s, LateByPartition late = nullptr) {
  auto spec = key_by(key_of).window(SliceAssigner(s.size, s.slide, s.offset));
  spec.allowed_lateness(ms(s.allowed_lateness)).emit(s.emit);
  if (late) spec.on_late([late](const RecordMeta& meta) { ++(*late)[meta.partition]; });
  return spec.aggregate(all_aggregates());
}

inline RefAggregates to_ref(const AllAggregates::result_type& r) {
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
inline std::string output_bytes(std::string_view key, Timestamp timestamp, std::string_view value) {
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

inline auto direct_pipeline(const RefWindowSpec& s, LateByPartition late = nullptr) {
  return pipeline<RefEvent>()
      .event_time([](const RefEvent& e) { return e.time; }, ms(s.out_of_orderness))
      .then(window_stage(s, std::move(late)));
}

inline DirectRun run_direct(const RefWindowSpec& s, const std::vector<RefEvent>& events) {
  return run_pipeline(direct_pipeline(s), events);
}

// Input records for a task, over bytes they own.
struct Records {
  std::vector<std::string> values;
  std::vector<Record> records;
};

inline Records to_records(const std::vector<RefEvent>& events, int32_t partition) {
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
inline TaskRun run_task(const RefWindowSpec& s, const std::vector<Record>& records, const std::vector<std::size_t>& batches,
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

inline std::string describe(const std::string& key, Timestamp start, Timestamp end, bool is_final, const RefAggregates& v) {
  return key + " [" + std::to_string(start) + "," + std::to_string(end) + ") n=" + std::to_string(v.count) +
         " sum=" + std::to_string(v.sum) + (is_final ? " final" : " update");
}

// Every difference between the reference's emissions and the operator's:
// as multisets (sorted by key, window, count, is_final; within one window
// that identifies an emission), with aggregate values compared by
// aggregate_diff; and, per (key, window), the order of the emissions.
inline std::vector<std::string> compare(const std::vector<RefEmission>& want, const std::vector<Row>& got) {
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

inline void expect_no_differences(const std::vector<std::string>& diffs, const std::string& context) {
  if (diffs.empty()) return;
  std::string shown;
  for (std::size_t i = 0; i < diffs.size() && i < 15; ++i) shown += "\n  " + diffs[i];
  ADD_FAILURE() << context << ": " << diffs.size() << " differences from the reference:" << shown;
}


}  // namespace kappa::window_testing
