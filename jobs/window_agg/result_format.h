// ResultFormat: turns the operators' results into window_agg's output lines,
// one JSON object per result (no newline; the sink adds it):
//
//   tumbling, hopping  {"<key>":"c1","window_start":0,"window_end":60000,"count":3,...[,"final":true]}
//   rolling            {<every field of the triggering event, as written>,"count":3,...}
//   none               {"<key>":"c1","count":3,...}
//
// The key is written as a string under the --key name; one field per
// aggregate, named as in --agg (distinct:merchant -> distinct_merchant); a
// result with no value, or one that is not finite (NaN, infinity), is null.
// "final" is written in --emit updates mode only. In a rolling result an
// event field with an aggregate's name is replaced by the aggregate.
// Immutable and copyable (each task's pipeline holds a copy).
#pragma once

#include <string>
#include <vector>

#include "jobs/window_agg/aggregate_spec.h"
#include "jobs/window_agg/json_aggregate.h"
#include "jobs/window_agg/json_record.h"
#include "operators/keyed/keyed_aggregate_operator.h"
#include "operators/window/window_result.h"

namespace kappa::window_agg {

using AggregateValues = JsonAggregate::result_type;

class ResultFormat {
 public:
  // with_final_flag: write "final" (--emit updates).
  ResultFormat(const std::string& key_field, const std::vector<AggregateSpec>& specs, bool with_final_flag);

  std::string window(const WindowResult<std::string, AggregateValues>& r) const;
  std::string rolling(const RollingResult<std::string, JsonRecord, AggregateValues>& r) const;
  std::string running(const KeyedResult<std::string, AggregateValues>& r) const;

 private:
  void append_aggregates(const AggregateValues& values, std::string& out) const;

  std::string key_member_;            // "card": (escaped, with the colon)
  std::vector<std::string> names_;    // the aggregates' output names, unescaped
  std::vector<std::string> members_;  // ,"count": (escaped, with a leading comma)
  bool with_final_flag_;
};

// Appends `text` as a JSON string, quotes included.
void append_json_string(std::string_view text, std::string& out);

}  // namespace kappa::window_agg
