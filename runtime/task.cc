#include "runtime/task.h"

#include <spdlog/spdlog.h>

namespace kappa {
namespace {

// What happened to a bad record, for log lines and errors.
std::string_view what_happened(BadRecordKind kind) {
  return kind == BadRecordKind::kDecode ? "does not decode" : "made the job's code throw";
}

}  // namespace

std::string_view error_kind_name(BadRecordKind kind) {
  return kind == BadRecordKind::kDecode ? "decode" : "user-code";
}

Status Task::on_bad_record(const Record& record, BadRecordKind kind, std::string_view detail,
                           OutputBatch& dead_letters) {
  switch (policy_) {
    case ErrorPolicy::kFail:
      return Status::corruption("record at " + partition_.to_string() + " offset " + std::to_string(record.offset) +
                                " " + std::string(what_happened(kind)) + ": " + std::string(detail) +
                                " (run with --on-error skip to count and skip such records, or with --on-error dlq "
                                "--dlq-topic T to write them to topic T)");
    case ErrorPolicy::kSkip:
      counters_.records_skipped.fetch_add(1, std::memory_order_relaxed);
      log_bad_record("skipped", record, kind, detail);
      return Status::ok();
    case ErrorPolicy::kDeadLetter: {
      std::vector<Header> headers;
      record.headers.for_each([&](const Header& h) { headers.push_back(h); });
      const std::string partition = std::to_string(record.partition);
      const std::string offset = std::to_string(record.offset);
      headers.push_back({dead_letter_header::kSourceTopic, partition_.topic});
      headers.push_back({dead_letter_header::kSourcePartition, partition});
      headers.push_back({dead_letter_header::kSourceOffset, offset});
      headers.push_back({dead_letter_header::kErrorKind, error_kind_name(kind)});
      headers.push_back({dead_letter_header::kErrorMessage, detail});
      dead_letters.add_with_headers(record.key, record.value, record.timestamp, headers);
      counters_.records_dead_lettered.fetch_add(1, std::memory_order_relaxed);
      log_bad_record("dead-lettered", record, kind, detail);
      return Status::ok();
    }
  }
  return Status::internal("unknown error policy");
}

void Task::log_bad_record(const char* done, const Record& record, BadRecordKind kind, std::string_view detail) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_bad_record_log_ < std::chrono::seconds(1)) {
    ++bad_records_not_logged_;
    return;
  }
  last_bad_record_log_ = now;
  if (bad_records_not_logged_ > 0) {
    spdlog::warn("{} record at {} offset {}: {}: {} ({} more bad records in the last second)", done,
                 partition_.to_string(), record.offset, what_happened(kind), detail, bad_records_not_logged_);
  } else {
    spdlog::warn("{} record at {} offset {}: {}: {}", done, partition_.to_string(), record.offset,
                 what_happened(kind), detail);
  }
  bad_records_not_logged_ = 0;
}

}  // namespace kappa
