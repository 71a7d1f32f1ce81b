// score_series' flags (README.md in this folder): parsed with CLI11, checked
// together, and turned into a ScoreSeriesConfig. Every error is one line that
// names the flag.
#pragma once

#include <optional>
#include <string>

#include "operators/anomaly/alarm.h"
#include "operators/anomaly/ewma_zscore.h"
#include "operators/anomaly/half_space_trees.h"

namespace kappa::score_series {

enum class DetectorKind {
  kZScore,          // EwmaZScore over the value
  kHalfSpaceTrees,  // HalfSpaceTrees over the feature vector [value]
};

enum class OnError {
  kFail,  // a malformed line stops the run: exit 1
  kSkip,  // a malformed line is skipped and counted
};

struct ScoreSeriesConfig {
  std::string input;   // a path, or "-" for stdin
  std::string output;  // a path, or "-" for stdout
  DetectorKind detector = DetectorKind::kZScore;
  anomaly::EwmaZScoreOptions zscore;  // zscore; validated
  // hst; validated except `ranges`, which holds the --min/--max range when
  // both were given and is empty otherwise (the runner derives one).
  anomaly::HalfSpaceTreesOptions hst;
  anomaly::AlarmOptions alarm;  // validated
  OnError on_error = OnError::kFail;
};

// Parses and checks the command line into `config`. Returns the exit code to
// leave with (0 after --help, 2 after a usage error, with one line printed to
// stderr), or nullopt to go on and run.
std::optional<int> parse_score_series_flags(int argc, char** argv, ScoreSeriesConfig& config);

}  // namespace kappa::score_series
