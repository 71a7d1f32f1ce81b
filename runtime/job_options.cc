#include "runtime/job_options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <fstream>
#include <map>
#include <thread>
#include <utility>

#include "runtime/byte_size.h"
#include "runtime/duration.h"
#include "runtime/iso_time.h"

namespace kappa {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// host:port, port 0-65535; the host is whatever the resolver takes.
Status check_metrics_addr(const std::string& addr) {
  const std::size_t colon = addr.rfind(':');
  int port = -1;
  if (colon != std::string::npos && colon + 1 < addr.size()) {
    auto [ptr, ec] = std::from_chars(addr.data() + colon + 1, addr.data() + addr.size(), port);
    if (ec != std::errc() || ptr != addr.data() + addr.size()) port = -1;
  }
  if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535) {
    return Status::invalid_argument("--metrics-addr " + addr +
                                    " is not host:port, as in 127.0.0.1:9464 or 0.0.0.0:9464 ('off' for none)");
  }
  return Status::ok();
}

// What --exactly-once needs besides itself; one line each.
Status check_exactly_once(const JobOptions& options,
                          const std::vector<std::pair<std::string, const std::string*>>& outputs) {
  if (options.state_dir.empty()) {
    return Status::invalid_argument(
        "--exactly-once needs --state-dir: after a crash the checkpoint says where the committed outputs end");
  }
  if (options.input_is_file()) {
    return Status::invalid_argument("--exactly-once needs topics as --input: a transaction commits Kafka offsets");
  }
  for (const auto& [flag, endpoint] : outputs) {
    if (JobOptions::is_file(*endpoint)) {
      return Status::invalid_argument("--exactly-once needs a topic as " + flag +
                                      ": a file cannot take part in a Kafka transaction");
    }
  }
  if (options.brokers == "embedded") {
    return Status::invalid_argument(
        "--exactly-once does not work with --brokers embedded: the embedded broker ignores isolation.level, so "
        "consumers would see aborted results; use a real Kafka broker");
  }
  return Status::ok();
}

// --on-error dlq and --dlq-topic go together, and dead letters need a topic.
Status check_dead_letters(const JobOptions& options) {
  const bool dlq = options.on_error == ErrorPolicy::kDeadLetter;
  if (dlq && options.dlq_topic.empty()) {
    return Status::invalid_argument("--on-error dlq needs --dlq-topic: the topic bad records are written to");
  }
  if (!dlq && !options.dlq_topic.empty()) {
    return Status::invalid_argument("--dlq-topic is only used with --on-error dlq (or set KAPPA_ON_ERROR=dlq)");
  }
  if (JobOptions::is_file(options.dlq_topic)) {
    return Status::invalid_argument("--dlq-topic " + options.dlq_topic +
                                    ": dead letters go to a topic, not a file: their source and error are Kafka "
                                    "headers, which a JSON-lines file cannot hold");
  }
  return Status::ok();
}

// --from: a keyword, offsets:FILE or a time. The file is read by
// finish_job_options, once every flag is known.
void parse_from(const std::string& text, JobOptions& options) {
  static const std::map<std::string, StartPosition> keywords{{"committed", StartPosition::kCommitted},
                                                             {"earliest", StartPosition::kEarliest},
                                                             {"latest", StartPosition::kLatest}};
  if (auto it = keywords.find(lowercase(text)); it != keywords.end()) {
    options.from = it->second;
    return;
  }
  if (text.rfind("offsets:", 0) == 0) {
    options.from = StartPosition::kOffsets;
    options.from_offsets_file = text.substr(std::string("offsets:").size());
    if (options.from_offsets_file.empty()) {
      throw CLI::ValidationError("--from", "offsets: needs a file, as in --from offsets:start.csv");
    }
    return;
  }
  Result<int64_t> time = parse_iso_time(text);
  if (!time.is_ok()) {
    throw CLI::ValidationError(
        "--from", "is committed, earliest, latest, offsets:FILE or a time, and " + time.status().message());
  }
  options.from = StartPosition::kTime;
  options.from_time_ms = *time;
}

