// Must not compile: checkpointing a rolling window whose values (kept in its
// state) are neither trivially copyable, a string nor a Protobuf message.
#include <chrono>
#include <vector>

#include "operators/aggregate/builtins.h"
#include "operators/keyed/key_by.h"
#include "runtime/pipeline.h"
#include "runtime/state.h"

struct Reading {
  int sensor;
  std::vector<double> samples;
};

void checkpoint(kappa::TaskState& state) {
  auto p = kappa::pipeline<Reading>()
               .event_time(std::chrono::milliseconds(0))
               .then(kappa::key_by([](const Reading& r) { return r.sensor; })
                         .rolling(std::chrono::seconds(1))
                         .aggregate(kappa::agg::count()));
  p.checkpoint(state);
}

int main() {}
