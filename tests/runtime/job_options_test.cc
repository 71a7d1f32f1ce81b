#include "runtime/job_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace kappa {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Every test starts with no KAPPA_* variable set and leaves the environment
// as it found it.
class JobOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      if (entry.rfind("KAPPA_", 0) != 0) continue;
      const auto eq = entry.find('=');
      saved_[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [name, value] : saved_) unsetenv(name.c_str());
  }

  void TearDown() override {
    for (const std::string& name : set_) unsetenv(name.c_str());
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
  }

  void set_env(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 1);
    set_.push_back(name);
  }

  Status parse(std::vector<std::string> args) {
    args.insert(args.begin(), "myjob");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    options_ = JobOptions{};
    return parse_job_flags(static_cast<int>(argv.size()), argv.data(), "myjob", "A test job.", options_);
  }

  // Parses args that must be accepted.
  const JobOptions& parse_ok(std::vector<std::string> args) {
    Status status = parse(std::move(args));
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    return options_;
  }

  // Parses args that must be refused with one line naming `flag`.
  std::string parse_error(std::vector<std::string> args, const std::string& flag) {
    Status status = parse(std::move(args));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
    EXPECT_THAT(status.message(), HasSubstr(flag));
    EXPECT_THAT(status.message(), Not(HasSubstr("\n")));
    return status.message();
  }

  JobOptions options_;
  std::map<std::string, std::string> saved_;
  std::vector<std::string> set_;
};

