#include "jobs/window_agg/window_flags.h"

#include <CLI/CLI.hpp>
#include <set>

#include "runtime/duration.h"

namespace kappa::window_agg {
namespace {

constexpr std::string_view kWindowForms =
    "accepted: tumbling:SIZE[+OFFSET], hopping:SIZE/SLIDE, rolling:SIZE[/DELAY] or none";
constexpr std::string_view kDurations = ", with durations like 500ms, 10s, 5m, 1h, 7d";
constexpr std::string_view kAggregateForms =
    "accepted, comma-separated: count, sum, min, max, mean, variance, stddev, first, last, distinct:FIELD";

std::string in_quotes(std::string_view text) { return "'" + std::string(text) + "'"; }

// A duration in a flag's value; `what` names it in errors ("--window 'tumbling:abc'").
Result<std::chrono::milliseconds> duration_in(std::string_view what, std::string_view text, std::string_view forms) {
  Result<std::chrono::milliseconds> d = parse_duration(text);
  if (!d.is_ok()) {
    std::string message = std::string(what) + ": " + d.status().message();
    if (!forms.empty()) message += "; " + std::string(forms);
    return Status::invalid_argument(std::move(message));
  }
  if (*d > kMaxDuration) {
    return Status::invalid_argument(std::string(what) + ": " + in_quotes(text) +
                                    " is too long (at most 285,000 years)");
  }
  return *d;
}

// A standalone duration flag; empty means its default, 0.
Result<std::chrono::milliseconds> duration_flag(std::string_view flag, const std::string& text) {
  if (text.empty()) return std::chrono::milliseconds(0);
  return duration_in(std::string(flag) + " " + in_quotes(text), text, "");
}

std::string_view window_kind_name(WindowKind kind) {
  switch (kind) {
    case WindowKind::kTumbling:
      return "tumbling";
    case WindowKind::kHopping:
      return "hopping";
    case WindowKind::kRolling:
      return "rolling";
    case WindowKind::kNone:
      return "none";
  }
  return "?";
}

}  // namespace

Result<WindowChoice> parse_window(std::string_view text) {
  const std::string what = "--window " + in_quotes(text);
  auto bad = [&](std::string_view why) {
    return Status::invalid_argument(what + ": " + std::string(why) + "; " + std::string(kWindowForms) +
                                    std::string(kDurations));
  };
  if (text == "none") return WindowChoice{};

  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad("not a window");
  const std::string_view kind = text.substr(0, colon);
  const std::string_view args = text.substr(colon + 1);
  // SIZE, then optionally `separator` and a second duration.
  auto split = [&](char separator) -> Result<std::pair<std::chrono::milliseconds, std::chrono::milliseconds>> {
    const std::size_t at = args.find(separator);
    KAPPA_ASSIGN_OR_RETURN(std::chrono::milliseconds first, duration_in(what, args.substr(0, at), kWindowForms));
    std::chrono::milliseconds second{0};
    if (at != std::string_view::npos) {
      KAPPA_ASSIGN_OR_RETURN(second, duration_in(what, args.substr(at + 1), kWindowForms));
    }
    return std::pair{first, second};
  };

  WindowChoice w;
  if (kind == "tumbling") {
    KAPPA_ASSIGN_OR_RETURN(auto size_offset, split('+'));
    w.kind = WindowKind::kTumbling;
    w.size = w.slide = size_offset.first;
    w.offset = size_offset.second;
    if (w.size.count() == 0) return bad("the size must be more than 0");
    if (w.offset >= w.size) return bad("the offset must be less than the size");
  } else if (kind == "hopping") {
    if (args.find('/') == std::string_view::npos) return bad("hopping needs a slide, as in hopping:10m/1m");
    KAPPA_ASSIGN_OR_RETURN(auto size_slide, split('/'));
    w.kind = WindowKind::kHopping;
    w.size = size_slide.first;
    w.slide = size_slide.second;
    if (w.size.count() == 0) return bad("the size must be more than 0");
    if (w.slide.count() == 0 || w.slide > w.size) return bad("the slide must be more than 0 and at most the size");
  } else if (kind == "rolling") {
    KAPPA_ASSIGN_OR_RETURN(auto size_delay, split('/'));
    w.kind = WindowKind::kRolling;
    w.size = size_delay.first;
    w.delay = size_delay.second;
    if (w.size.count() == 0) return bad("the size must be more than 0");
  } else {
    return bad("not a window");
  }
  return w;
}

Result<std::vector<AggregateSpec>> parse_aggregates(std::string_view text) {
  static constexpr std::pair<std::string_view, AggregateKind> kNames[] = {
      {"count", AggregateKind::kCount},   {"sum", AggregateKind::kSum},     {"min", AggregateKind::kMin},
      {"max", AggregateKind::kMax},       {"mean", AggregateKind::kMean},   {"variance", AggregateKind::kVariance},
      {"stddev", AggregateKind::kStddev}, {"first", AggregateKind::kFirst}, {"last", AggregateKind::kLast},
  };
  auto bad = [&](std::string_view why) {
    return Status::invalid_argument("--agg " + in_quotes(text) + ": " + std::string(why) + "; " +
                                    std::string(kAggregateForms));
  };
  std::vector<AggregateSpec> specs;
  std::set<std::string> names;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    start = end + 1;
    if (item.empty()) return bad(text.empty() ? "name at least one aggregate" : "an empty item");

    AggregateSpec spec;
    if (item.starts_with("distinct:")) {
      spec.kind = AggregateKind::kDistinct;
      spec.field = std::string(item.substr(std::string_view("distinct:").size()));
      if (spec.field.empty()) return bad("distinct needs a field, as in distinct:merchant");
    } else if (item == "distinct") {
      return bad("distinct needs a field, as in distinct:merchant");
    } else {
      bool known = false;
      for (const auto& [name, kind] : kNames) {
        if (item == name) {
          spec.kind = kind;
          known = true;
        }
      }
      if (!known) return bad(in_quotes(item) + " is not an aggregate");
    }
    if (!names.insert(spec.output_name()).second) return bad(in_quotes(item) + " appears twice");
    specs.push_back(std::move(spec));
  }
  return specs;
}

