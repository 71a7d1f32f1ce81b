#include "runtime/task.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "connectors/codec/bytes_codec.h"
#include "runtime/pipeline.h"

namespace kappa {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Decimal text <-> int; anything else fails to decode.
struct DecimalCodec {
  Status decode(std::string_view bytes, int& value) const {
    value = -999;  // what a half-done decode could leave behind
    auto [end, ec] = std::from_chars(bytes.data(), bytes.data() + bytes.size(), value);
    if (ec != std::errc() || end != bytes.data() + bytes.size() || bytes.empty()) {
      return Status::corruption("'" + std::string(bytes) + "' is not a number");
    }
    return Status::ok();
  }
  void encode(const int& value, std::string& out) const { out += std::to_string(value); }
};
static_assert(Codec<DecimalCodec, int>);
static_assert(Codec<BytesCodec, std::string>);

// Builds records over strings kept alive by the fixture.
class Records {
 public:
  Records& add(std::string key, std::string value, Timestamp timestamp, int64_t offset) {
    keys_.push_back(std::move(key));
    values_.push_back(std::move(value));
    timestamps_.push_back(timestamp);
    offsets_.push_back(offset);
    return *this;
  }
  std::vector<Record> build(int32_t partition = 2) const {
    std::vector<Record> records;
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      Record r;
      r.key = keys_[i];
      r.value = values_[i];
      r.timestamp = timestamps_[i];
      r.partition = partition;
      r.offset = offsets_[i];
      records.push_back(r);
    }
    return records;
  }

 private:
  std::vector<std::string> keys_, values_;
  std::vector<Timestamp> timestamps_;
  std::vector<int64_t> offsets_;
};

struct Output {
  std::string key;
  std::string value;
  Timestamp timestamp;
  friend bool operator==(const Output&, const Output&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Output& o) {
    return os << "{" << o.key << ", " << o.value << ", " << o.timestamp << "}";
  }
};

std::vector<Output> outputs(const OutputBatch& batch) {
  std::vector<Output> out;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    out.push_back({std::string(batch.key(i)), std::string(batch.value(i)), batch.timestamp(i)});
  }
  return out;
}

const PartitionId kPartition{"payments", 2};

template <class P, class InCodec, class OutCodec>
auto make_task(ErrorPolicy policy, P pipeline, InCodec in, OutCodec out) {
  return PipelineTask<P, InCodec, OutCodec>(kPartition, policy, std::move(pipeline), std::move(in), std::move(out));
}

TEST(PipelineTaskTest, BytesCodecKeepsKeyAndTimestamp) {
  auto task = make_task(ErrorPolicy::kFail, pipeline<std::string>().map([](std::string&& s) { return s + "!"; }),
                        BytesCodec{}, BytesCodec{});
  Records records;
  records.add("k1", "a", 10, 0).add("", "b", 20, 1).add("k3", std::string("\0\xff", 2), -5, 2);
  TaskOutput out;
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  EXPECT_THAT(outputs(out.results),
              ElementsAre(Output{"k1", "a!", 10}, Output{"", "b!", 20}, Output{"k3", std::string("\0\xff!", 3), -5}));
  EXPECT_EQ(task.partition(), kPartition);
  EXPECT_EQ(task.counters().records_in.load(), 3u);
  EXPECT_EQ(task.counters().records_out.load(), 3u);
  EXPECT_EQ(task.counters().records_skipped.load(), 0u);
}

TEST(PipelineTaskTest, TheWatermarkReachesTheCounters) {
  using namespace std::chrono_literals;
  auto task = make_task(ErrorPolicy::kFail, pipeline<int>().event_time(5ms), DecimalCodec{}, DecimalCodec{});
  EXPECT_EQ(task.counters().watermark.load(), kMinTimestamp) << "no event time yet";
  Records records;
  records.add("a", "1", 100, 0).add("b", "2", 130, 1).add("c", "3", 120, 2);
  TaskOutput out;
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  EXPECT_EQ(task.counters().watermark.load(), 125) << "the largest event time seen, less the out-of-orderness";
  ASSERT_TRUE(task.finish(out).is_ok());
  EXPECT_EQ(task.counters().watermark.load(), kMaxTimestamp) << "a bounded input ended: event time is over";
}