TEST_F(JobOptionsTest, EveryFlag) {
  const JobOptions& o = parse_ok({"--brokers",
                                  "k1:9092,k2:9092",
                                  "--job-id",
                                  "fraud-7",
                                  "--input",
                                  "tx,tx2",
                                  "--output",
                                  "scores",
                                  "--from",
                                  "earliest",
                                  "--threads",
                                  "3",
                                  "--on-error",
                                  "skip",
                                  "--log-level",
                                  "debug",
                                  "-X",
                                  "linger.ms=5",
                                  "--checkpoint-interval",
                                  "1500ms",
                                  "--input-format",
                                  "json",
                                  "--output-format",
                                  "json"});
  EXPECT_EQ(o.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(o.job_id, "fraud-7");
  EXPECT_EQ(o.input, "tx,tx2");
  EXPECT_EQ(o.output, "scores");
  EXPECT_EQ(o.from, StartPosition::kEarliest);
  EXPECT_EQ(o.threads, 3);
  EXPECT_EQ(o.on_error, ErrorPolicy::kSkip);
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_THAT(o.kafka_properties, ElementsAre("linger.ms=5"));
  EXPECT_EQ(o.checkpoint_interval, std::chrono::milliseconds(1500));
  EXPECT_EQ(o.input_format, WireFormat::kJson);
  EXPECT_EQ(o.output_format, WireFormat::kJson);
  EXPECT_FALSE(o.input_is_file());
  EXPECT_FALSE(o.output_is_file());
}

TEST_F(JobOptionsTest, ChoicesIgnoreCase) {
  EXPECT_EQ(parse_ok({"--brokers", "b", "--input", "i", "--output", "o", "--from", "LATEST"}).from,
            StartPosition::kLatest);
  EXPECT_EQ(parse_ok({"--brokers", "b", "--input", "i", "--output", "o", "--from", "committed"}).from,
            StartPosition::kCommitted);
  EXPECT_EQ(parse_ok({"--brokers", "b", "--input", "i", "--output", "o", "--on-error", "Fail"}).on_error,
            ErrorPolicy::kFail);
  EXPECT_EQ(parse_ok({"--brokers", "b", "--input", "i", "--output", "o", "--input-format", "PROTOBUF"}).input_format,
            WireFormat::kProtobuf);
}

TEST_F(JobOptionsTest, Defaults) {
  const JobOptions& o = parse_ok({"--brokers", "b:1", "--input", "in", "--output", "out"});
  EXPECT_EQ(o.job_id, "myjob");  // the job's name
  EXPECT_EQ(o.from, StartPosition::kCommitted);
  EXPECT_EQ(o.threads, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  EXPECT_GE(o.threads, 1);
  EXPECT_EQ(o.on_error, ErrorPolicy::kFail);
  EXPECT_EQ(o.log_level, "info");
  EXPECT_TRUE(o.kafka_properties.empty());
  EXPECT_EQ(o.checkpoint_interval, std::chrono::milliseconds(10'000));
  // Protobuf for topics.
  EXPECT_EQ(o.input_format, WireFormat::kProtobuf);
  EXPECT_EQ(o.output_format, WireFormat::kProtobuf);
}

TEST_F(JobOptionsTest, FilesDefaultToJsonAndNeedNoBrokers) {
  const JobOptions& o = parse_ok({"--input", "file:in.jsonl", "--output", "file:/tmp/out.jsonl"});
  EXPECT_TRUE(o.input_is_file());
  EXPECT_TRUE(o.output_is_file());
  EXPECT_EQ(o.input_format, WireFormat::kJson);
  EXPECT_EQ(o.output_format, WireFormat::kJson);
  EXPECT_TRUE(o.brokers.empty());
}

TEST_F(JobOptionsTest, FormatsDefaultPerEndpoint) {
  const JobOptions& a = parse_ok({"--brokers", "b", "--input", "file:in.jsonl", "--output", "topic"});
  EXPECT_EQ(a.input_format, WireFormat::kJson);
  EXPECT_EQ(a.output_format, WireFormat::kProtobuf);
  const JobOptions& b = parse_ok({"--brokers", "b", "--input", "topic", "--output", "file:out.jsonl"});
  EXPECT_EQ(b.input_format, WireFormat::kProtobuf);
  EXPECT_EQ(b.output_format, WireFormat::kJson);
  EXPECT_FALSE(b.input_format_given);
  EXPECT_FALSE(b.output_format_given);
  // An explicit format wins over the default, and says it was given.
  const JobOptions& c = parse_ok(
      {"--input", "file:in", "--output", "file:out", "--input-format", "protobuf", "--output-format", "protobuf"});
  EXPECT_EQ(c.input_format, WireFormat::kProtobuf);
  EXPECT_EQ(c.output_format, WireFormat::kProtobuf);
  EXPECT_TRUE(c.input_format_given);
  EXPECT_TRUE(c.output_format_given);
}

TEST_F(JobOptionsTest, FinishJobOptionsKeepsAnExplicitJobId) {
  JobOptions o;
  o.brokers = "b";
  o.input = "i";
  o.output = "o";
  o.job_id = "explicit";
  o.threads = 5;
  ASSERT_TRUE(finish_job_options(o, "name").is_ok());
  EXPECT_EQ(o.job_id, "explicit");
  EXPECT_EQ(o.threads, 5);
}

TEST_F(JobOptionsTest, XIsRepeatable) {
  const JobOptions& o = parse_ok({"--brokers", "b", "--input", "i", "--output", "o", "-X", "linger.ms=5", "-X",
                                  "consumer.fetch.wait.max.ms=10", "-X", "producer.acks=all"});
  EXPECT_THAT(o.kafka_properties, ElementsAre("linger.ms=5", "consumer.fetch.wait.max.ms=10", "producer.acks=all"));
}

TEST_F(JobOptionsTest, XValueMayContainEquals) {
  const JobOptions& o = parse_ok({"--brokers", "b", "--input", "i", "--output", "o", "-X", "sasl.jaas=a=b"});
  EXPECT_THAT(o.kafka_properties, ElementsAre("sasl.jaas=a=b"));
}

TEST_F(JobOptionsTest, EnvironmentTwins) {
  set_env("KAPPA_BROKERS", "envbroker:9092");
  set_env("KAPPA_JOB_ID", "env-id");
  set_env("KAPPA_INPUT", "env-in");
  set_env("KAPPA_OUTPUT", "env-out");
  set_env("KAPPA_FROM", "latest");
  set_env("KAPPA_THREADS", "2");
  set_env("KAPPA_ON_ERROR", "skip");
  set_env("KAPPA_LOG_LEVEL", "warn");
  set_env("KAPPA_X", "linger.ms=1;consumer.fetch.wait.max.ms=20");
  set_env("KAPPA_CHECKPOINT_INTERVAL", "2m");
  set_env("KAPPA_INPUT_FORMAT", "json");
  set_env("KAPPA_OUTPUT_FORMAT", "json");
  const JobOptions& o = parse_ok({});
  EXPECT_EQ(o.brokers, "envbroker:9092");
  EXPECT_EQ(o.job_id, "env-id");
  EXPECT_EQ(o.input, "env-in");
  EXPECT_EQ(o.output, "env-out");
  EXPECT_EQ(o.from, StartPosition::kLatest);
  EXPECT_EQ(o.threads, 2);
  EXPECT_EQ(o.on_error, ErrorPolicy::kSkip);
  EXPECT_EQ(o.log_level, "warn");
  EXPECT_THAT(o.kafka_properties, ElementsAre("linger.ms=1", "consumer.fetch.wait.max.ms=20"));
  EXPECT_EQ(o.checkpoint_interval, std::chrono::minutes(2));
  EXPECT_EQ(o.input_format, WireFormat::kJson);
  EXPECT_EQ(o.output_format, WireFormat::kJson);
}

TEST_F(JobOptionsTest, FlagsWinOverEnvironment) {
  set_env("KAPPA_BROKERS", "envbroker:9092");
  set_env("KAPPA_THREADS", "2");
  const JobOptions& o = parse_ok({"--brokers", "flagbroker:9092", "--threads", "4", "--input", "i", "--output", "o"});
  EXPECT_EQ(o.brokers, "flagbroker:9092");
  EXPECT_EQ(o.threads, 4);
}

TEST_F(JobOptionsTest, EnvironmentIsRestoredBetweenTests) {
  // EnvironmentTwins set these; the fixture must have removed them.
  EXPECT_EQ(std::getenv("KAPPA_BROKERS"), nullptr);
  EXPECT_EQ(std::getenv("KAPPA_X"), nullptr);
}

TEST_F(JobOptionsTest, MissingBrokers) {
  const std::string message = parse_error({"--input", "topic", "--output", "file:out.jsonl"}, "--brokers");
  EXPECT_THAT(message, HasSubstr("KAPPA_BROKERS"));
  EXPECT_THAT(message, HasSubstr("embedded"));
  EXPECT_THAT(parse_error({"--input", "file:in.jsonl", "--output", "topic"}, "--brokers"),
              HasSubstr("--output is a topic"));
}

TEST_F(JobOptionsTest, OnErrorDlqTakesADeadLetterTopic) {
  const JobOptions& o =
      parse_ok({"--brokers", "b", "--input", "i", "--output", "o", "--on-error", "dlq", "--dlq-topic", "bad"});
  EXPECT_EQ(o.on_error, ErrorPolicy::kDeadLetter);
  EXPECT_EQ(o.dlq_topic, "bad");
  set_env("KAPPA_ON_ERROR", "DLQ");
  set_env("KAPPA_DLQ_TOPIC", "bad-env");
  const JobOptions& env = parse_ok({"--brokers", "b", "--input", "i", "--output", "o"});
  EXPECT_EQ(env.on_error, ErrorPolicy::kDeadLetter);
  EXPECT_EQ(env.dlq_topic, "bad-env");
}

TEST_F(JobOptionsTest, DlqFlagsGoTogetherAndTheDeadLetterOutputIsATopic) {
  EXPECT_THAT(parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--on-error", "dlq"}, "--dlq-topic"),
              HasSubstr("--on-error dlq needs --dlq-topic"));
  EXPECT_THAT(parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--dlq-topic", "bad"}, "--dlq-topic"),
              HasSubstr("only used with --on-error dlq"));
  EXPECT_THAT(parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--on-error", "skip", "--dlq-topic",
                           "bad"},
                          "--dlq-topic"),
              HasSubstr("only used with --on-error dlq"));
  EXPECT_THAT(parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--on-error", "dlq", "--dlq-topic",
                           "file:bad.jsonl"},
                          "--dlq-topic file:bad.jsonl"),
              HasSubstr("headers"));
  // A dead-letter topic needs brokers even when input and output are files.
  EXPECT_THAT(parse_error({"--input", "file:in.jsonl", "--output", "file:out.jsonl", "--on-error", "dlq",
                           "--dlq-topic", "bad"},
                          "--brokers"),
              HasSubstr("--dlq-topic is a topic"));
  // With --exactly-once the dead letters join the transaction: a topic is all it needs.
  EXPECT_TRUE(parse_ok({"--exactly-once", "--brokers", "b", "--state-dir", "/s", "--input", "i", "--output", "o",
                        "--on-error", "dlq", "--dlq-topic", "bad"})
                  .exactly_once);
}