void parse_until(const std::string& text, JobOptions& options) {
  const std::string keyword = lowercase(text);
  if (keyword == "never" || keyword == "latest") {
    options.until = keyword == "never" ? EndPosition::kNever : EndPosition::kLatest;
    return;
  }
  Result<int64_t> time = parse_iso_time(text);
  if (!time.is_ok()) {
    throw CLI::ValidationError("--until", "is never, latest or a time, and " + time.status().message());
  }
  options.until = EndPosition::kTime;
  options.until_time_ms = *time;
}

// The lines of an offsets file: topic,partition,offset (the format of
// kafka-consumer-groups --reset-offsets --from-file); blank lines and lines
// starting with # are skipped.
Result<std::map<PartitionId, int64_t>> read_offsets_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::invalid_argument("--from offsets:" + path + ": cannot read the file (" + std::strerror(errno) + ")");
  }
  std::map<PartitionId, int64_t> offsets;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    const auto bad = [&](const std::string& why) {
      return Status::invalid_argument("--from offsets:" + path + " line " + std::to_string(number) + " ('" + line +
                                      "'): " + why + "; each line is topic,partition,offset");
    };
    const std::size_t first = line.find(',');
    const std::size_t second = first == std::string::npos ? first : line.find(',', first + 1);
    if (second == std::string::npos || line.find(',', second + 1) != std::string::npos || first == 0) {
      return bad("not three comma-separated fields");
    }
    int64_t partition = -1, offset = -1;
    const auto number_at = [&](std::size_t begin, std::size_t end, int64_t& value) {
      const char* last = line.data() + end;
      auto [ptr, ec] = std::from_chars(line.data() + begin, last, value);
      return ec == std::errc() && ptr == last && value >= 0;
    };
    if (!number_at(first + 1, second, partition) || partition > INT32_MAX) return bad("the partition is not a number");
    if (!number_at(second + 1, line.size(), offset)) return bad("the offset is not a number of 0 or more");
    if (!offsets.emplace(PartitionId{line.substr(0, first), static_cast<int32_t>(partition)}, offset).second) {
      return bad("the partition is listed twice");
    }
  }
  if (offsets.empty()) return Status::invalid_argument("--from offsets:" + path + " lists no offsets");
  return offsets;
}

// --from and --until together, with the input and the broker; reads the
// --from offsets file.
Status finish_read_range(JobOptions& options) {
  if (options.input_is_file() && (options.from != StartPosition::kCommitted || options.until != EndPosition::kNever)) {
    return Status::invalid_argument(
        "--from and --until apply to topics; a file input is read from its start to its end");
  }
  if (options.brokers == "embedded" && (options.from == StartPosition::kTime || options.until == EndPosition::kTime)) {
    return Status::invalid_argument(
        "--from and --until take a time only with a real Kafka broker: the embedded broker cannot look offsets up "
        "by time; use earliest, latest or offsets:FILE");
  }
  if (options.from == StartPosition::kOffsets) {
    KAPPA_ASSIGN_OR_RETURN(options.from_offsets, read_offsets_file(options.from_offsets_file));
  }
  if (options.from == StartPosition::kTime && options.until == EndPosition::kTime &&
      options.until_time_ms <= options.from_time_ms) {
    return Status::invalid_argument("--until " + format_iso_time(options.until_time_ms) + " is not after --from " +
                                    format_iso_time(options.from_time_ms) + ": the replay would read nothing");
  }
  return Status::ok();
}

