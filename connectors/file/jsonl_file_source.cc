#include "connectors/file/jsonl_file_source.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

namespace kappa {
namespace {

class FileReader final : public PartitionReader {
 public:
  // Lines before `first_line` are skipped (a restart resuming from a checkpoint).
  FileReader(std::FILE* file, std::string path, int64_t first_line)
      : file_(file), path_(std::move(path)), first_line_(first_line) {}
  ~FileReader() override {
    std::fclose(file_);
    std::free(line_);
  }

  // A file never makes a task wait, so there is nothing to wake.
  void set_wakeup(std::function<void()>) override {}

  Result<ReadStatus> read(std::vector<Record>& batch, std::size_t max_records) override {
    batch.clear();
    buffer_.clear();
    line_ends_.clear();
    line_numbers_.clear();
    while (line_ends_.size() < max_records) {
      const ssize_t n = getline(&line_, &line_capacity_, file_);
      if (n < 0) {
        if (std::ferror(file_)) return Status::unavailable("reading " + path_ + ": " + std::strerror(errno));
        break;
      }
      std::size_t size = static_cast<std::size_t>(n);
      while (size > 0 && std::isspace(static_cast<unsigned char>(line_[size - 1]))) --size;
      const int64_t number = next_line_++;
      if (size == 0 || number < first_line_) continue;
      buffer_.append(line_, size);
      line_ends_.push_back(buffer_.size());
      line_numbers_.push_back(number);
    }
    if (line_ends_.empty()) return ReadStatus::kEnd;
    // Views are made once the buffer has stopped growing.
    std::size_t begin = 0;
    for (std::size_t i = 0; i < line_ends_.size(); ++i) {
      Record r;
      r.value = std::string_view(buffer_).substr(begin, line_ends_[i] - begin);
      r.offset = line_numbers_[i];
      batch.push_back(r);
      begin = line_ends_[i];
    }
    return ReadStatus::kRecords;
  }

 private:
  std::FILE* file_;
  std::string path_;
  int64_t first_line_;
  char* line_ = nullptr;  // getline's buffer, reused for every line
  std::size_t line_capacity_ = 0;
  std::string buffer_;
  std::vector<std::size_t> line_ends_;
  std::vector<int64_t> line_numbers_;
  int64_t next_line_ = 0;
};

}  // namespace

Status JsonLinesFileSource::start(SourceListener& listener) {
  listener_ = &listener;
  std::FILE* file = std::fopen(path_.c_str(), "rb");
  if (file == nullptr) {
    return Status::not_found("cannot open input file " + path_ + ": " + std::strerror(errno));
  }
  open_ = true;
  const PartitionId id{path_, 0};
  const int64_t first_line = resume_offset_ ? resume_offset_(id).value_or(0) : 0;
  listener.on_assigned(id, std::make_unique<FileReader>(file, path_, first_line));
  return Status::ok();
}

Status JsonLinesFileSource::poll(std::chrono::milliseconds timeout) {
  // No group events for a file: just give the coordinator its pace.
  std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(10)));
  return Status::ok();
}

Status JsonLinesFileSource::close() {
  if (open_) {
    open_ = false;
    listener_->on_revoked({PartitionId{path_, 0}});
  }
  return Status::ok();
}

}  // namespace kappa