TEST_F(JobOptionsTest, MissingInputOrOutput) {
  parse_error({"--brokers", "b", "--output", "o"}, "--input");
  parse_error({"--brokers", "b", "--input", "i"}, "--output");
}

TEST_F(JobOptionsTest, ExactlyOnceFlagAndEnvironmentTwin) {
  EXPECT_FALSE(parse_ok({"--brokers", "b", "--input", "i", "--output", "o"}).exactly_once);
  EXPECT_TRUE(parse_ok({"--brokers", "b", "--input", "i", "--output", "o", "--state-dir", "/s", "--exactly-once"})
                  .exactly_once);
  set_env("KAPPA_EXACTLY_ONCE", "true");
  EXPECT_TRUE(parse_ok({"--brokers", "b", "--input", "i", "--output", "o", "--state-dir", "/s"}).exactly_once);
}

TEST_F(JobOptionsTest, StateMemoryTakesASizeAndNeedsAStateDir) {
  EXPECT_EQ(parse_ok({"--brokers", "b", "--input", "i", "--output", "o"}).state_memory_bytes, 0);
  EXPECT_EQ(parse_ok({"--brokers", "b", "--input", "i", "--output", "o", "--state-dir", "/s", "--state-memory",
                      "512MiB"})
                .state_memory_bytes,
            512LL << 20);
  set_env("KAPPA_STATE_MEMORY", "2GB");
  EXPECT_EQ(parse_ok({"--brokers", "b", "--input", "i", "--output", "o", "--state-dir", "/s"}).state_memory_bytes,
            2'000'000'000);
  parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--state-dir", "/s", "--state-memory", "lots"},
              "--state-memory");
  parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--state-dir", "/s", "--state-memory", "0"},
              "--state-memory");
  const std::string message = parse_error({"--brokers", "b", "--input", "i", "--output", "o"}, "--state-dir");
  EXPECT_THAT(message, HasSubstr("--state-memory needs --state-dir"));
}

