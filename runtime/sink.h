// The interface between the runtime and an output connector.
#pragma once

#include <chrono>
#include <utility>
#include <vector>

#include "runtime/output_batch.h"
#include "runtime/status.h"

namespace kappa {

// Called concurrently by every task; implementations are thread-safe.
class Sink {
 public:
  virtual ~Sink() = default;

  // Hands over one task's results, in order. May block while the connector's
  // buffer is full. An error (including an earlier delivery failure) is fatal
  // for the job: results are never dropped silently.
  virtual Status write(const OutputBatch& batch) = 0;

  // Returns once every result written so far is acknowledged (durably
  // written), or an error if one was not or the timeout passed.
  virtual Status flush(std::chrono::milliseconds timeout) = 0;
};

// Where a job's tasks write: results, records too late for their windows
// (only counted when null), side outputs (a features topic beside the
// scores, say), indexed as the job registered them, where a null side output
// was not asked for and receives nothing, and the dead letters of
// ErrorPolicy::kDeadLetter (required under that policy; batches with
// headers, so a sink that can write headers).
struct JobSinks {
  explicit JobSinks(Sink* results, Sink* late = nullptr, std::vector<Sink*> side = {}, Sink* dead_letters = nullptr)
      : results(results), late(late), side(std::move(side)), dead_letters(dead_letters) {}

  Sink* results;
  Sink* late;
  std::vector<Sink*> side;
  Sink* dead_letters;

  // Every non-null sink, for flushing.
  std::vector<Sink*> all() const {
    std::vector<Sink*> sinks{results};
    if (late != nullptr) sinks.push_back(late);
    for (Sink* s : side) {
      if (s != nullptr) sinks.push_back(s);
    }
    if (dead_letters != nullptr) sinks.push_back(dead_letters);
    return sinks;
  }
};

}  // namespace kappa
