// JobOptions: the flags every job executable accepts (DESIGN.md §7), each with
// a KAPPA_* environment twin, parsed with CLI11.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "runtime/status.h"
#include "runtime/task.h"

namespace CLI {
class App;
}

namespace kappa {

enum class StartPosition { kCommitted, kEarliest, kLatest };
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
  // Where to start when the group has no position, or always (earliest/latest).
  StartPosition from = StartPosition::kCommitted;
  // Worker threads. Default: one per core.
  int threads = 0;
  ErrorPolicy on_error = ErrorPolicy::kFail;
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