TEST(PipelineTaskTest, APipelineWithoutEventTimeHasNoWatermark) {
  auto task = make_task(ErrorPolicy::kFail, pipeline<int>(), DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("a", "1", 100, 0);
  TaskOutput out;
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  EXPECT_EQ(task.counters().watermark.load(), kMinTimestamp);
}

TEST(PipelineTaskTest, CustomCodecAndCountersAcrossBatches) {
  auto task =
      make_task(ErrorPolicy::kFail, pipeline<int>().filter([](const int& x) { return x >= 0; }).flat_map([](int x) {
        return std::vector<int>{x, x * 10};
      }),
                DecimalCodec{}, DecimalCodec{});
  Records first;
  first.add("a", "1", 100, 7).add("b", "-4", 200, 8).add("c", "3", 300, 9);
  TaskOutput out;
  ASSERT_TRUE(task.process(first.build(), out).is_ok());
  EXPECT_THAT(outputs(out.results), ElementsAre(Output{"a", "1", 100}, Output{"a", "10", 100}, Output{"c", "3", 300},
                                                Output{"c", "30", 300}));
  EXPECT_EQ(task.counters().records_in.load(), 3u);
  EXPECT_EQ(task.counters().records_out.load(), 4u);

  // The caller clears the batch; counters only count what this call added.
  Records second;
  second.add("d", "5", 400, 10);
  out.clear();
  ASSERT_TRUE(task.process(second.build(), out).is_ok());
  EXPECT_THAT(outputs(out.results), ElementsAre(Output{"d", "5", 400}, Output{"d", "50", 400}));
  EXPECT_EQ(task.counters().records_in.load(), 4u);
  EXPECT_EQ(task.counters().records_out.load(), 6u);

  // Appending without clearing: records_out counts only the new results.
  ASSERT_TRUE(task.process(second.build(), out).is_ok());
  EXPECT_EQ(out.results.size(), 4u);
  EXPECT_EQ(task.counters().records_out.load(), 8u);
}

TEST(PipelineTaskTest, EmptyBatch) {
  auto task = make_task(ErrorPolicy::kFail, pipeline<std::string>(), BytesCodec{}, BytesCodec{});
  TaskOutput out;
  ASSERT_TRUE(task.process({}, out).is_ok());
  EXPECT_TRUE(out.results.empty());
  EXPECT_EQ(task.counters().records_in.load(), 0u);
}

TEST(PipelineTaskTest, MetaReachesTheUserFunction) {
  auto task = make_task(ErrorPolicy::kFail, pipeline<int>().map([](int x, const RecordMeta& meta) {
    return x + static_cast<int>(meta.offset) * 1000 + meta.partition * 100;
  }),
                        DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("k", "5", 1, 3);
  TaskOutput out;
  ASSERT_TRUE(task.process(records.build(/*partition=*/2), out).is_ok());
  EXPECT_THAT(outputs(out.results), ElementsAre(Output{"k", "3205", 1}));
}

TEST(PipelineTaskTest, DecodeFailureUnderFailNamesPartitionAndOffset) {
  auto task = make_task(ErrorPolicy::kFail, pipeline<int>(), DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("a", "1", 0, 40).add("b", "oops", 0, 41).add("c", "3", 0, 42);
  TaskOutput out;
  Status status = task.process(records.build(), out);
  ASSERT_EQ(status.code(), StatusCode::kCorruption) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("payments/2"));
  EXPECT_THAT(status.message(), HasSubstr("offset 41"));
  EXPECT_THAT(status.message(), HasSubstr("'oops' is not a number"));
  EXPECT_THAT(status.message(), HasSubstr("--on-error skip"));
  EXPECT_THAT(status.message(), HasSubstr("--on-error dlq"));
  EXPECT_THAT(status.message(), Not(HasSubstr("\n")));
  EXPECT_EQ(task.counters().records_skipped.load(), 0u);
}

TEST(PipelineTaskTest, DecodeFailureUnderSkipIsCountedAndTheRestProcessed) {
  auto task =
      make_task(ErrorPolicy::kSkip, pipeline<int>().map([](int x) { return x * 2; }), DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("a", "1", 1, 40).add("b", "oops", 2, 41).add("c", "", 3, 42).add("d", "4", 4, 43);
  TaskOutput out;
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  EXPECT_THAT(outputs(out.results), ElementsAre(Output{"a", "2", 1}, Output{"d", "8", 4}));
  EXPECT_EQ(task.counters().records_skipped.load(), 2u);
  EXPECT_EQ(task.counters().records_in.load(), 4u);
  EXPECT_EQ(task.counters().records_out.load(), 2u);
}

TEST(PipelineTaskTest, ThrowingUserFunctionUnderFail) {
  auto task = make_task(ErrorPolicy::kFail, pipeline<int>().map([](int x) {
    if (x == 13) throw std::runtime_error("unlucky number");
    return x;
  }),
                        DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("a", "1", 0, 5).add("b", "13", 0, 6).add("c", "2", 0, 7);
  TaskOutput out;
  Status status = task.process(records.build(), out);
  ASSERT_EQ(status.code(), StatusCode::kCorruption) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("payments/2"));
  EXPECT_THAT(status.message(), HasSubstr("offset 6"));
  EXPECT_THAT(status.message(), HasSubstr("throw"));
  EXPECT_THAT(status.message(), HasSubstr("unlucky number"));
  EXPECT_THAT(status.message(), Not(HasSubstr("\n")));
}

TEST(PipelineTaskTest, ThrowingUserFunctionUnderSkip) {
  auto task = make_task(ErrorPolicy::kSkip, pipeline<int>().filter([](const int& x) {
    if (x == 13) throw std::runtime_error("unlucky number");
    if (x == 14) throw 14;  // not a std::exception
    return true;
  }),
                        DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("a", "1", 0, 5).add("b", "13", 0, 6).add("c", "14", 0, 7).add("d", "2", 0, 8);
  TaskOutput out;
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  EXPECT_THAT(outputs(out.results), ElementsAre(Output{"a", "1", 0}, Output{"d", "2", 0}));
  EXPECT_EQ(task.counters().records_skipped.load(), 2u);
  EXPECT_EQ(task.counters().records_in.load(), 4u);
  EXPECT_EQ(task.counters().records_out.load(), 2u);
}

// Regression: a flat_map that emitted results and then threw left those
// results in the output although the record counted as skipped.
TEST(PipelineTaskTest, SkippedRecordLeavesNoPartialOutput) {
  auto task = make_task(ErrorPolicy::kSkip, pipeline<int>().flat_map<int>([](const int& x, auto& out) {
    out(x);
    out(x + 100);
    if (x == 13) throw std::runtime_error("failed after emitting");
  }),
                        DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("a", "1", 0, 5).add("b", "13", 0, 6).add("c", "2", 0, 7);
  TaskOutput out;
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  EXPECT_THAT(outputs(out.results),
              ElementsAre(Output{"a", "1", 0}, Output{"a", "101", 0}, Output{"c", "2", 0}, Output{"c", "102", 0}));
  EXPECT_EQ(task.counters().records_skipped.load(), 1u);
  EXPECT_EQ(task.counters().records_out.load(), 4u);
}

TEST(PipelineTaskTest, SideOutputsGetTheirOwnValuesAndASkippedRecordLeavesNone) {
  auto task = make_task(ErrorPolicy::kSkip,
                        pipeline<int>()
                            .side_output(
                                1, [](const int& x) { return x * 10; }, DecimalCodec{})
                            .map([](int x) {
                              if (x == 13) throw std::runtime_error("after the side output");
                              return x + 1;
                            }),
                        DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("a", "1", 7, 5).add("b", "13", 8, 6).add("c", "2", 9, 7);
  TaskOutput out;
  out.side.resize(2);  // the job runs with side outputs 0 and 1
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  EXPECT_THAT(outputs(out.results), ElementsAre(Output{"a", "2", 7}, Output{"c", "3", 9}));
  EXPECT_THAT(outputs(out.side[1]), ElementsAre(Output{"a", "10", 7}, Output{"c", "20", 9}));
  EXPECT_TRUE(out.side[0].empty());
  EXPECT_EQ(task.counters().records_out.load(), 2u);
}

TEST(PipelineTaskTest, SideOutputTheJobRunsWithoutIsNotWritten) {
  int calls = 0;
  auto task = make_task(ErrorPolicy::kFail,
                        pipeline<int>().side_output(
                            0,
                            [&calls](const int& x) {
                              ++calls;
                              return x;
                            },
                            DecimalCodec{}),
                        DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("a", "1", 7, 5);
  TaskOutput out;  // no side outputs
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  EXPECT_THAT(outputs(out.results), ElementsAre(Output{"a", "1", 7}));
  EXPECT_EQ(calls, 0);
}

TEST(PipelineTaskTest, NonStandardExceptionUnderFail) {
  auto task =
      make_task(ErrorPolicy::kFail, pipeline<int>().map([](int x) -> int { throw x; }), DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("a", "1", 0, 99);
  TaskOutput out;
  Status status = task.process(records.build(), out);
  ASSERT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_THAT(status.message(), HasSubstr("offset 99"));
  EXPECT_THAT(status.message(), HasSubstr("non-standard exception"));
}

TEST(PipelineTaskTest, SkippedRecordDoesNotLeakIntoTheNextOne) {
  // The task reuses one decoded value; a failed decode must not be pushed and
  // the next record must see only its own value.
  std::vector<int> seen;
  auto task = make_task(ErrorPolicy::kSkip, pipeline<int>().map([&seen](int x) {
    seen.push_back(x);
    return x;
  }),
                        DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("a", "x", 0, 0).add("b", "7", 0, 1).add("c", "12abc", 0, 2).add("d", "8", 0, 3);
  TaskOutput out;
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  EXPECT_THAT(seen, ElementsAre(7, 8));
}

TEST(PipelineTaskTest, ManySkipsAreAllCounted) {
  // Logging of skips is rate-limited; counting must not be.
  auto task = make_task(ErrorPolicy::kSkip, pipeline<int>(), DecimalCodec{}, DecimalCodec{});
  Records records;
  for (int i = 0; i < 500; ++i) records.add("k", i % 5 == 0 ? "5" : "bad", 0, i);
  TaskOutput out;
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  EXPECT_EQ(out.results.size(), 100u);
  EXPECT_EQ(task.counters().records_skipped.load(), 400u);
  EXPECT_EQ(task.counters().records_in.load(), 500u);
  EXPECT_EQ(task.counters().records_out.load(), 100u);
}

// A dead letter as a sink sees it; nullopt for a null key or value.
struct DeadLetter {
  std::optional<std::string> key;
  std::optional<std::string> value;
  Timestamp timestamp = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  friend bool operator==(const DeadLetter&, const DeadLetter&) = default;
  friend std::ostream& operator<<(std::ostream& os, const DeadLetter& d) {
    os << "{" << d.key.value_or("<null>") << ", " << d.value.value_or("<null>") << ", " << d.timestamp << ",";
    for (const auto& [k, v] : d.headers) os << " " << k << "=" << v;
    return os << "}";
  }
};

std::vector<DeadLetter> dead_letters(const OutputBatch& batch) {
  const auto nullable = [](std::string_view s) {
    return s.data() == nullptr ? std::nullopt : std::optional<std::string>(s);
  };
  std::vector<DeadLetter> out;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    DeadLetter d{nullable(batch.nullable_key(i)), nullable(batch.nullable_value(i)), batch.timestamp(i), {}};
    batch.for_each_header(i, [&](const Header& h) { d.headers.emplace_back(h.key, h.value); });
    out.push_back(std::move(d));
  }
  return out;
}

// The headers a dead letter of kPartition gets after the record's own.
std::vector<std::pair<std::string, std::string>> kappa_headers(int64_t offset, std::string kind, std::string message) {
  return {{"kappa.source.topic", "payments"},
          {"kappa.source.partition", "2"},
          {"kappa.source.offset", std::to_string(offset)},
          {"kappa.error.kind", std::move(kind)},
          {"kappa.error.message", std::move(message)}};
}

// Headers as a connector hands them over: read through a getter.
bool header_at(const void* native, std::size_t index, Header& out) {
  const auto& headers = *static_cast<const std::vector<Header>*>(native);
  if (index >= headers.size()) return false;
  out = headers[index];
  return true;
}

TEST(PipelineTaskTest, DecodeFailureUnderDeadLetterKeepsTheRecordAsItCameWithWhereAndWhy) {
  auto task = make_task(ErrorPolicy::kDeadLetter, pipeline<int>().map([](int x) { return x * 2; }), DecimalCodec{},
                        DecimalCodec{});
  const std::vector<Header> own_headers{{"trace", "t-1"}, {"kappa.error.kind", "from an earlier queue"}};
  const std::string binary("\0\xff", 2);
  std::vector<Record> records(6);
  records[0] = Record{"a", "1", 10, 2, 40, {}};
  records[1] = Record{"b", "oops", 20, 2, 41, Headers(&own_headers, &header_at)};
  records[2] = Record{std::string_view{}, std::string_view{}, 30, 2, 42, {}};  // Kafka's null key and value
  records[3] = Record{"", "", 40, 2, 43, {}};                                  // empty, not null
  records[4] = Record{binary, binary, -5, 2, 44, {}};
  records[5] = Record{"d", "4", 50, 2, 45, {}};
  TaskOutput out;
  ASSERT_TRUE(task.process(records, out).is_ok());

  EXPECT_THAT(outputs(out.results), ElementsAre(Output{"a", "2", 10}, Output{"d", "8", 50}));
  auto with_own =
      std::vector<std::pair<std::string, std::string>>{{"trace", "t-1"}, {"kappa.error.kind", "from an earlier queue"}};
  for (auto& h : kappa_headers(41, "decode", "'oops' is not a number")) with_own.push_back(h);
  EXPECT_THAT(
      dead_letters(out.dead_letters),
      ElementsAre(DeadLetter{"b", "oops", 20, with_own},
                  DeadLetter{std::nullopt, std::nullopt, 30, kappa_headers(42, "decode", "'' is not a number")},
                  DeadLetter{"", "", 40, kappa_headers(43, "decode", "'' is not a number")},
                  DeadLetter{binary, binary, -5, kappa_headers(44, "decode", "'" + binary + "' is not a number")}));
  EXPECT_EQ(task.counters().records_in.load(), 6u);
  EXPECT_EQ(task.counters().records_out.load(), 2u);
  EXPECT_EQ(task.counters().records_dead_lettered.load(), 4u);
  EXPECT_EQ(task.counters().records_skipped.load(), 0u);
}

TEST(PipelineTaskTest, ThrowingUserCodeUnderDeadLetterTakesBackWhatTheRecordEmitted) {
  auto task = make_task(ErrorPolicy::kDeadLetter,
                        pipeline<int>()
                            .side_output(
                                0, [](const int& x) { return x * 10; }, DecimalCodec{})
                            .flat_map<int>([](const int& x, auto& emit) {
                              emit(x);
                              emit(x + 100);
                              if (x == 13) throw std::runtime_error("failed after emitting");
                              if (x == 14) throw 14;  // not a std::exception
                            }),
                        DecimalCodec{}, DecimalCodec{});
  Records records;
  records.add("a", "1", 1, 5)
      .add("x", "not a number", 2, 6)
      .add("b", "13", 3, 7)
      .add("c", "14", 4, 8)
      .add("d", "2", 5, 9);
  TaskOutput out;
  out.side.resize(1);
  ASSERT_TRUE(task.process(records.build(), out).is_ok());

  EXPECT_THAT(outputs(out.results),
              ElementsAre(Output{"a", "1", 1}, Output{"a", "101", 1}, Output{"d", "2", 5}, Output{"d", "102", 5}));
  EXPECT_THAT(outputs(out.side[0]), ElementsAre(Output{"a", "10", 1}, Output{"d", "20", 5}));
  EXPECT_THAT(
      dead_letters(out.dead_letters),
      ElementsAre(DeadLetter{"x", "not a number", 2, kappa_headers(6, "decode", "'not a number' is not a number")},
                  DeadLetter{"b", "13", 3, kappa_headers(7, "user-code", "failed after emitting")},
                  DeadLetter{"c", "14", 4, kappa_headers(8, "user-code", "a non-standard exception")}));
  EXPECT_EQ(task.counters().records_in.load(), 5u);
  EXPECT_EQ(task.counters().records_out.load(), 4u);
  EXPECT_EQ(task.counters().records_dead_lettered.load(), 3u);
  EXPECT_EQ(task.counters().records_skipped.load(), 0u);
}

TEST(PipelineTaskTest, FailAndSkipWriteNoDeadLetters) {
  for (ErrorPolicy policy : {ErrorPolicy::kFail, ErrorPolicy::kSkip}) {
    auto task = make_task(policy, pipeline<int>(), DecimalCodec{}, DecimalCodec{});
    Records records;
    records.add("a", "bad", 0, 1);
    TaskOutput out;
    (void)task.process(records.build(), out);
    EXPECT_TRUE(out.dead_letters.empty());
    EXPECT_EQ(task.counters().records_dead_lettered.load(), 0u);
  }
}

TEST(PipelineTaskTest, MoveOnlyByValueMapDoesNotBreakTheReusedValue) {
  // map takes the decoded string by value (moving it out); the next decode
  // must still produce a complete value.
  auto task = make_task(ErrorPolicy::kFail, pipeline<std::string>().map([](std::string s) { return s; }), BytesCodec{},
                        BytesCodec{});
  Records records;
  records.add("", std::string(100, 'a'), 0, 0).add("", "b", 0, 1).add("", std::string(50, 'c'), 0, 2);
  TaskOutput out;
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  EXPECT_THAT(outputs(out.results), ElementsAre(Output{"", std::string(100, 'a'), 0}, Output{"", "b", 0},
                                                Output{"", std::string(50, 'c'), 0}));
}

// Collects what TaskOutput::flush hands to the sinks, as the runner's would.
struct FlushedOutput {
  std::vector<int> results;
  std::vector<std::size_t> sizes;  // of each flush, in bytes
  Status answer = Status::ok();    // what flush() returns

  void attach(TaskOutput& out) {
    out.flush = [this, &out] {
      sizes.push_back(out.results.memory_bytes());
      for (std::size_t i = 0; i < out.results.size(); ++i)
        results.push_back(std::stoi(std::string(out.results.value(i))));
      return answer;
    };
  }
};

// One record emitting this many results (as a watermark firing many windows
// does) makes about 3 times TaskOutput::kFlushBytes of output.
constexpr int kManyResults = 3 * static_cast<int>(TaskOutput::kFlushBytes) / 48;

auto fan_out_task(ErrorPolicy policy) {
  return make_task(policy, pipeline<int>().flat_map<int>([](const int& n, auto& out) {
    for (int i = 0; i < n; ++i) out(i);
    if (n == kManyResults + 1) throw std::runtime_error("failed after emitting");
  }),
                   DecimalCodec{}, DecimalCodec{});
}

TEST(PipelineTaskTest, ALargeOutputGoesToTheSinksWhileItGrows) {
  auto task = fan_out_task(ErrorPolicy::kFail);
  TaskOutput out;
  FlushedOutput flushed;
  flushed.attach(out);
  Records records;
  records.add("a", "2", 0, 0).add("b", std::to_string(kManyResults), 0, 1).add("c", "1", 0, 2);
  ASSERT_TRUE(task.process(records.build(), out).is_ok());

  ASSERT_GE(flushed.sizes.size(), 2u);
  for (std::size_t size : flushed.sizes) EXPECT_GE(size, TaskOutput::kFlushBytes);
  EXPECT_LT(out.results.memory_bytes(), TaskOutput::kFlushBytes) << "the rest waits for the end of the batch";
  std::vector<int> all = flushed.results;
  for (std::size_t i = 0; i < out.results.size(); ++i) all.push_back(std::stoi(std::string(out.results.value(i))));
  std::vector<int> expected = {0, 1};
  for (int i = 0; i < kManyResults; ++i) expected.push_back(i);
  expected.push_back(0);
  EXPECT_EQ(all, expected) << "every result once, in order";
  EXPECT_EQ(task.counters().records_out.load(), expected.size());
}

TEST(PipelineTaskTest, ARecordThatThrowsAfterAFlushTakesBackOnlyWhatFollowedIt) {
  auto task = fan_out_task(ErrorPolicy::kSkip);
  TaskOutput out;
  FlushedOutput flushed;
  flushed.attach(out);
  Records records;
  records.add("a", std::to_string(kManyResults + 1), 0, 0).add("b", "1", 0, 1);
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  ASSERT_FALSE(flushed.results.empty());
  EXPECT_EQ(flushed.results.back(), static_cast<int>(flushed.results.size()) - 1) << "what reached the sinks stays";
  EXPECT_THAT(outputs(out.results), ElementsAre(Output{"b", "0", 0})) << "what followed the flush was taken back";
  EXPECT_EQ(task.counters().records_skipped.load(), 1u);
  EXPECT_EQ(task.counters().records_out.load(), flushed.results.size() + 1);
}

TEST(PipelineTaskTest, AFailedFlushStopsTheBatch) {
  auto task = fan_out_task(ErrorPolicy::kFail);
  TaskOutput out;
  FlushedOutput flushed;
  flushed.answer = Status::unavailable("the broker is gone");
  flushed.attach(out);
  Records records;
  records.add("a", std::to_string(kManyResults), 0, 0).add("b", "1", 0, 1);
  Status processed = task.process(records.build(), out);
  EXPECT_EQ(processed.message(), "the broker is gone");
  EXPECT_EQ(flushed.sizes.size(), 1u) << "nothing more is flushed after an error";
  EXPECT_THAT(outputs(out.results), Not(::testing::Contains(Output{"b", "0", 0}))) << "the next record never ran";
}

// At the end of the input every window fires at once: finish() flushes too.
struct FireAtTheEndStage {
  using input_type = int;
  using output_type = int;
  int pending = 0;
  template <class Emit>
  void process(Element<int>&& e, Emit&) {
    pending += e.value;
  }
  template <class Emit>
  void on_watermark(Timestamp t, Emit& emit) {
    if (t != kMaxTimestamp) return;
    for (int i = 0; i < pending; ++i) emit(Element<int>{i, {}});
  }
};
struct FireAtTheEnd {
  template <class T>
  FireAtTheEndStage make_stage() const {
    return {};
  }
};

TEST(PipelineTaskTest, TheFireAtTheEndOfTheInputGoesToTheSinksWhileItGrows) {
  auto task = make_task(ErrorPolicy::kFail, pipeline<int>().then(FireAtTheEnd{}), DecimalCodec{}, DecimalCodec{});
  TaskOutput out;
  FlushedOutput flushed;
  flushed.attach(out);
  Records records;
  records.add("a", std::to_string(kManyResults), 0, 0);
  ASSERT_TRUE(task.process(records.build(), out).is_ok());
  out.clear();
  ASSERT_TRUE(task.finish(out).is_ok());
  ASSERT_GE(flushed.sizes.size(), 2u);
  EXPECT_EQ(flushed.results.size() + out.results.size(), static_cast<std::size_t>(kManyResults));
  EXPECT_EQ(task.counters().records_out.load(), static_cast<uint64_t>(kManyResults));
}

}  // namespace
}  // namespace kappa
