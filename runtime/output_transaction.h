// OutputTransaction: exactly-once output (--exactly-once, DESIGN.md §5).
//
// Every output of the job (results, late records, side outputs) is written
// inside one open transaction; at each checkpoint the job runner commits it
// together with the input positions the checkpoint recorded, so that a
// consumer reading committed data only sees each result once: a crash
// before the commit discards the transaction's outputs, and the restart
// resumes from the checkpoint whose positions the last committed
// transaction carried. connectors/kafka implements it with a transactional
// producer that sends the positions as the consumer group's offsets.
//
// Called from the runner's coordinator thread only, while every task is
// paused (no write in flight).
#pragma once

#include <vector>

#include "runtime/source.h"
#include "runtime/status.h"

namespace kappa {

class OutputTransaction {
 public:
  virtual ~OutputTransaction() = default;

  // Starts the transaction that the outputs written from now on belong to.
  // REQUIRES: no transaction open (none yet, or the last one committed or
  // aborted).
  virtual Status begin() = 0;

  // Atomically makes every output written since begin() visible and
  // `positions` the input's committed positions. REQUIRES: every sink
  // flushed. On an error the transaction's outputs are discarded (or will
  // be, when the next process with the same identity starts) and the job
  // must stop: its state has moved past outputs that no longer exist.
  virtual Status commit(const std::vector<PartitionPosition>& positions) = 0;

  // Discards every output written since begin(); for a job stopping after
  // a failure. Best effort: a transaction left open is aborted when the
  // job starts again.
  virtual Status abort() = 0;
};

}  // namespace kappa