// Where the job reads and writes, and as whom.
void add_endpoint_flags(CLI::App& app, JobOptions& options) {
  app.add_option("--brokers", options.brokers,
                 "Kafka bootstrap servers (host:port,...), or 'embedded' for an in-process test broker. "
                 "Needed when --input or an output (--output, --dlq-topic, ...) is a topic.")
      ->envname("KAPPA_BROKERS");
  app.add_option("--job-id", options.job_id,
                 "Consumer group and state namespace; processes with the same id share the work. "
                 "Default: the job's name.")
      ->envname("KAPPA_JOB_ID");
  app.add_option("--input", options.input, "Input topic(s), comma-separated, or file:PATH (JSON lines).")
      ->envname("KAPPA_INPUT")
      ->required();
  app.add_option("--output", options.output, "Output topic, or file:PATH (JSON lines).")
      ->envname("KAPPA_OUTPUT")
      ->required();
  app.add_option("--late-output", options.late_output,
                 "Where records too late for the job's windows go: a topic or file:PATH. Default: nowhere (they "
                 "are counted and logged).")
      ->envname("KAPPA_LATE_OUTPUT");
}

// Where reading starts and ends, how many threads read, and what happens to bad records.
void add_reading_flags(CLI::App& app, JobOptions& options) {
  app.add_option_function<std::string>(
         "--from", [&options](const std::string& text) { parse_from(text, options); },
         "Where to start reading a partition the job has no checkpoint for: 'committed' (the group's position, "
         "earliest where it has none), 'earliest', 'latest', a time (2026-11-21T09:30:00Z: the first record at or "
         "after it), or offsets:FILE (lines topic,partition,offset; earliest for partitions it does not list). "
         "A checkpoint under --state-dir wins over --from. Default: committed.")
      ->envname("KAPPA_FROM");
  app.add_option_function<std::string>(
         "--until", [&options](const std::string& text) { parse_until(text, options); },
         "Make the run a bounded replay: 'latest' (each partition's end when the job starts) or a time (the first "
         "record at or after it). The job reads nothing beyond, takes a final checkpoint and exits 0 once every "
         "partition got there; windows still open stay in that checkpoint for a live run with the same --job-id "
         "and --state-dir to continue. 'never': a live run. Default: never.")
      ->envname("KAPPA_UNTIL");
  app.add_option("--threads", options.threads, "Worker threads for tasks. Default: one per core.")
      ->envname("KAPPA_THREADS")
      ->check(CLI::Range(1, 1024));
  const std::map<std::string, ErrorPolicy> policies{
      {"fail", ErrorPolicy::kFail}, {"skip", ErrorPolicy::kSkip}, {"dlq", ErrorPolicy::kDeadLetter}};
  app.add_option("--on-error", options.on_error,
                 "What to do with a record that does not decode or makes the job's code throw: 'fail' (stop "
                 "with an error naming it), 'skip' (count, log and go on) or 'dlq' (write it to --dlq-topic, "
                 "count, log and go on). Default: fail.")
      ->envname("KAPPA_ON_ERROR")
      ->transform(CLI::CheckedTransformer(policies, CLI::ignore_case));
  app.add_option("--dlq-topic", options.dlq_topic,
                 "The dead-letter topic of --on-error dlq. Each bad record is written there with its key, value, "
                 "timestamp and headers as they came (a null key or value stays null), plus the headers "
                 "kappa.source.topic, kappa.source.partition and kappa.source.offset (where it was read), "
                 "kappa.error.kind ('decode': the value does not decode; 'user-code': the job's code threw on it) "
                 "and kappa.error.message. Dead letters are flushed at each checkpoint like every output (and are "
                 "in the transaction with --exactly-once); one that cannot be written stops the job. A bad record "
                 "of about 1 MB or more needs -X producer.message.max.bytes=N (librdkafka's default is 1000000 "
                 "bytes, headers included) and a topic whose max.message.bytes takes it.")
      ->envname("KAPPA_DLQ_TOPIC");
}

