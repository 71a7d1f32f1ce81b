// The interface between the runtime and an output connector.
#pragma once

#include <chrono>

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

}  // namespace kappa
