// AlarmFilter: turns a stream of scores into alarms. An alarm fires when a
// score reaches the threshold, unless an earlier alarm fired less than
// quiet_period_ms of EVENT TIME before: one incident (a burst of anomalous
// transactions on a card, say) raises one alarm, not one per record.
//
//   AlarmFilter alarms({.threshold = 0.9, .quiet_period_ms = 60'000});
//   bool alarm = alarms.observe(score, event_time);
//
// observe(score, t) fires iff score >= threshold and either no alarm fired
// yet or t >= t_last + quiet_period_ms, where t_last is the time of the last
// alarm that fired. Suppressed scores do not extend the quiet period. An
// out-of-order t earlier than t_last counts as inside the quiet period. A NaN
// score never fires. Quiet period 0: every score at or above the threshold
// fires.
//
// One filter per key (or per task, for a per-task detector); called from one
// task's thread. Deterministic. serialize()/deserialize() follow detector.h
// (bytes appended / read from the front; false and unchanged on bad bytes).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "operators/aggregate/encoding.h"
#include "runtime/record.h"
#include "runtime/status.h"

namespace kappa::anomaly {

struct AlarmOptions {
  // Scores at or above it alarm, in [0, 1]. Default 0.9.
  double threshold = 0.9;
  // Event time after an alarm during which no other alarm fires, >= 0.
  // Default 60 000 (one minute).
  int64_t quiet_period_ms = 60'000;

  Status validate() const {
    if (!(threshold >= 0 && threshold <= 1)) return Status::invalid_argument("alarm: threshold must be in [0, 1]");
    if (quiet_period_ms < 0) return Status::invalid_argument("alarm: quiet_period_ms must be >= 0");
    return Status::ok();
  }
};

class AlarmFilter {
 public:
  // REQUIRES: options.validate().is_ok() (checked).
  explicit AlarmFilter(const AlarmOptions& options = {}) : options_(options) {
    KAPPA_CHECK(options.validate().is_ok(), options.validate().message());
  }

  // True if this score raises an alarm; then t becomes the last alarm's time.
  bool observe(double score, Timestamp t) {
    if (!(score >= options_.threshold)) return false;
    if (has_alarmed_) {
      if (t < last_alarm_) return false;
      // Unsigned: t - last_alarm_ cannot overflow once t >= last_alarm_.
      const uint64_t since = static_cast<uint64_t>(t) - static_cast<uint64_t>(last_alarm_);
      if (since < static_cast<uint64_t>(options_.quiet_period_ms)) return false;
    }
    has_alarmed_ = true;
    last_alarm_ = t;
    return true;
  }

  bool has_alarmed() const { return has_alarmed_; }
  Timestamp last_alarm() const { return last_alarm_; }  // meaningful if has_alarmed()

  void serialize(std::string& out) const {
    agg::encoding::put_bool(out, has_alarmed_);
    if (has_alarmed_) agg::encoding::put_i64(out, last_alarm_);
  }

  [[nodiscard]] bool deserialize(std::string_view& in) {
    bool has_alarmed;
    int64_t last = 0;
    if (!agg::encoding::get_bool(in, has_alarmed)) return false;
    if (has_alarmed && !agg::encoding::get_i64(in, last)) return false;
    has_alarmed_ = has_alarmed;
    last_alarm_ = last;
    return true;
  }

 private:
  AlarmOptions options_;
  bool has_alarmed_ = false;
  Timestamp last_alarm_ = 0;
};

}  // namespace kappa::anomaly