// Metrics, logs and Kafka client properties.
void add_operating_flags(CLI::App& app, JobOptions& options) {
  app.add_option_function<std::string>(
         "--metrics-addr",
         [&options](const std::string& text) {
           options.metrics_addr = text == "off" ? "" : text;
           options.metrics_addr_given = true;
         },
         "host:port to serve Prometheus metrics (/metrics) and health checks (/healthz, /readyz) on; port 0 "
         "picks a free one; 'off' serves nothing. Default: 127.0.0.1:9464.")
      ->envname("KAPPA_METRICS_ADDR");
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error or off. Default: info.")
      ->envname("KAPPA_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}, CLI::ignore_case));
  app.add_option("-X", options.kafka_properties,
                 "A librdkafka property, key=value (both clients), consumer.key=value or producer.key=value. "
                 "Repeatable; in KAPPA_X, separate them with ';'.")
      ->envname("KAPPA_X")
      ->delimiter(';')
      ->allow_extra_args(false);
}

// State, checkpoints and exactly-once output.
void add_state_flags(CLI::App& app, JobOptions& options) {
  app.add_option_function<std::string>(
         "--checkpoint-interval",
         [&options](const std::string& text) {
           Result<std::chrono::milliseconds> interval = parse_duration(text);
           if (!interval.is_ok()) throw CLI::ValidationError("--checkpoint-interval", interval.status().message());
           if (interval->count() == 0) throw CLI::ValidationError("--checkpoint-interval", "must be more than 0");
           options.checkpoint_interval = *interval;
         },
         "How often a checkpoint is taken: output flushed, then state and input positions saved together "
         "(500ms, 10s, 1m, ...). Default: 10s.")
      ->envname("KAPPA_CHECKPOINT_INTERVAL");
  app.add_option("--state-dir", options.state_dir,
                 "Where the job keeps its state and checkpoints (RocksDB). A restart with the same --job-id and "
                 "--state-dir resumes from the last checkpoint: state restored, every partition read from where "
                 "the checkpoint was taken. Default: none (state in memory only; a restart starts empty from the "
                 "group's committed positions).")
      ->envname("KAPPA_STATE_DIR");
  app.add_option_function<std::string>(
         "--state-memory",
         [&options](const std::string& text) {
           Result<int64_t> bytes = parse_byte_size(text);
           if (!bytes.is_ok()) throw CLI::ValidationError("--state-memory", bytes.status().message());
           if (*bytes == 0) throw CLI::ValidationError("--state-memory", "must be more than 0");
           options.state_memory_bytes = *bytes;
         },
         "How much keyed state to keep in memory (512MiB, 4GiB, ...; an estimate). Beyond it, each checkpoint "
         "moves the entries untouched for longest out of memory; they stay in RocksDB under --state-dir and are "
         "read back when next needed. State a quarter over it brings the next checkpoint forward (at most one a "
         "second). Keys, timers and entries touched since the last checkpoint stay in memory. "
         "Needs --state-dir. Default: no budget, all state in memory.")
      ->envname("KAPPA_STATE_MEMORY");
  app.add_flag("--exactly-once", options.exactly_once,
               "Write every output inside a Kafka transaction that also commits the input offsets of its "
               "checkpoint, so that consumers with isolation.level=read_committed see each result exactly once "
               "(a crash discards the open transaction and resumes from the checkpoint the last committed one "
               "matches). Needs --state-dir, topics as input and outputs, and a real broker (not 'embedded'); one "
               "process per --job-id. Default: off (at-least-once output).")
      ->envname("KAPPA_EXACTLY_ONCE");
}

// Side outputs the job registered, and the value encodings.
void add_side_output_and_format_flags(CLI::App& app, JobOptions& options) {
  for (SideOutputOption& side : options.side_outputs) {
    std::string variable = "KAPPA_" + side.name + "_OUTPUT";
    std::transform(variable.begin(), variable.end(), variable.begin(),
                   [](unsigned char c) { return c == '-' ? '_' : static_cast<char>(std::toupper(c)); });
    app.add_option("--" + side.name + "-output", side.endpoint,
                   side.description + ": a topic or file:PATH. Default: not written.")
        ->envname(variable);
  }
  const std::map<std::string, WireFormat> formats{{"protobuf", WireFormat::kProtobuf}, {"json", WireFormat::kJson}};
  app.add_option("--input-format", options.input_format,
                 "Encoding of input values: protobuf or json. Default: protobuf for topics, json for files.")
      ->envname("KAPPA_INPUT_FORMAT")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case));
  app.add_option("--output-format", options.output_format,
                 "Encoding of output values: protobuf or json. Default: protobuf for topics, json for files.")
      ->envname("KAPPA_OUTPUT_FORMAT")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case));
}

}  // namespace

