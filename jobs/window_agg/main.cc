// window_agg: keyed event-time aggregation over JSON records, configured by
// flags instead of C++ (README.md in this folder). The window kind changes
// the pipeline's type, so each kind builds and runs its own pipeline.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "connectors/codec/bytes_codec.h"
#include "jobs/common/job.h"
#include "jobs/window_agg/json_aggregate.h"
#include "jobs/window_agg/json_record.h"
#include "jobs/window_agg/record_fields.h"
#include "jobs/window_agg/result_format.h"
#include "jobs/window_agg/window_flags.h"
#include "operators/keyed/key_by.h"
#include "runtime/pipeline.h"

namespace kappa::window_agg {
namespace {

constexpr const char* kDescription =
    "window_agg: keyed event-time aggregation over JSON records.\n"
    "Input: one JSON object per record (a Kafka record's value, or a line of a file). --key and --time name "
    "its fields; a record without them, or with the wrong type, is bad and follows --on-error.\n"
    "Output: one JSON object per result: the key under the --key name (as a string), window_start and "
    "window_end (epoch ms) for tumbling and hopping windows, every field of the triggering event for rolling "
    "windows, then one field per aggregate named as in --agg (distinct:F -> distinct_F); null where there is no "
    "value. The output record's key is the group key.\n"
    "Example: window_agg --input file:events.jsonl --output file:out.jsonl --key card --time ts --value amount "
    "--window tumbling:1m --agg count,sum,mean,distinct:merchant --out-of-orderness 5s";

// Builds the --window pipeline after `timed` (which stamps event times) and runs it.
template <class Timed>
int run_window(Job& job, const WindowAggConfig& config, const Timed& timed) {
  const JsonAggregate aggregate(config.aggregates, config.value_field);
  const ResultFormat format(config.key_field, config.aggregates, config.emit == EmitMode::kUpdates);
  const KeyOf key(config.key_field);
  const WindowChoice& w = config.window;
  switch (w.kind) {
    case WindowKind::kTumbling:
    case WindowKind::kHopping: {
      const SliceAssigner assigner(w.size.count(), w.slide.count(), w.offset.count());
      auto windows = key_by(key).window(assigner);
      windows.allowed_lateness(config.lateness).emit(config.emit);
      auto p = timed.then(windows.aggregate(aggregate)).map([format](const auto& r) { return format.window(r); });
      return job.run(p, JsonRecordCodec{}, BytesCodec{});
    }
    case WindowKind::kRolling: {
      auto p = timed.then(key_by(key).rolling(w.size, w.delay).aggregate(aggregate)).map([format](const auto& r) {
        return format.rolling(r);
      });
      return job.run(p, JsonRecordCodec{}, BytesCodec{});
    }
    case WindowKind::kNone: {
      auto keyed = key_by(key);
      keyed.ttl(config.ttl);
      auto p = timed.then(keyed.aggregate(aggregate)).map([format](const auto& r) { return format.running(r); });
      return job.run(p, JsonRecordCodec{}, BytesCodec{});
    }
  }
  return job.usage_error("unknown --window kind");
}

int run(Job& job, const WindowAggConfig& config) {
  const auto records = pipeline<JsonRecord>();
  if (config.time_field.empty()) return run_window(job, config, records.event_time(config.out_of_orderness));
  return run_window(job, config, records.event_time(EventTimeOf{config.time_field}, config.out_of_orderness));
}

}  // namespace
}  // namespace kappa::window_agg

int main(int argc, char** argv) {
  using namespace kappa::window_agg;
  kappa::Job job("window_agg", kDescription);
  WindowAggFlags flags;
  job.add_flags([&flags](CLI::App& app) { add_window_agg_flags(app, flags); });
  if (std::optional<int> code = job.parse(argc, argv)) return *code;
  const kappa::JobOptions& options = job.options();
  if ((options.input_format_given && options.input_format != kappa::WireFormat::kJson) ||
      (options.output_format_given && options.output_format != kappa::WireFormat::kJson)) {
    return job.usage_error("--input-format and --output-format can only be json: this job reads and writes JSON records");
  }
  kappa::Result<WindowAggConfig> config = make_config(flags);
  if (!config.is_ok()) return job.usage_error(config.status().message());
  if (config->time_field.empty() && job.options().input_is_file()) {
    std::fprintf(stderr,
                 "window_agg: warning: no --time with a file input: every line has timestamp 0, so all events "
                 "fall at the same instant\n");
  }
  return run(job, *config);
}