Result<WindowAggConfig> make_config(const WindowAggFlags& flags) {
  WindowAggConfig config;
  if (flags.key.empty()) return Status::invalid_argument("--key FIELD is needed: the field to group by");
  config.key_field = flags.key;
  config.time_field = flags.time;
  KAPPA_ASSIGN_OR_RETURN(config.window, parse_window(flags.window));
  KAPPA_ASSIGN_OR_RETURN(config.aggregates, parse_aggregates(flags.aggregates));

  for (const AggregateSpec& spec : config.aggregates) {
    if (spec.uses_value() && flags.value.empty()) {
      return Status::invalid_argument("--agg " + spec.output_name() +
                                      " needs --value FIELD, the number field it aggregates");
    }
    if (spec.uses_value()) config.value_field = flags.value;
  }

  KAPPA_ASSIGN_OR_RETURN(config.out_of_orderness, duration_flag("--out-of-orderness", flags.out_of_orderness));
  KAPPA_ASSIGN_OR_RETURN(config.lateness, duration_flag("--lateness", flags.lateness));
  KAPPA_ASSIGN_OR_RETURN(config.ttl, duration_flag("--ttl", flags.ttl));
  if (flags.emit.empty() || flags.emit == "final") {
    config.emit = EmitMode::kFinal;
  } else if (flags.emit == "updates") {
    config.emit = EmitMode::kUpdates;
  } else {
    return Status::invalid_argument("--emit " + in_quotes(flags.emit) + ": accepted: final or updates");
  }

  // A flag that does not apply to the window is an error unless it holds its
  // default: silently ignoring it would hide a misunderstanding.
  const WindowKind kind = config.window.kind;
  const bool windowed = kind == WindowKind::kTumbling || kind == WindowKind::kHopping;
  const std::string window_is = " (--window is " + std::string(window_kind_name(kind)) + ")";
  if (!windowed && config.lateness.count() != 0) {
    return Status::invalid_argument("--lateness applies to tumbling and hopping windows only" + window_is);
  }
  if (!windowed && config.emit == EmitMode::kUpdates) {
    return Status::invalid_argument(
        "--emit updates applies to tumbling and hopping windows only; rolling and none emit one result per event" +
        window_is);
  }
  if (kind != WindowKind::kNone && config.ttl.count() != 0) {
    return Status::invalid_argument("--ttl applies to --window none only; windows drop their state as they close" +
                                    window_is);
  }

  // The key is written under its own name beside the results: it must not
  // collide with one of them.
  std::set<std::string> outputs;
  for (const AggregateSpec& spec : config.aggregates) outputs.insert(spec.output_name());
  if (windowed) outputs.insert({"window_start", "window_end", "final"});
  if (outputs.count(config.key_field) != 0) {
    return Status::invalid_argument("--key " + in_quotes(config.key_field) +
                                    " has the name of an output field; rename that field upstream");
  }
  return config;
}