void add_job_flags(CLI::App& app, JobOptions& options) {
  add_endpoint_flags(app, options);
  add_reading_flags(app, options);
  add_operating_flags(app, options);
  add_state_flags(app, options);
  add_side_output_and_format_flags(app, options);
}

Status finish_job_options(JobOptions& options, const std::string& job_name) {
  if (options.job_id.empty()) options.job_id = job_name;
  if (options.threads == 0) options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  KAPPA_RETURN_IF_ERROR(check_dead_letters(options));
  // Every output flag with its value; optional ones may be empty.
  std::vector<std::pair<std::string, const std::string*>> outputs{{"--output", &options.output},
                                                                  {"--late-output", &options.late_output}};
  for (const SideOutputOption& side : options.side_outputs)
    outputs.emplace_back("--" + side.name + "-output", &side.endpoint);
  outputs.emplace_back("--dlq-topic", &options.dlq_topic);
  // The first flag that names a topic, if any does.
  std::string topic_flag = options.input_is_file() ? "" : "--input";
  for (const auto& [flag, endpoint] : outputs) {
    if (topic_flag.empty() && !endpoint->empty() && !JobOptions::is_file(*endpoint)) topic_flag = flag;
  }
  if (!topic_flag.empty() && options.brokers.empty()) {
    return Status::invalid_argument("--brokers is needed because " + topic_flag +
                                    " is a topic (or set KAPPA_BROKERS); '--brokers embedded' starts an in-process "
                                    "test broker");
  }
  if (options.input_is_file() && options.input.size() == std::string(JobOptions::kFilePrefix).size()) {
    return Status::invalid_argument("--input file: needs a path, as in --input file:events.jsonl");
  }
  for (const auto& [flag, endpoint] : outputs) {
    if (*endpoint == JobOptions::kFilePrefix) {
      return Status::invalid_argument(flag + " file: needs a path, as in " + flag + " file:results.jsonl");
    }
  }
  if (options.exactly_once) KAPPA_RETURN_IF_ERROR(check_exactly_once(options, outputs));
  KAPPA_RETURN_IF_ERROR(finish_read_range(options));
  if (!options.metrics_addr.empty()) KAPPA_RETURN_IF_ERROR(check_metrics_addr(options.metrics_addr));
  if (options.state_memory_bytes > 0 && options.state_dir.empty()) {
    return Status::invalid_argument("--state-memory needs --state-dir: state beyond the budget lives in RocksDB there");
  }
  for (const std::string& property : options.kafka_properties) {
    if (property.find('=') == std::string::npos || property.front() == '=') {
      return Status::invalid_argument("-X " + property + " is not key=value, as in -X fetch.max.bytes=1048576");
    }
  }
  auto resolve = [](WireFormat format, bool file) {
    if (format != WireFormat::kDefault) return format;
    return file ? WireFormat::kJson : WireFormat::kProtobuf;
  };
  options.input_format_given = options.input_format != WireFormat::kDefault;
  options.output_format_given = options.output_format != WireFormat::kDefault;
  options.input_format = resolve(options.input_format, options.input_is_file());
  options.output_format = resolve(options.output_format, options.output_is_file());
  return Status::ok();
}

Status parse_job_flags(int argc, const char* const* argv, const std::string& job_name, const std::string& description,
                       JobOptions& options, const std::function<void(CLI::App&)>& add_job_own_flags) {
  CLI::App app(description, job_name);
  add_job_flags(app, options);
  if (add_job_own_flags) add_job_own_flags(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return Status::aborted("");
  } catch (const CLI::ParseError& e) {
    return Status::invalid_argument(std::string(e.what()) + "; run with --help to see every flag");
  }
  return finish_job_options(options, job_name);
}

}  // namespace kappa
