// Job: the main() of a compiled job. It parses the standard flags, opens the
// input and output they name, runs the pipeline on every input partition
// until SIGTERM (or the end of a bounded input), and prints a summary.
//
//   int main(int argc, char** argv) {
//     kappa::Job job("enrich", "Adds derived fields to each transaction");
//     return job.run(argc, argv, kappa::pipeline<Transaction>().map(&enrich));
//   }
//
// Values are decoded and encoded with the default codec of the pipeline's
// input and output types (Protobuf messages: binary or JSON by
// --input-format / --output-format; std::string or std::string_view: raw
// bytes), or with codecs
// passed to run().
#pragma once

#include <functional>
#include <memory>
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

  // Returns the process exit code: 0 after a clean stop, 1 on an error,
  // 2 on a usage error.
  template <class P>
  int run(int argc, char** argv, const P& pipeline) {
    return run_erased(argc, argv, [&](const JobOptions& options) {
      return make_factory(pipeline, default_codec<typename P::input_type>(options.input_format),
                          default_codec<typename P::output_type>(options.output_format), options.on_error);
    });
  }

  template <class P, class InCodec, class OutCodec>
  int run(int argc, char** argv, const P& pipeline, InCodec input_codec, OutCodec output_codec) {
    return run_erased(argc, argv, [&](const JobOptions& options) {
      return make_factory(pipeline, input_codec, output_codec, options.on_error);
    });
  }

 private:
  template <class P, class InCodec, class OutCodec>
  static TaskFactory make_factory(const P& pipeline, InCodec input_codec, OutCodec output_codec, ErrorPolicy policy) {
    return [=](const PartitionId& partition) -> std::unique_ptr<Task> {
      return std::make_unique<PipelineTask<P, InCodec, OutCodec>>(partition, policy, pipeline, input_codec,
                                                                  output_codec);
    };
  }

  int run_erased(int argc, char** argv, const std::function<TaskFactory(const JobOptions&)>& make_factory);

  std::string name_;
  std::string description_;
};

}  // namespace kappa
