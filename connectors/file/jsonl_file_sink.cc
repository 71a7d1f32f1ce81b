#include "connectors/file/jsonl_file_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kappa {

Result<std::unique_ptr<JsonLinesFileSink>> JsonLinesFileSink::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return Status::not_found("cannot create output file " + path + ": " + std::strerror(errno));
  return std::unique_ptr<JsonLinesFileSink>(new JsonLinesFileSink(file, path));
}

JsonLinesFileSink::~JsonLinesFileSink() { std::fclose(file_); }

Status JsonLinesFileSink::io_error(const char* what) const {
  return Status::data_loss(std::string(what) + " " + path_ + ": " + std::strerror(errno));
}

Status JsonLinesFileSink::write(const OutputBatch& batch) {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::string_view value = batch.value(i);
    if (std::fwrite(value.data(), 1, value.size(), file_) != value.size() || std::fputc('\n', file_) == EOF) {
      return io_error("cannot write to");
    }
  }
  return Status::ok();
}

Status JsonLinesFileSink::flush(std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  if (std::fflush(file_) != 0 || fdatasync(fileno(file_)) != 0) return io_error("cannot flush");
  return Status::ok();
}

}  // namespace kappa
