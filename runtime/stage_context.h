// StageContext: what a task offers the stages of its pipeline, beyond the
// elements themselves. Given to each stage that asks for it (a `bind` hook)
// once, before the first element; used from the task's thread only.
#pragma once

namespace kappa {

class StageContext {
 public:
  virtual ~StageContext() = default;

  // The input record being processed is too late for an operator's windows:
  // the task counts it and sends it (once, however many operators report it)
  // to the job's late output.
  virtual void report_late() = 0;
};

}  // namespace kappa
