// Poison records: 200,000 records of which 1% are bad go through a real job
// executable with --on-error dlq, on the embedded broker and on the real
// Kafka of the ctest fixture. The job must not crash (exit 0 after SIGTERM),
// must write every bad record to the dead-letter topic once, as it came
// (key, value, null or empty, timestamp), with headers naming its topic,
// partition, offset and error kind, and must process every good record.
//
// window_agg reads JSON: invalid JSON, truncated Protobuf, fields of the
// wrong type, a missing key field, null and empty values, a 2 MB value and
// event times it refuses (beyond ±2^53 ms) are bad. Absurd event times it
// takes (year 1, year 9999) are good records to it and are aggregated.
// enrich reads Protobuf: truncated Protobuf, a string field that is not
// UTF-8, JSON text and 2 MB that are not Protobuf are bad. A null value is
// an empty Transaction to it, a field of the wrong wire type is an unknown
// field, and absurd event times and record timestamps are just numbers:
// those are good records, enriched like any other.
//
// On real Kafka, window_agg also runs with --exactly-once: its dead letters
// commit with their checkpoints.
//
// Each record goes to a partition the test chooses, so its offset is known
// (a fresh topic numbers each partition's records from 0 in the order they
// were produced).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "jobs/proto/transaction.pb.h"
#include "tests/integration/window_agg_runs.h"
#include "tests/support/temp_dir.h"

namespace kappa::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr int kRecords = 200'000;
constexpr int kBadEvery = 100;  // record i is bad when i % kBadEvery == kBadAt: 1%
constexpr int kBadAt = 37;
constexpr int kPartitions = 8;
constexpr int kCards = 500;
constexpr int64_t kBaseTime = 1'763'700'000'000;
constexpr std::size_t kLargeValueBytes = 2 * 1024 * 1024;
constexpr int kLargeBadIndex = 1000;  // the 1000th bad record is the 2 MB one
// Records up to 4 MiB: the 2 MB value, and its dead letter with headers.
constexpr const char* kMaxMessageBytes = "4194304";
constexpr int64_t kYearOne = -62'135'596'800'000;   // 0001-01-01T00:00:00Z
constexpr int64_t kYear9999 = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

// One input record, where it lands and what the job must make of it.
struct InputRecord {
  ProducedRecord record;
  int64_t offset = 0;
  std::string bad_kind;     // kappa.error.kind of a bad record; empty for a good one
  std::string message_has;  // a bad record's kappa.error.message contains this
};

std::string card_name(int card) { return "card-" + std::to_string(card); }

// Numbers each partition's records from 0 in the order given.
void assign_offsets(std::vector<InputRecord>& input) {
  std::map<int32_t, int64_t> next;
  for (InputRecord& in : input) in.offset = next[in.record.partition]++;
}

bool is_bad(int i) { return i % kBadEvery == kBadAt; }

