// JsonLinesFileSource: a bounded source over a file of one record per line
// (JSON lines), so jobs run without a broker and tests can check outputs
// byte for byte. One partition; a record's offset is its line number
// (from 0), its key is empty and its timestamp 0. Blank lines (and lines of
// white space only) are skipped; trailing white space is trimmed.
// The job exits once the file is read and its results are flushed.
#pragma once

#include <string>

#include "runtime/source.h"

namespace kappa {

class JsonLinesFileSource final : public Source {
 public:
  // `resume_offset` (optional): the line the job's checkpoint says to resume
  // at, if it has one (see KafkaSourceOptions::resume_offset).
  explicit JsonLinesFileSource(std::string path, ResumeOffset resume_offset = nullptr)
      : path_(std::move(path)), resume_offset_(std::move(resume_offset)) {}

  Status start(SourceListener& listener) override;
  Status poll(std::chrono::milliseconds timeout) override;
  // A file has no group to tell: positions are not kept.
  Status commit(const std::vector<PartitionPosition>&) override { return Status::ok(); }
  bool bounded() const override { return true; }
  Status close() override;

 private:
  std::string path_;
  ResumeOffset resume_offset_;
  SourceListener* listener_ = nullptr;
  bool open_ = false;
};

}  // namespace kappa