TEST_F(JobOptionsTest, ExactlyOnceNeedsStateTopicsAndARealBroker) {
  const std::vector<std::string> base{"--exactly-once", "--brokers", "b", "--state-dir", "/s"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = base;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  EXPECT_THAT(parse_error({"--exactly-once", "--brokers", "b", "--input", "i", "--output", "o"}, "--exactly-once"),
              HasSubstr("--state-dir"));
  EXPECT_THAT(parse_error(with({"--input", "file:in.jsonl", "--output", "o"}), "--exactly-once"), HasSubstr("--input"));
  EXPECT_THAT(parse_error(with({"--input", "i", "--output", "file:out.jsonl"}), "--exactly-once"),
              HasSubstr("--output"));
  EXPECT_THAT(
      parse_error(with({"--input", "i", "--output", "o", "--late-output", "file:late.jsonl"}), "--exactly-once"),
      HasSubstr("--late-output"));
  EXPECT_THAT(
      parse_error({"--exactly-once", "--brokers", "embedded", "--state-dir", "/s", "--input", "i", "--output", "o"},
                  "--exactly-once"),
      HasSubstr("isolation.level"));
  // Topics everywhere are fine, late output included.
  EXPECT_TRUE(parse_ok(with({"--input", "i", "--output", "o", "--late-output", "late"})).exactly_once);
}

TEST_F(JobOptionsTest, FilePrefixWithoutPath) {
  parse_error({"--input", "file:", "--output", "file:out"}, "--input file:");
  parse_error({"--input", "file:in", "--output", "file:"}, "--output file:");
}

TEST_F(JobOptionsTest, SideOutputFlagsAndEnvironmentTwins) {
  auto parse_with_side_outputs = [](std::vector<const char*> argv, JobOptions& options) {
    options.side_outputs = {{"features", "Each transaction's features", ""}, {"audit-log", "Audit records", ""}};
    argv.insert(argv.begin(), "myjob");
    return parse_job_flags(static_cast<int>(argv.size()), argv.data(), "myjob", "A test job.", options);
  };
  set_env("KAPPA_AUDIT_LOG_OUTPUT", "file:audit.jsonl");
  JobOptions options;
  ASSERT_TRUE(parse_with_side_outputs({"--input", "file:in", "--output", "file:out", "--features-output", "file:f.jsonl"},
                                      options)
                  .is_ok());
  EXPECT_EQ(options.side_outputs[0].endpoint, "file:f.jsonl");
  EXPECT_EQ(options.side_outputs[1].endpoint, "file:audit.jsonl");

  // A side output on a topic needs brokers; file: needs a path.
  Status status = parse_with_side_outputs({"--input", "file:in", "--output", "file:out", "--features-output", "t"},
                                          options);
  EXPECT_THAT(status.message(), HasSubstr("--brokers"));
  status = parse_with_side_outputs({"--input", "file:in", "--output", "file:out", "--features-output", "file:"},
                                   options);
  EXPECT_THAT(status.message(), HasSubstr("--features-output file:"));
}

TEST_F(JobOptionsTest, BadX) {
  EXPECT_THAT(parse_error({"--brokers", "b", "--input", "i", "--output", "o", "-X", "linger.ms"}, "-X linger.ms"),
              HasSubstr("key=value"));
  parse_error({"--brokers", "b", "--input", "i", "--output", "o", "-X", "=5"}, "-X =5");
  set_env("KAPPA_X", "linger.ms=1;nonsense");
  parse_error({"--brokers", "b", "--input", "i", "--output", "o"}, "-X nonsense");
}

TEST_F(JobOptionsTest, BadDuration) {
  const std::string message = parse_error(
      {"--brokers", "b", "--input", "i", "--output", "o", "--checkpoint-interval", "10x"}, "--checkpoint-interval");
  EXPECT_THAT(message, HasSubstr("'10x'"));
  parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--checkpoint-interval", "0s"},
              "--checkpoint-interval");
  set_env("KAPPA_CHECKPOINT_INTERVAL", "soon");
  parse_error({"--brokers", "b", "--input", "i", "--output", "o"}, "--checkpoint-interval");
}