// window_agg's input: {"card":..., "ts":..., "amount":...} keyed by card, a
// card's records in one partition.
std::vector<InputRecord> window_agg_input(int records) {
  std::mt19937_64 rng(11);
  std::vector<InputRecord> input(records);
  for (int i = 0; i < records; ++i) {
    const int card = static_cast<int>(rng() % kCards);
    const std::string name = card_name(card);
    InputRecord& in = input[i];
    in.record.key = name;
    in.record.partition = card % kPartitions;
    in.record.timestamp = kBaseTime + i;
    const std::string ts = std::to_string(kBaseTime + int64_t{i} * 10);
    const std::string amount = std::to_string(rng() % 1000);
    if (!is_bad(i)) {
      // Absurd event times window_agg takes: aggregated like any other.
      const std::string event_time = i % 5000 == 1   ? std::to_string(kYearOne)
                                     : i % 5000 == 2 ? std::to_string(kYear9999)
                                                     : ts;
      in.record.value = "{\"card\":\"" + name + "\",\"ts\":" + event_time + ",\"amount\":" + amount + "}";
      continue;
    }
    const int bad = i / kBadEvery;
    const std::string head = "{\"card\":\"" + name + "\"";
    in.bad_kind = "user-code";
    if (bad == kLargeBadIndex) {
      in.bad_kind = "decode";
      in.record.value = head + ",\"ts\":" + ts + ",\"note\":\"" + std::string(kLargeValueBytes, 'x');  // unterminated
      continue;
    }
    switch (bad % 10) {
      case 0:
        in.bad_kind = "decode";
        in.record.value = head + ",\"ts\":";  // invalid JSON
        break;
      case 1:
        in.bad_kind = "decode";
        in.record.value = std::string("\x0a\x08tx-", 5);  // truncated Protobuf: 8 bytes announced, 3 there
        break;
      case 2:
        in.record.value = "{\"card\":[\"" + name + "\"],\"ts\":" + ts + "}";
        in.message_has = "field 'card' must be a string or a number";
        break;
      case 3:
        in.record.value = head + ",\"ts\":true,\"amount\":" + amount + "}";
        in.message_has = "field 'ts' must be epoch milliseconds";
        break;
      case 4:
        in.record.value = "{\"ts\":" + ts + ",\"amount\":" + amount + "}";
        in.message_has = "field 'card' is missing";
        break;
      case 5:
        in.bad_kind = "decode";
        in.record.value = std::nullopt;
        break;
      case 6:
        in.bad_kind = "decode";
        in.record.key = std::nullopt;
        in.record.value = std::nullopt;
        break;
      case 7:
        in.bad_kind = "decode";
        in.record.value = "";
        break;
      case 8:
        in.record.value = head + ",\"ts\":1e300}";
        in.message_has = "field 'ts' is out of range";
        break;
      case 9:
        in.record.value = head + ",\"ts\":" + std::to_string(std::numeric_limits<int64_t>::min()) + "}";
        in.message_has = "field 'ts' is out of range";
        break;
    }
  }
  assign_offsets(input);
  return input;
}

// enrich's input: Transactions with ids "tx-<i>", spread over the partitions.
std::vector<InputRecord> enrich_input(int records) {
  std::vector<InputRecord> input(records);
  for (int i = 0; i < records; ++i) {
    InputRecord& in = input[i];
    in.record.key = card_name(i % kCards);
    in.record.partition = i % kPartitions;
    in.record.timestamp = kBaseTime + i;
    jobs::Transaction t;
    t.set_transaction_id("tx-" + std::to_string(i));
    t.set_card_id(*in.record.key);
    t.set_amount(1 + i % 700);
    t.set_currency(i % 3 == 0 ? "USD" : "EUR");
    t.set_event_time(kBaseTime + i);
    if (!is_bad(i)) {
      switch (i % 5000) {
        case 1:  // absurd event times and record timestamps
          t.set_event_time(std::numeric_limits<int64_t>::max());
          in.record.timestamp = kYear9999;
          break;
        case 2:
          t.set_event_time(std::numeric_limits<int64_t>::min());
          in.record.timestamp = 1;  // 1970-01-01T00:00:00.001Z
          break;
      }
      in.record.value = t.SerializeAsString();
      if (i % 5000 == 3) in.record.value = std::nullopt;  // an empty Transaction
      if (i % 5000 == 4) {
        // Field 6 (event_time, a varint) written as a length-delimited field:
        // Protobuf keeps it as an unknown field.
        in.record.value = *in.record.value + std::string{'\x32', '\x03', 'a', 'b', 'c'};
      }
      continue;
    }
    const int bad = i / kBadEvery;
    in.bad_kind = "decode";
    if (bad == kLargeBadIndex) {
      in.record.value = std::string(kLargeValueBytes, '\xff');  // a varint that never ends
      continue;
    }
    const std::string bytes = t.SerializeAsString();
    switch (bad % 3) {
      case 0:
        in.record.value = bytes.substr(0, 5);  // inside transaction_id
        break;
      case 1: {
        jobs::Transaction wrong;
        wrong.set_transaction_id("tx-" + std::to_string(i));
        std::string not_utf8 = wrong.SerializeAsString();
        not_utf8.back() = '\xc3';  // the id's last byte starts a 2-byte UTF-8 sequence that is not there
        in.record.value = not_utf8;
        break;
      }
      case 2:
        in.record.value = "{\"transaction_id\":\"tx-" + std::to_string(i) + "\"";
        break;
    }
  }
  assign_offsets(input);
  return input;
}

