// window_agg's own flags: registered with CLI11 as raw text (WindowAggFlags),
// then checked together and turned into a plain WindowAggConfig. Every error
// is one line that names the flag and the forms it accepts, for
// Job::usage_error (exit 2).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/window_agg/aggregate_spec.h"
#include "operators/window/emit_mode.h"
#include "runtime/status.h"

namespace CLI {
class App;
}

namespace kappa::window_agg {

enum class WindowKind {
  kTumbling,  // tumbling:SIZE[+OFFSET]
  kHopping,   // hopping:SIZE/SLIDE
  kRolling,   // rolling:SIZE[/DELAY]
  kNone,      // none: a running aggregate per key
};

struct WindowChoice {
  WindowKind kind = WindowKind::kNone;
  std::chrono::milliseconds size{0};    // tumbling, hopping, rolling
  std::chrono::milliseconds slide{0};   // hopping; tumbling: = size
  std::chrono::milliseconds offset{0};  // tumbling, < size
  std::chrono::milliseconds delay{0};   // rolling

  friend bool operator==(const WindowChoice&, const WindowChoice&) = default;
};

// The flags as typed; an empty string means "not given".
struct WindowAggFlags {
  std::string key;
  std::string time;
  std::string value;
  std::string window;
  std::string aggregates;
  std::string out_of_orderness;
  std::string lateness;
  std::string emit;
  std::string ttl;
};

// What the job runs. Durations are within 0 .. kMaxDuration.
struct WindowAggConfig {
  std::string key_field;
  std::string time_field;   // empty: the record's own timestamp (Kafka's)
  std::string value_field;  // empty when no aggregate reads it
  WindowChoice window;
  std::vector<AggregateSpec> aggregates;          // at least one, no two with the same output name
  std::chrono::milliseconds out_of_orderness{0};  // default 0
  std::chrono::milliseconds lateness{0};          // tumbling and hopping; default 0
  EmitMode emit = EmitMode::kFinal;               // tumbling and hopping; default final
  std::chrono::milliseconds ttl{0};               // none; default 0 = state never expires
};

// Durations are capped (2^53 ms, about 285,000 years) so that window
// arithmetic on event times cannot overflow.
inline constexpr std::chrono::milliseconds kMaxDuration{int64_t{1} << 53};

// Registers --key, --time, --value, --window, --agg, --out-of-orderness,
// --lateness, --emit and --ttl, with their --help text.
void add_window_agg_flags(CLI::App& app, WindowAggFlags& flags);

// Parses one --window value.
Result<WindowChoice> parse_window(std::string_view text);
// Parses one --agg value: a comma-separated list.
Result<std::vector<AggregateSpec>> parse_aggregates(std::string_view text);
// Checks every flag and their combinations.
Result<WindowAggConfig> make_config(const WindowAggFlags& flags);

}  // namespace kappa::window_agg