TEST_F(JobOptionsTest, BadChoices) {
  parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--from", "yesterday"}, "--from");
  parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--on-error", "ignore"}, "--on-error");
  parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--log-level", "loud"}, "--log-level");
  parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--threads", "0"}, "--threads");
  parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--threads", "many"}, "--threads");
  parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--input-format", "avro"}, "--input-format");
}

TEST_F(JobOptionsTest, FromAndUntilTakeKeywordsAndTimes) {
  const std::vector<std::string> base{"--brokers", "b", "--input", "i", "--output", "o"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = base;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const JobOptions& timed = parse_ok(with({"--from", "2026-11-21T09:00:00Z", "--until", "2026-11-21T11:00:00+01:00"}));
  EXPECT_EQ(timed.from, StartPosition::kTime);
  EXPECT_EQ(timed.until, EndPosition::kTime);
  EXPECT_EQ(timed.until_time_ms - timed.from_time_ms, 3'600'000);
  // 10:00+01:00 is 09:00Z: a replay that ends where it starts reads nothing.
  parse_error(with({"--from", "2026-11-21T09:00:00Z", "--until", "2026-11-21T10:00:00+01:00"}), "is not after --from");
  const JobOptions& latest = parse_ok(with({"--from", "Earliest", "--until", "LATEST"}));
  EXPECT_EQ(latest.from, StartPosition::kEarliest);
  EXPECT_EQ(latest.until, EndPosition::kLatest);
  EXPECT_EQ(parse_ok(with({"--until", "never"})).until, EndPosition::kNever);
  EXPECT_EQ(parse_ok(base).until, EndPosition::kNever);
  set_env("KAPPA_UNTIL", "latest");
  EXPECT_EQ(parse_ok(base).until, EndPosition::kLatest);

  EXPECT_THAT(parse_error(with({"--from", "2026-11-21T09:00:00"}), "--from"), HasSubstr("no time zone"));
  EXPECT_THAT(parse_error(with({"--until", "tomorrow"}), "--until"), HasSubstr("never, latest or a time"));
  EXPECT_THAT(parse_error({"--input", "file:in.jsonl", "--output", "o", "--brokers", "b", "--until", "latest"},
                          "--until"),
              HasSubstr("file input"));
}

TEST_F(JobOptionsTest, FromOffsetsReadsTheFileOrSaysWhichLineIsWrong) {
  char path[] = "/tmp/kappa-offsets-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  auto write = [&](const std::string& text) {
    FILE* f = std::fopen(path, "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
  };
  const std::vector<std::string> args{"--brokers", "b", "--input", "i", "--output", "o", "--from",
                                      std::string("offsets:") + path};
  write("# where the backfill stopped\nevents,0,1200\r\n\nevents,3,0\nother.topic,12,77\n");
  const JobOptions& options = parse_ok(args);
  EXPECT_EQ(options.from, StartPosition::kOffsets);
  EXPECT_EQ(options.from_offsets, (std::map<PartitionId, int64_t>{
                                      {{"events", 0}, 1200}, {{"events", 3}, 0}, {{"other.topic", 12}, 77}}));

  for (const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
           {"events,0,12\nevents,1\n", "line 2 ('events,1'): not three comma-separated fields"},
           {"events,x,12\n", "the partition is not a number"},
           {"events,0,-5\n", "the offset is not a number of 0 or more"},
           {"events,0,5\nevents,0,6\n", "listed twice"},
           {",0,5\n", "not three"},
           {"# nothing\n", "lists no offsets"}}) {
    write(text);
    EXPECT_THAT(parse_error(args, "--from offsets:"), HasSubstr(why)) << text;
  }
  std::remove(path);
  EXPECT_THAT(parse_error(args, "--from offsets:"), HasSubstr("cannot read the file"));
  parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--from", "offsets:"}, "--from");
}