std::vector<ProducedRecord> produced(const std::vector<InputRecord>& input) {
  std::vector<ProducedRecord> records;
  records.reserve(input.size());
  for (const InputRecord& in : input) records.push_back(in.record);
  return records;
}

std::optional<std::string> header(const ConsumedRecord& r, const std::string& name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

// A result of window_agg --window none --agg count,sum.
struct RunningSum {
  int64_t count = 0;
  double sum = 0;  // whole numbers far below 2^53: exact
  friend bool operator==(const RunningSum&, const RunningSum&) = default;
};

// {"card":"<card>","count":N,"sum":S}, S in any JSON form (2e+05 included).
std::optional<RunningSum> parse_running_sum(const std::string& card, const std::string& json) {
  const std::string head = "{\"card\":\"" + card + "\",\"count\":";
  const std::string sum_key = ",\"sum\":";
  const std::size_t sum_at = json.find(sum_key);
  if (json.rfind(head, 0) != 0 || sum_at == std::string::npos || json.back() != '}') return std::nullopt;
  RunningSum r;
  const char* count_end = json.data() + sum_at;
  auto [end, ec] = std::from_chars(json.data() + head.size(), count_end, r.count);
  if (ec != std::errc() || end != count_end) return std::nullopt;
  const std::size_t sum_begin = sum_at + sum_key.size();
  const std::string sum = json.substr(sum_begin, json.size() - 1 - sum_begin);
  char* sum_end = nullptr;
  r.sum = std::strtod(sum.c_str(), &sum_end);
  if (sum.empty() || *sum_end != '\0') return std::nullopt;
  return r;
}

class PoisonRecordsTest : public ::testing::TestWithParam<ClusterKind> {
 protected:
  void SetUp() override {
    auto cluster = TestCluster::create(GetParam());
    ASSERT_TRUE(cluster.is_ok()) << cluster.status().to_string();
    cluster_ = std::move(cluster).value();
  }

  // Creates the input, output and dead-letter topics and produces `input`.
  void set_up_topics(const std::string& prefix, const std::vector<InputRecord>& input) {
    input_ = unique_topic(prefix + "-in");
    output_ = unique_topic(prefix + "-out");
    dlq_ = unique_topic(prefix + "-dlq");
    // The records carry timestamps from 2025 and absurd ones (1970, year 1,
    // year 9999): time-based retention must not delete them under the test.
    const std::map<std::string, std::string> kept{{"retention.ms", "-1"}};
    std::map<std::string, std::string> kept_large = kept;
    kept_large.emplace("max.message.bytes", kMaxMessageBytes);
    ASSERT_TRUE(cluster_->create_topic(input_, kPartitions, kept_large).is_ok());
    ASSERT_TRUE(cluster_->create_topic(output_, kPartitions, kept).is_ok());
    ASSERT_TRUE(cluster_->create_topic(dlq_, kPartitions, kept_large).is_ok());
    Status produced_all = cluster_->produce_records(input_, produced(input));
    ASSERT_TRUE(produced_all.is_ok()) << produced_all.to_string();
    Result<int64_t> count = cluster_->count(input_);
    ASSERT_TRUE(count.is_ok()) << count.status().to_string();
    ASSERT_EQ(*count, static_cast<int64_t>(input.size()));
  }

  // Runs `argv` with --on-error dlq (and with --exactly-once when given a
  // `state_dir`) until the output holds `outputs` records and the
  // dead-letter topic `dead_letters`, then stops it with SIGTERM; returns
  // its log.
  std::string run_job(std::vector<std::string> argv, int64_t outputs, int64_t dead_letters,
                      const std::string& state_dir = "") {
    const std::vector<std::string> standard{"--brokers",
                                            cluster_->bootstrap(),
                                            "--input",
                                            input_,
                                            "--output",
                                            output_,
                                            "--on-error",
                                            "dlq",
                                            "--dlq-topic",
                                            dlq_,
                                            "--job-id",
                                            unique_topic("poison"),
                                            "--from",
                                            "earliest",
                                            "--checkpoint-interval",
                                            "1s",
                                            "--threads",
                                            "2",
                                            "-X",
                                            std::string("producer.message.max.bytes=") + kMaxMessageBytes};
    argv.insert(argv.end(), standard.begin(), standard.end());
    const bool exactly_once = !state_dir.empty();
    if (exactly_once) argv.insert(argv.end(), {"--exactly-once", "--state-dir", state_dir});
    Result<std::unique_ptr<ChildProcess>> job = ChildProcess::spawn(argv);
    EXPECT_TRUE(job.is_ok()) << job.status().to_string();
    if (!job.is_ok()) return "";
    const auto deadline = std::chrono::steady_clock::now() + 180s;
    while (true) {
      Result<int64_t> out = visible_records(output_, exactly_once);
      Result<int64_t> dlq = visible_records(dlq_, exactly_once);
      if (out.is_ok() && dlq.is_ok() && *out >= outputs && *dlq >= dead_letters) break;
      if (!(*job)->running() || std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "the job " << ((*job)->running() ? "is still short of its output" : "ended") << ": "
                      << (out.is_ok() ? *out : -1) << " of " << outputs << " results, " << (dlq.is_ok() ? *dlq : -1)
                      << " of " << dead_letters << " dead letters\n"
                      << (*job)->output_tail(30);
        return (*job)->output();
      }
      std::this_thread::sleep_for(200ms);
    }
    Result<int> code = (*job)->terminate(60s);
    EXPECT_TRUE(code.is_ok()) << code.status().to_string();
    if (code.is_ok()) {
      EXPECT_EQ(*code, 0) << (*job)->output_tail(30);
    }
    return (*job)->output();
  }

  // The records a consumer of `topic` sees. With transactions the end
  // offsets count commit markers too, so the topic is read (read_committed).
  Result<int64_t> visible_records(const std::string& topic, bool transactions) {
    if (!transactions) return cluster_->count(topic);
    KAPPA_ASSIGN_OR_RETURN(std::vector<ConsumedRecord> records, cluster_->read_all(topic));
    return static_cast<int64_t>(records.size());
  }

  // Every bad record of `input` is in the dead-letter topic once, as it
  // came, with headers naming where it was and why; nothing else is.
  void check_dead_letters(const std::vector<InputRecord>& input) {
    std::map<std::pair<int32_t, int64_t>, const InputRecord*> bad;
    for (const InputRecord& in : input) {
      if (!in.bad_kind.empty()) bad[{in.record.partition, in.offset}] = &in;
    }
    Result<std::vector<ConsumedRecord>> letters = cluster_->read_all(dlq_);
    ASSERT_TRUE(letters.is_ok()) << letters.status().to_string();
    EXPECT_EQ(letters->size(), bad.size());
    std::map<std::pair<int32_t, int64_t>, int> seen;
    int mismatches = 0;
    for (const ConsumedRecord& r : *letters) {
      const std::optional<std::string> topic = header(r, "kappa.source.topic");
      const std::optional<std::string> partition = header(r, "kappa.source.partition");
      const std::optional<std::string> offset = header(r, "kappa.source.offset");
      const std::optional<std::string> kind = header(r, "kappa.error.kind");
      const std::optional<std::string> message = header(r, "kappa.error.message");
      ASSERT_TRUE(topic && partition && offset && kind && message) << "a dead letter without its headers";
      EXPECT_EQ(r.headers.size(), 5u) << "the input records have no headers of their own";
      EXPECT_EQ(*topic, input_);
      const std::pair<int32_t, int64_t> position{std::stoi(*partition), std::stoll(*offset)};
      auto it = bad.find(position);
      if (it == bad.end()) {
        ADD_FAILURE() << "a dead letter for " << *partition << "/" << *offset << ", which is no bad record: " << *kind
                      << ": " << *message;
        continue;
      }
      ++seen[position];
      const InputRecord& in = *it->second;
      const bool same = r.null_key == !in.record.key && r.null_value == !in.record.value &&
                        r.key == in.record.key.value_or("") && r.value == in.record.value.value_or("") &&
                        r.timestamp == in.record.timestamp && *kind == in.bad_kind &&
                        message->find(in.message_has) != std::string::npos && !message->empty();
      if (!same && ++mismatches <= 10) {
        ADD_FAILURE() << "the dead letter of " << *partition << "/" << *offset << " (" << *kind << ": " << *message
                      << ") is not the record as it came: key " << (r.null_key ? "null" : r.key) << ", "
                      << r.value.size() << " value bytes" << (r.null_value ? " (null)" : "") << ", timestamp "
                      << r.timestamp << "; expected kind " << in.bad_kind << ", message with '" << in.message_has
                      << "'";
      }
    }
    EXPECT_EQ(mismatches, 0);
    int missing = 0, doubled = 0;
    for (const auto& [position, in] : bad) {
      const int n = seen[position];
      if (n == 0) ++missing;
      if (n > 1) ++doubled;
    }
    EXPECT_EQ(missing, 0) << "bad records with no dead letter";
    EXPECT_EQ(doubled, 0) << "bad records dead-lettered more than once";
  }

  Result<std::vector<ConsumedRecord>> read_output() { return cluster_->read_all(output_); }

  std::unique_ptr<TestCluster> cluster_;
  std::string input_, output_, dlq_;
};

int64_t count_bad(const std::vector<InputRecord>& input) {
  int64_t n = 0;
  for (const InputRecord& in : input) n += in.bad_kind.empty() ? 0 : 1;
  return n;
}

// window_agg with a running count and sum per card: one result per good record.
std::vector<std::string> window_agg_argv() { return window_agg_command("none", "count,sum"); }

// Each card's results in `output`, in order, are its running count and sum
// over its good records of `input`, in order: every good record was
// aggregated once.
void check_running_sums(const std::vector<InputRecord>& input, const std::vector<ConsumedRecord>& output) {
  std::map<std::string, std::vector<RunningSum>> expected;
  for (const InputRecord& in : input) {
    if (!in.bad_kind.empty()) continue;
    const std::string& value = *in.record.value;
    std::vector<RunningSum>& results = expected[*in.record.key];
    const double amount = std::stod(value.substr(value.rfind(':') + 1));
    results.push_back({static_cast<int64_t>(results.size()) + 1, (results.empty() ? 0 : results.back().sum) + amount});
  }
  std::map<std::string, std::vector<RunningSum>> actual;
  for (const ConsumedRecord& r : output) {
    std::optional<RunningSum> result = parse_running_sum(r.key, r.value);
    ASSERT_TRUE(result) << "not a result of card " << r.key << ": " << r.value;
    actual[r.key].push_back(*result);
  }
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [card, results] : expected) {
    const std::vector<RunningSum>& got = actual[card];
    std::size_t same = 0;
    while (same < results.size() && same < got.size() && got[same] == results[same]) ++same;
    EXPECT_TRUE(same == results.size() && same == got.size())
        << card << ": " << got.size() << " results, " << results.size() << " expected; the first difference is result "
        << same + 1;
  }
}

