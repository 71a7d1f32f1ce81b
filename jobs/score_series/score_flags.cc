#include "jobs/score_series/score_flags.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <vector>

#include "runtime/duration.h"
#include "runtime/status.h"

namespace kappa::score_series {
namespace {

constexpr const char* kName = "score_series";
constexpr const char* kDescription =
    "score_series: scores a CSV series of timestamp,value lines with Kappa's anomaly scorer, offline.\n"
    "Output: timestamp,value,score,alarm, one row per input line (see README.md).\n"
    "Example: score_series --input series.csv --output scores.csv --detector zscore --half-life 100 "
    "--threshold 0.95 --quiet-period 10m";

// The flags that configure one detector: given with the other one, an error.
const std::vector<std::string> kZScoreFlags = {"--half-life", "--warmup", "--z-scale", "--clamp-sigmas",
                                               "--min-stddev"};
const std::vector<std::string> kHstFlags = {"--trees", "--height", "--window-size", "--seed", "--min", "--max"};

struct RawFlags {
  std::string detector;
  std::string quiet_period;
  std::string on_error = "fail";
  double min = 0;
  double max = 0;
};

void add_flags(CLI::App& app, ScoreSeriesConfig& config, RawFlags& raw) {
  app.add_option("--input", config.input, "CSV series to score, timestamp,value per line; - for stdin.")->required();
  app.add_option("--output", config.output, "CSV file to write, timestamp,value,score,alarm; - for stdout.")
      ->required();
  app.add_option("--detector", raw.detector, "zscore (EWMA robust z-score) or hst (Half-Space Trees).")
      ->required()
      ->check(CLI::IsMember({"zscore", "hst"}));

  anomaly::EwmaZScoreOptions& z = config.zscore;
  app.add_option("--half-life", z.half_life, "zscore: observations after which a value's weight halves.")
      ->capture_default_str();
  app.add_option("--warmup", z.warmup, "zscore: values learnt before scores are non-zero.")->capture_default_str();
  app.add_option("--z-scale", z.z_scale, "zscore: the score is 0.5 at z = 1.1774 * z-scale.")->capture_default_str();
  app.add_option("--clamp-sigmas", z.clamp_sigmas, "zscore: learnt values are clamped to mean +- this many sd.")
      ->capture_default_str();
  app.add_option("--min-stddev", z.min_stddev, "zscore: lower bound on the standard deviation.")->capture_default_str();

  anomaly::HalfSpaceTreesOptions& h = config.hst;
  app.add_option("--trees", h.trees, "hst: number of trees.")->capture_default_str();
  app.add_option("--height", h.height, "hst: depth of every tree.")->capture_default_str();
  app.add_option("--window-size", h.window_size, "hst: observations per window.")->capture_default_str();
  app.add_option("--seed", h.seed, "hst: seed of the random trees.")->capture_default_str();
  app.add_option("--min", raw.min, "hst: smallest expected value (with --max). Default: from the first window.");
  app.add_option("--max", raw.max, "hst: largest expected value (with --min). Default: from the first window.");

  app.add_option("--threshold", config.alarm.threshold, "Scores at or above it alarm, in [0, 1].")
      ->capture_default_str();
  app.add_option("--quiet-period", raw.quiet_period,
                 "Event time after an alarm during which no other alarm fires: 0, 500ms, 10s, 5m, 1h, 7d. "
                 "Default: 1m.");
  app.add_option("--on-error", raw.on_error, "fail (stop at a malformed line, exit 1) or skip (skip and count it).")
      ->capture_default_str()
      ->check(CLI::IsMember({"fail", "skip"}));
}

// Checks the flags together and completes `config`; the error names the flag.
Status finish_config(const CLI::App& app, const RawFlags& raw, ScoreSeriesConfig& config) {
  const bool hst = raw.detector == "hst";
  config.detector = hst ? DetectorKind::kHalfSpaceTrees : DetectorKind::kZScore;
  config.on_error = raw.on_error == "skip" ? OnError::kSkip : OnError::kFail;
  for (const std::string& flag : hst ? kZScoreFlags : kHstFlags) {
    if (app.count(flag) > 0) {
      return Status::invalid_argument(flag + " applies to --detector " + (hst ? "zscore" : "hst") + " only");
    }
  }
  if (!raw.quiet_period.empty()) {
    Result<std::chrono::milliseconds> quiet = parse_duration(raw.quiet_period);
    if (!quiet.is_ok()) return Status::invalid_argument("--quiet-period: " + quiet.status().message());
    config.alarm.quiet_period_ms = quiet->count();
  }
  KAPPA_RETURN_IF_ERROR(config.alarm.validate());
  if (!hst) return config.zscore.validate();

  if ((app.count("--min") > 0) != (app.count("--max") > 0)) {
    return Status::invalid_argument(
        "--min and --max go together: give both, or neither to take the range of the "
        "first --window-size values");
  }
  if (app.count("--min") > 0) {
    if (!(raw.min < raw.max)) return Status::invalid_argument("--min must be less than --max");
    config.hst.ranges = {{raw.min, raw.max}};
    return config.hst.validate();
  }
  anomaly::HalfSpaceTreesOptions probe = config.hst;  // a placeholder range, to check the other options now
  probe.ranges = {{0, 1}};
  return probe.validate();
}

}  // namespace

std::optional<int> parse_score_series_flags(int argc, char** argv, ScoreSeriesConfig& config) {
  CLI::App app(kDescription, kName);
  RawFlags raw;
  add_flags(app, config, raw);
  auto usage_error = [](const std::string& message) {
    std::fprintf(stderr, "%s: %s\n", kName, message.c_str());
    return 2;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    return usage_error(std::string(e.what()) + "; run with --help to see every flag");
  }
  const Status status = finish_config(app, raw, config);
  if (!status.is_ok()) return usage_error(status.message());
  return std::nullopt;
}

}  // namespace kappa::score_series