void add_window_agg_flags(CLI::App& app, WindowAggFlags& flags) {
  app.add_option("--key", flags.key,
                 "Field to group by: a string, or a number (grouped by its decimal text). Required.")
      ->envname("KAPPA_KEY")
      ->required();
  app.add_option("--time", flags.time,
                 "Field holding the event time: epoch milliseconds (a number, or a string of digits as "
                 "Protobuf's JSON writes an int64) or an ISO-8601 string (2026-11-21T10:15:00Z, "
                 "2026-11-21T10:15:00.123+01:00; no zone = UTC). Default: the record's "
                 "timestamp (Kafka's; 0 for file lines).")
      ->envname("KAPPA_TIME");
  app.add_option("--value", flags.value,
                 "Number field that sum, min, max, mean, variance, stddev, first and last aggregate. A record "
                 "where it is missing or not a number has no value: ignored by them, still counted by count.")
      ->envname("KAPPA_VALUE");
  app.add_option("--window", flags.window,
                 "tumbling:SIZE[+OFFSET] (back-to-back windows aligned to the epoch, shifted by OFFSET), "
                 "hopping:SIZE/SLIDE (windows of SIZE starting every SLIDE), rolling:SIZE[/DELAY] (one result per "
                 "event over the key's events in (t-DELAY-SIZE, t-DELAY], the event included), or none (a running "
                 "aggregate per key, one result per event). Durations: 500ms, 10s, 5m, 1h, 7d. Required.")
      ->envname("KAPPA_WINDOW")
      ->required();
  app.add_option("--agg", flags.aggregates,
                 "Comma-separated aggregates, computed in one pass: count, sum, min, max, mean, variance, stddev "
                 "(sample), first, last (value at the earliest / latest event time), distinct:FIELD (approximate "
                 "distinct count of FIELD, HyperLogLog; output as distinct_FIELD). Required.")
      ->envname("KAPPA_AGG")
      ->required();
  app.add_option("--out-of-orderness", flags.out_of_orderness,
                 "How far behind the latest event time seen an event may arrive and still count: the watermark is "
                 "the largest event time minus this. Default: 0.")
      ->envname("KAPPA_OUT_OF_ORDERNESS");
  app.add_option("--lateness", flags.lateness,
                 "Tumbling and hopping: how long after a window has fired later events still update it (each update "
                 "re-emits the window). Later ones go to --late-output. Default: 0.")
      ->envname("KAPPA_LATENESS");
  app.add_option("--emit", flags.emit,
                 "Tumbling and hopping: 'final' (one result when the watermark passes the window's end) or "
                 "'updates' (a result after every event, then the final one; output has \"final\": true|false). "
                 "Default: final.")
      ->envname("KAPPA_EMIT");
  app.add_option("--ttl", flags.ttl,
                 "With --window none: a key's running aggregate starts over once this much event time has passed "
                 "since its last event. Default: never.")
      ->envname("KAPPA_TTL");
}

}  // namespace kappa::window_agg