TEST_P(PoisonRecordsTest, WindowAggDeadLettersBadJsonAndAggregatesEveryGoodRecord) {
  const std::vector<InputRecord> input = window_agg_input(kRecords);
  const int64_t bad = count_bad(input);
  ASSERT_EQ(bad, kRecords / kBadEvery);
  ASSERT_NO_FATAL_FAILURE(set_up_topics("window-agg", input));
  const int64_t good = kRecords - bad;
  const std::string log = run_job(window_agg_argv(), good, bad);
  EXPECT_THAT(log, HasSubstr(std::to_string(kRecords) + " records in, " + std::to_string(good) + " out, 0 skipped, " +
                             std::to_string(bad) + " dead-lettered"));
  check_dead_letters(input);
  Result<std::vector<ConsumedRecord>> output = read_output();
  ASSERT_TRUE(output.is_ok()) << output.status().to_string();
  ASSERT_EQ(static_cast<int64_t>(output->size()), good);
  check_running_sums(input, *output);
}

TEST_P(PoisonRecordsTest, EnrichDeadLettersBadProtobufAndEnrichesEveryGoodRecord) {
  const std::vector<InputRecord> input = enrich_input(kRecords);
  const int64_t bad = count_bad(input);
  ASSERT_EQ(bad, kRecords / kBadEvery);
  ASSERT_NO_FATAL_FAILURE(set_up_topics("enrich", input));
  const int64_t good = kRecords - bad;
  const std::string log = run_job({KAPPA_ENRICH_PATH}, good, bad);
  EXPECT_THAT(log, HasSubstr(std::to_string(kRecords) + " records in, " + std::to_string(good) + " out, 0 skipped, " +
                             std::to_string(bad) + " dead-lettered"));
  check_dead_letters(input);

  // One enriched transaction per good record, with its key and timestamp
  // (absurd ones included); a null value is an empty transaction.
  std::map<std::string, int64_t> expected_timestamp;  // by transaction id
  int64_t empty_transactions = 0;
  for (const InputRecord& in : input) {
    if (!in.bad_kind.empty()) continue;
    if (!in.record.value) {
      ++empty_transactions;
      continue;
    }
    jobs::Transaction t;
    ASSERT_TRUE(t.ParseFromString(*in.record.value));
    expected_timestamp[t.transaction_id()] = in.record.timestamp;
  }
  Result<std::vector<ConsumedRecord>> output = read_output();
  ASSERT_TRUE(output.is_ok()) << output.status().to_string();
  ASSERT_EQ(static_cast<int64_t>(output->size()), good);
  std::map<std::string, int> seen;
  int64_t empty_seen = 0, wrong = 0;
  for (const ConsumedRecord& r : *output) {
    jobs::EnrichedTransaction e;
    ASSERT_TRUE(e.ParseFromString(r.value));
    ASSERT_GE(e.hour_of_day(), 0);
    ASSERT_LT(e.hour_of_day(), 24);
    const std::string& id = e.transaction().transaction_id();
    if (id.empty()) {
      ++empty_seen;
      continue;
    }
    ++seen[id];
    auto it = expected_timestamp.find(id);
    if (it == expected_timestamp.end() || it->second != r.timestamp || r.key != e.transaction().card_id()) ++wrong;
  }
  EXPECT_EQ(wrong, 0) << "results for no good record, or with another timestamp or key";
  EXPECT_EQ(empty_seen, empty_transactions);
  EXPECT_EQ(seen.size(), expected_timestamp.size());
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

// With --exactly-once, dead letters go through the producer every output of
// the job shares, in the transaction of their checkpoint: read_committed
// consumers see each once, beside the results. Real Kafka only: the embedded
// broker ignores isolation.level. Fewer records: each wait reads the topics.
class PoisonRecordsExactlyOnceTest : public PoisonRecordsTest {};

TEST_P(PoisonRecordsExactlyOnceTest, DeadLettersCommitWithTheirCheckpoint) {
  constexpr int kEosRecords = 20'000;
  const std::vector<InputRecord> input = window_agg_input(kEosRecords);
  const int64_t bad = count_bad(input);
  ASSERT_EQ(bad, kEosRecords / kBadEvery);
  ASSERT_NO_FATAL_FAILURE(set_up_topics("window-agg-eos", input));
  const int64_t good = kEosRecords - bad;
  TempDir dir("poison-eos");
  const std::string log = run_job(window_agg_argv(), good, bad, dir.path("state"));
  EXPECT_THAT(log, HasSubstr("exactly-once output: transactional producer"));
  EXPECT_THAT(log, HasSubstr(std::to_string(kEosRecords) + " records in, " + std::to_string(good) +
                             " out, 0 skipped, " + std::to_string(bad) + " dead-lettered"));
  check_dead_letters(input);  // read_committed
  Result<std::vector<ConsumedRecord>> output = read_output();
  ASSERT_TRUE(output.is_ok()) << output.status().to_string();
  ASSERT_EQ(static_cast<int64_t>(output->size()), good);
  check_running_sums(input, *output);
}

INSTANTIATE_TEST_SUITE_P(Embedded, PoisonRecordsTest, ::testing::Values(ClusterKind::kEmbedded));
INSTANTIATE_TEST_SUITE_P(Real, PoisonRecordsTest, ::testing::Values(ClusterKind::kReal));
INSTANTIATE_TEST_SUITE_P(Real, PoisonRecordsExactlyOnceTest, ::testing::Values(ClusterKind::kReal));

}  // namespace
}  // namespace kappa::testing
