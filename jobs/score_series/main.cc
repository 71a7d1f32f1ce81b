// score_series: the keyed anomaly scorer run offline over a CSV series
// (README.md in this folder), so that detectors can be evaluated on labelled
// data with the code that runs live: the points go through the same
// pipeline<...>().then(key_by(...).score(...)) a streaming job builds, under
// a single key, pushed in file order.
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "jobs/score_series/score_flags.h"
#include "jobs/score_series/series_csv.h"
#include "operators/anomaly/scorer.h"
#include "operators/keyed/key_by.h"
#include "runtime/pipeline.h"

namespace kappa::score_series {
namespace {

using namespace std::chrono_literals;

constexpr const char* kName = "score_series";

// The reader under the --on-error policy: with skip, malformed lines are
// counted and the first one's message kept for the summary.
class PointSource {
 public:
  PointSource(std::istream& in, OnError policy) : reader_(in), policy_(policy) {}

  // The next point, nullopt at the end; a malformed line's error under fail.
  Result<std::optional<SeriesPoint>> next() {
    while (true) {
      Result<std::optional<SeriesPoint>> point = reader_.next();
      if (point.is_ok() || policy_ == OnError::kFail || point.status().code() != StatusCode::kCorruption) {
        return point;
      }
      if (skipped_++ == 0) first_skipped_ = point.status().message();
    }
  }

  int64_t skipped() const { return skipped_; }
  const std::string& first_skipped() const { return first_skipped_; }

 private:
  SeriesReader reader_;
  OnError policy_;
  int64_t skipped_ = 0;
  std::string first_skipped_;
};

struct Totals {
  int64_t points = 0;
  int64_t alarms = 0;
};

// Scores the points read ahead, then the rest of `source`, into `writer`.
template <class Detectors>
Status score_all(PointSource& source, std::vector<SeriesPoint> ahead, Detectors detectors,
                 const anomaly::AlarmOptions& alarm, ScoreWriter& writer, Totals& totals) {
  auto scorer =
      pipeline<SeriesPoint>()
          .event_time([](const SeriesPoint& p) { return p.time; }, 0ms)
          .then(key_by([](const SeriesPoint&) { return 0; })
                    .score([](const SeriesPoint& p, std::span<double> out) { out[0] = p.value; }, std::move(detectors))
                    .alarm(alarm));
  auto sink = [&](Element<Scored<SeriesPoint>>&& e) {
    writer.row(e.value.value, e.value.score, e.value.alarm);
    ++totals.points;
    totals.alarms += e.value.alarm;
  };
  for (SeriesPoint& point : ahead) scorer.push(Element<SeriesPoint>{std::move(point), {}}, sink);
  while (true) {
    KAPPA_ASSIGN_OR_RETURN(std::optional<SeriesPoint> point, source.next());
    if (!point) break;
    scorer.push(Element<SeriesPoint>{std::move(*point), {}}, sink);
  }
  scorer.finish(sink);
  return Status::ok();
}

// hst without --min/--max: the range of the points' finite values, widened
// by 10 % of its width on each side (of the value itself, at least 0.1, when
// they are all equal); [0, 1] when there is no finite value.
Result<anomaly::FeatureRange> value_range(const std::vector<SeriesPoint>& points) {
  double lo = INFINITY;
  double hi = -INFINITY;
  for (const SeriesPoint& p : points) {
    if (!std::isfinite(p.value)) continue;
    lo = std::min(lo, p.value);
    hi = std::max(hi, p.value);
  }
  if (lo > hi) return anomaly::FeatureRange{0, 1};
  const double width = hi > lo ? hi - lo : std::max(std::fabs(lo), 1.0);
  const anomaly::FeatureRange range{lo - 0.1 * width, hi + 0.1 * width};
  if (!std::isfinite(range.min) || !std::isfinite(range.max) || !(range.min < range.max)) {
    return Status::invalid_argument("the first values span too wide a range to split; give --min and --max");
  }
  return range;
}

// Builds the --detector's detectors and scores the whole input.
Status score_series(const ScoreSeriesConfig& config, PointSource& source, ScoreWriter& writer, Totals& totals) {
  if (config.detector == DetectorKind::kZScore) {
    const anomaly::EwmaZScoreOptions options = config.zscore;
    return score_all(source, {}, anomaly::per_key([options] { return anomaly::EwmaZScore(options); }), config.alarm,
                     writer, totals);
  }
  anomaly::HalfSpaceTreesOptions options = config.hst;
  std::vector<SeriesPoint> ahead;
  if (options.ranges.empty()) {
    while (static_cast<int64_t>(ahead.size()) < options.window_size) {
      KAPPA_ASSIGN_OR_RETURN(std::optional<SeriesPoint> point, source.next());
      if (!point) break;
      ahead.push_back(std::move(*point));
    }
    KAPPA_ASSIGN_OR_RETURN(anomaly::FeatureRange range, value_range(ahead));
    options.ranges = {range};
  }
  KAPPA_ASSIGN_OR_RETURN(anomaly::HalfSpaceTrees trees, anomaly::HalfSpaceTrees::create(std::move(options)));
  return score_all(source, std::move(ahead), anomaly::per_task(std::move(trees)), config.alarm, writer, totals);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", kName, message.c_str());
  return 1;
}

int run(const ScoreSeriesConfig& config) {
  std::ifstream file;
  if (config.input != "-") {
    file.open(config.input);
    if (!file.is_open()) return fail("cannot open --input '" + config.input + "': " + std::strerror(errno));
  }
  std::istream& in = config.input == "-" ? std::cin : file;
  std::FILE* out = config.output == "-" ? stdout : std::fopen(config.output.c_str(), "w");
  if (out == nullptr) return fail("cannot open --output '" + config.output + "': " + std::strerror(errno));

  ScoreWriter writer(out);
  PointSource source(in, config.on_error);
  Totals totals;
  Status status = score_series(config, source, writer, totals);
  Status written = writer.finish();
  if (out != stdout && std::fclose(out) != 0 && written.is_ok()) {
    written = Status::data_loss("closing the output failed");
  }
  if (!status.is_ok()) {
    const bool malformed = status.code() == StatusCode::kCorruption;
    return fail(status.message() + (malformed ? "; --on-error skip skips malformed lines" : ""));
  }
  if (!written.is_ok()) return fail(written.message() + " ('" + config.output + "')");
  if (source.skipped() > 0) {
    std::fprintf(stderr, "%s: skipped %lld malformed line(s); the first: %s\n", kName,
                 static_cast<long long>(source.skipped()), source.first_skipped().c_str());
  }
  std::fprintf(stderr, "%s: %lld points scored, %lld alarms\n", kName, static_cast<long long>(totals.points),
               static_cast<long long>(totals.alarms));
  return 0;
}

}  // namespace
}  // namespace kappa::score_series

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  kappa::score_series::ScoreSeriesConfig config;
  if (std::optional<int> code = kappa::score_series::parse_score_series_flags(argc, argv, config)) return *code;
  return kappa::score_series::run(config);
}
