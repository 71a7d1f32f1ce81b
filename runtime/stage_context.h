// StageContext: what a task offers the stages of its pipeline, beyond the
// elements themselves. Given to each stage that asks for it (a `bind` hook)
// once, before the first element; used from the task's thread only.
#pragma once

#include <cstddef>

#include "runtime/output_batch.h"

namespace kappa {

class StageContext {
 public:
  virtual ~StageContext() = default;

  // The input record being processed is too late for an operator's windows:
  // the task counts it and sends it (once, however many operators report it)
  // to the job's late output.
  virtual void report_late() = 0;

  // The batch a stage appends the current record's side output `index` to
  // (see Pipeline::side_output), or null when the job runs without it.
  virtual OutputBatch* side_output(std::size_t /*index*/) { return nullptr; }
};

}  // namespace kappa