TEST_F(JobOptionsTest, MetricsAddress) {
  const std::vector<std::string> base{"--brokers", "b", "--input", "i", "--output", "o"};
  EXPECT_EQ(parse_ok(base).metrics_addr, "127.0.0.1:9464");
  EXPECT_FALSE(parse_ok(base).metrics_addr_given);
  std::vector<std::string> args = base;
  args.insert(args.end(), {"--metrics-addr", "0.0.0.0:0"});
  EXPECT_EQ(parse_ok(args).metrics_addr, "0.0.0.0:0");
  EXPECT_TRUE(parse_ok(args).metrics_addr_given);
  args.back() = "off";
  EXPECT_EQ(parse_ok(args).metrics_addr, "");
  for (const char* bad : {"9464", "localhost:", ":9464", "localhost:99999", "localhost:http"}) {
    args.back() = bad;
    parse_error(args, "--metrics-addr");
  }
  set_env("KAPPA_METRICS_ADDR", "127.0.0.1:9999");
  EXPECT_EQ(parse_ok(base).metrics_addr, "127.0.0.1:9999");
}

TEST_F(JobOptionsTest, UnknownFlag) {
  const std::string message =
      parse_error({"--brokers", "b", "--input", "i", "--output", "o", "--bogus", "1"}, "--bogus");
  EXPECT_THAT(message, HasSubstr("--help"));
}

TEST_F(JobOptionsTest, HelpReturnsAbortedWithEmptyMessage) {
  ::testing::internal::CaptureStdout();
  Status status = parse({"--help"});
  const std::string help = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(status.code(), StatusCode::kAborted);
  EXPECT_EQ(status.message(), "");
  EXPECT_THAT(help, HasSubstr("A test job."));
  for (const char* flag : {"--brokers", "--job-id", "--input", "--output", "--from", "--threads", "--on-error",
                           "--log-level", "-X", "--checkpoint-interval", "--input-format", "--output-format"}) {
    EXPECT_THAT(help, HasSubstr(flag));
  }
  for (const char* env : {"KAPPA_BROKERS", "KAPPA_X", "KAPPA_CHECKPOINT_INTERVAL"}) EXPECT_THAT(help, HasSubstr(env));

  // -h too, and even when required flags are missing.
  ::testing::internal::CaptureStdout();
  status = parse({"-h"});
  ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(status.code(), StatusCode::kAborted);
}

}  // namespace
}  // namespace kappa
