// Job: the main() of a compiled job. It parses the standard flags, opens the
// input and output they name, runs the pipeline on every input partition
// until SIGTERM (or the end of a bounded input), and prints a summary.
//
//   int main(int argc, char** argv) {
//     kappa::Job job("enrich", "Adds derived fields to each transaction");
//     return job.run(argc, argv, kappa::pipeline<Transaction>().map(&enrich));
//   }
//
// A job with flags of its own registers them (add_flags), calls parse(),
// builds its pipeline from them, then calls run(pipeline).
//
// Values are decoded and encoded with the default codec of the pipeline's
// input and output types (Protobuf messages: binary or JSON by
// --input-format / --output-format; std::string or std::string_view: raw
// bytes), or with codecs
// passed to run().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "connectors/codec/bytes_codec.h"
#include "connectors/codec/message_codec.h"
#include "runtime/job_options.h"
#include "runtime/job_runner.h"
#include "runtime/pipeline.h"
#include "runtime/task.h"

namespace kappa {

template <class T>
auto default_codec(WireFormat format) {
  if constexpr (ProtobufMessage<T>) {
    return MessageCodec<T>(format);
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    (void)format;
    return BytesCodec{};
  } else {
    static_assert(ProtobufMessage<T> || std::is_same_v<T, std::string>,
                  "no default codec for this type: use a Protobuf message, std::string or std::string_view, or "
                  "pass codecs to Job::run(argc, argv, pipeline, input_codec, output_codec)");
  }
}

class Job {
 public:
  Job(std::string name, std::string description) : name_(std::move(name)), description_(std::move(description)) {}

  // Registers flags of the job's own (CLI11), parsed with the standard ones.
  // Call before parse().
  void add_flags(std::function<void(CLI::App&)> add) { add_own_flags_ = std::move(add); }

  // Registers an output the job writes beside its results (the features of
  // every scored transaction, say): flag --<name>-output (a topic or
  // file:PATH; not written when absent). Returns the index to give
  // Pipeline::side_output. Call before parse().
  std::size_t add_side_output(std::string name, std::string description) {
    options_.side_outputs.push_back({std::move(name), std::move(description), {}});
    return options_.side_outputs.size() - 1;
  }
  // After parse(): the codec for values of type T written to an output
  // (--output-format's encoding).
  template <class T>
  auto output_codec() const {
    return default_codec<T>(options_.output_format);
  }

  // Parses the flags. Returns the exit code to leave with (0 after --help, 2
  // on a usage error, with one line printed), or nullopt to go on to run().
  std::optional<int> parse(int argc, char** argv);
  // After parse(): the standard flags' values.
  const JobOptions& options() const { return options_; }
  // For a job's own check of its flags: prints "<job>: <message>" and
  // returns the exit code for a usage error (2).
  int usage_error(const std::string& message) const;

  // Runs `pipeline` (after parse()) and returns the process exit code: 0
  // after a clean stop, 1 on an error.
  template <class P>
  int run(const P& pipeline) {
    return run(pipeline, default_codec<typename P::input_type>(options_.input_format),
               default_codec<typename P::output_type>(options_.output_format));
  }
  template <class P, class InCodec, class OutCodec>
  int run(const P& pipeline, InCodec input_codec, OutCodec output_codec) {
    const ErrorPolicy policy = options_.on_error;
    return run_tasks([=](const PartitionId& partition) -> std::unique_ptr<Task> {
      return std::make_unique<PipelineTask<P, InCodec, OutCodec>>(partition, policy, pipeline, input_codec,
                                                                  output_codec);
    });
  }

  // parse() then run(), for jobs with no flags of their own.
  template <class P>
  int run(int argc, char** argv, const P& pipeline) {
    if (std::optional<int> code = parse(argc, argv)) return *code;
    return run(pipeline);
  }

 private:
  int run_tasks(TaskFactory make_task);

  std::string name_;
  std::string description_;
  std::function<void(CLI::App&)> add_own_flags_;
  JobOptions options_;
  bool parsed_ = false;
};

}  // namespace kappa
