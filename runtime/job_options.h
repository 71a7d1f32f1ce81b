// JobOptions: the flags every job executable accepts (DESIGN.md §7), each with
// a KAPPA_* environment twin, parsed with CLI11.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/status.h"
#include "runtime/task.h"

namespace CLI {
class App;
}

namespace kappa {

// Where a job starts reading a partition it has no checkpoint for (--from).
enum class StartPosition {
  kCommitted,  // the group's position; earliest where it has none
  kEarliest,
  kLatest,
  kTime,     // the first record at or after JobOptions::from_time_ms
  kOffsets,  // JobOptions::from_offsets; earliest for a partition it does not list
};
// Where a bounded replay ends (--until): the job pins each partition's end
// when it starts, exits once every partition reached it, and reads nothing
// beyond it.
enum class EndPosition {
  kNever,   // a live run
  kLatest,  // the partitions' end offsets when the job starts
  kTime,    // the first record at or after JobOptions::until_time_ms (the end offset where there is none)
};
enum class WireFormat { kDefault, kProtobuf, kJson };

// An extra output a job writes beside its results (Pipeline::side_output):
// a topic, file:PATH, or nothing when its flag is not given.
struct SideOutputOption {
  std::string name;         // the flag is --<name>-output, the variable KAPPA_<NAME>_OUTPUT
  std::string description;  // what the job writes there, for --help
  std::string endpoint;     // the flag's value
};

struct JobOptions {
  // Kafka bootstrap servers, or "embedded" to start a test broker in-process.
  // Needed when the input or output is a topic.
  std::string brokers;
  // Consumer group and state namespace. Default: the job's name.
  std::string job_id;
  // A topic (or comma-separated topics) or file:PATH.
  std::string input;
  // A topic or file:PATH.
  std::string output;
  // Where records too late for the job's windows go: a topic, file:PATH, or
  // nowhere (empty; they are counted either way).
  std::string late_output;
  // Registered by the job before parsing, indexed as Pipeline::side_output's index.
  std::vector<SideOutputOption> side_outputs;
  // Where to start reading a partition that has no checkpoint: with
  // kCommitted only where the group has no position; otherwise the first
  // time this process is assigned the partition.
  StartPosition from = StartPosition::kCommitted;
  int64_t from_time_ms = 0;                    // kTime: milliseconds since the epoch
  std::string from_offsets_file;               // kOffsets: the file --from named
  std::map<PartitionId, int64_t> from_offsets;  // kOffsets: read from it by finish_job_options
  // Where a bounded replay stops; kNever for a live run.
  EndPosition until = EndPosition::kNever;
  int64_t until_time_ms = 0;  // kTime: milliseconds since the epoch
  // Where /metrics, /healthz and /readyz are served (host:port; port 0
  // picks a free one). Empty: not served.
  std::string metrics_addr = "127.0.0.1:9464";
  // Whether --metrics-addr was given: a job that cannot bind the default
  // address warns and runs on (another job has it); one that cannot bind
  // the address it was given stops.
  bool metrics_addr_given = false;
  // Worker threads. Default: one per core.
  int threads = 0;
  // What to do with a record that does not decode or makes the job's code throw.
  ErrorPolicy on_error = ErrorPolicy::kFail;
  // The topic bad records are written to under ErrorPolicy::kDeadLetter
  // (--on-error dlq), which needs it; empty otherwise.
  std::string dlq_topic;
  std::string log_level = "info";
  // librdkafka properties: key=value, consumer.key=value, producer.key=value.
  std::vector<std::string> kafka_properties;
  std::chrono::milliseconds checkpoint_interval{10'000};
  // RocksDB state and checkpoints; empty: state in memory only.
  std::string state_dir;
  // Bytes of keyed state kept in memory (an estimate); colder entries live
  // in RocksDB only. Needs state_dir. 0: no budget, all state in memory.
  int64_t state_memory_bytes = 0;
  // Exactly-once output through Kafka transactions: results, their input
  // positions and the checkpoint commit together, so read_committed
  // consumers see each result once. Needs state_dir, topics as input and
  // outputs, and a real broker. Default: off (at-least-once output).
  bool exactly_once = false;
  // Value encodings. Default: protobuf for topics, JSON for files.
  WireFormat input_format = WireFormat::kDefault;
  WireFormat output_format = WireFormat::kDefault;
  // Whether the formats were given (or are the defaults just described), for
  // jobs that support only one format.
  bool input_format_given = false;
  bool output_format_given = false;

  static constexpr const char* kFilePrefix = "file:";
  static bool is_file(const std::string& endpoint) { return endpoint.rfind(kFilePrefix, 0) == 0; }
  bool input_is_file() const { return is_file(input); }
  bool output_is_file() const { return is_file(output); }
  bool late_output_is_file() const { return is_file(late_output); }
};

// Registers the standard flags on `app`, writing into `options`.
void add_job_flags(CLI::App& app, JobOptions& options);

// Checks what the flags cannot check one by one; call after parsing. Fills
// in defaults that depend on other values (job id, threads, formats).
Status finish_job_options(JobOptions& options, const std::string& job_name);

// Parses argv into `options`, plus the job's own flags that `add_job_own_flags`
// registers (if given). On --help, prints help and returns kAborted with an
// empty message; on a bad flag returns kInvalidArgument with one line that
// names the flag.
Status parse_job_flags(int argc, const char* const* argv, const std::string& job_name, const std::string& description,
                       JobOptions& options, const std::function<void(CLI::App&)>& add_job_own_flags = {});

}  // namespace kappa
