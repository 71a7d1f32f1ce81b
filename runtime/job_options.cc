#include "runtime/job_options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <map>
#include <thread>
#include <utility>

#include "runtime/byte_size.h"
#include "runtime/duration.h"

namespace kappa {
namespace {

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

}  // namespace

void add_job_flags(CLI::App& app, JobOptions& options) {
  app.add_option("--brokers", options.brokers,
                 "Kafka bootstrap servers (host:port,...), or 'embedded' for an in-process test broker. "
                 "Needed when --input or --output is a topic.")
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
  const std::map<std::string, StartPosition> starts{
      {"committed", StartPosition::kCommitted}, {"earliest", StartPosition::kEarliest}, {"latest", StartPosition::kLatest}};
  app.add_option("--from", options.from,
                 "Where to start reading: 'committed' (the group's position, earliest where it has none), "
                 "'earliest' or 'latest'. Default: committed.")
      ->envname("KAPPA_FROM")
      ->transform(CLI::CheckedTransformer(starts, CLI::ignore_case));
  app.add_option("--threads", options.threads, "Worker threads for tasks. Default: one per core.")
      ->envname("KAPPA_THREADS")
      ->check(CLI::Range(1, 1024));
  const std::map<std::string, ErrorPolicy> policies{{"fail", ErrorPolicy::kFail}, {"skip", ErrorPolicy::kSkip}};
  app.add_option("--on-error", options.on_error,
                 "What to do with a record that does not decode or makes the job's code throw: 'fail' (stop "
                 "with an error naming it) or 'skip' (count, log and go on). Default: fail.")
      ->envname("KAPPA_ON_ERROR")
      ->transform(CLI::CheckedTransformer(policies, CLI::ignore_case));
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error or off. Default: info.")
      ->envname("KAPPA_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}, CLI::ignore_case));
  app.add_option("-X", options.kafka_properties,
                 "A librdkafka property, key=value (both clients), consumer.key=value or producer.key=value. "
                 "Repeatable; in KAPPA_X, separate them with ';'.")
      ->envname("KAPPA_X")
      ->delimiter(';')
      ->allow_extra_args(false);
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
         "read back when next needed. Keys, timers and entries touched since the last checkpoint stay in memory. "
         "Needs --state-dir. Default: no budget, all state in memory.")
      ->envname("KAPPA_STATE_MEMORY");
  app.add_flag("--exactly-once", options.exactly_once,
               "Write every output inside a Kafka transaction that also commits the input offsets of its "
               "checkpoint, so that consumers with isolation.level=read_committed see each result exactly once "
               "(a crash discards the open transaction and resumes from the checkpoint the last committed one "
               "matches). Needs --state-dir, topics as input and outputs, and a real broker (not 'embedded'); one "
               "process per --job-id. Default: off (at-least-once output).")
      ->envname("KAPPA_EXACTLY_ONCE");
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

Status finish_job_options(JobOptions& options, const std::string& job_name) {
  if (options.job_id.empty()) options.job_id = job_name;
  if (options.threads == 0) options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Every output flag with its value; optional ones may be empty.
  std::vector<std::pair<std::string, const std::string*>> outputs{{"--output", &options.output},
                                                                  {"--late-output", &options.late_output}};
  for (const SideOutputOption& side : options.side_outputs) outputs.emplace_back("--" + side.name + "-output", &side.endpoint);
  bool uses_kafka = !options.input_is_file();
  for (const auto& [flag, endpoint] : outputs) uses_kafka |= !endpoint->empty() && !JobOptions::is_file(*endpoint);
  if (uses_kafka && options.brokers.empty()) {
    return Status::invalid_argument(
        "--brokers is needed because --input or --output is a topic (or set KAPPA_BROKERS); "
        "'--brokers embedded' starts an in-process test broker");
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
  if (options.state_memory_bytes > 0 && options.state_dir.empty()) {
    return Status::invalid_argument(
        "--state-memory needs --state-dir: state beyond the budget lives in RocksDB there");
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
