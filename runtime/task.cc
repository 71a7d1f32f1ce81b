#include "runtime/task.h"

#include <spdlog/spdlog.h>

namespace kappa {

Status Task::on_bad_record(const Record& record, std::string_view what, std::string_view detail) {
  if (policy_ == ErrorPolicy::kFail) {
    return Status::corruption("record at " + partition_.to_string() + " offset " + std::to_string(record.offset) +
                              " " + std::string(what) + ": " + std::string(detail) +
                              " (run with --on-error skip to count and skip such records)");
  }
  counters_.records_skipped.fetch_add(1, std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_skip_log_ < std::chrono::seconds(1)) {
    ++skips_not_logged_;
    return Status::ok();
  }
  last_skip_log_ = now;
  if (skips_not_logged_ > 0) {
    spdlog::warn("skipped record at {} offset {}: {}: {} ({} more skipped in the last second)", partition_.to_string(),
                 record.offset, what, detail, skips_not_logged_);
  } else {
    spdlog::warn("skipped record at {} offset {}: {}: {}", partition_.to_string(), record.offset, what, detail);
  }
  skips_not_logged_ = 0;
  return Status::ok();
}

}  // namespace kappa
