// JsonLinesFileSink: writes each result's value as one line of a file.
// Values must be text without newlines (JSON); keys and timestamps are not
// written. flush() makes the lines durable (fdatasync).
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/sink.h"

namespace kappa {

class JsonLinesFileSink final : public Sink {
 public:
  // kCreate starts an empty file. kAppend keeps what the file holds up to
  // its last complete line (a process killed mid-write may have left half a
  // line) and writes after it: a job resuming from a checkpoint appends, and
  // re-emits what it had written after that checkpoint, byte for byte.
  enum class Mode { kCreate, kAppend };
  static Result<std::unique_ptr<JsonLinesFileSink>> open(const std::string& path, Mode mode = Mode::kCreate);
  ~JsonLinesFileSink() override;

  Status write(const OutputBatch& batch) override;
  Status flush(std::chrono::milliseconds timeout) override;

 private:
  JsonLinesFileSink(std::FILE* file, std::string path) : file_(file), path_(std::move(path)) {}
  Status io_error(const char* what) const;

  std::mutex mu_;
  std::FILE* file_;
  std::string path_;
};

}  // namespace kappa
