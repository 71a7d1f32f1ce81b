#include "connectors/file/jsonl_file_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kappa {

namespace {

// Cuts a half-written last line off the end of `file` (open for reading and
// writing), leaving it positioned at its end.
bool drop_partial_last_line(std::FILE* file) {
  if (std::fseek(file, 0, SEEK_END) != 0) return false;
  long end = std::ftell(file);
  long keep = end;
  while (keep > 0) {
    if (std::fseek(file, keep - 1, SEEK_SET) != 0) return false;
    if (std::fgetc(file) == '\n') break;
    --keep;
  }
  if (keep != end && ftruncate(fileno(file), keep) != 0) return false;
  return std::fseek(file, keep, SEEK_SET) == 0;
}

}  // namespace

Result<std::unique_ptr<JsonLinesFileSink>> JsonLinesFileSink::open(const std::string& path, Mode mode) {
  std::FILE* file = nullptr;
  if (mode == Mode::kAppend) {
    file = std::fopen(path.c_str(), "r+b");
    if (file == nullptr && errno == ENOENT) file = std::fopen(path.c_str(), "wb");
    if (file != nullptr && !drop_partial_last_line(file)) {
      std::fclose(file);
      return Status::data_loss("cannot append to output file " + path + ": " + std::strerror(errno));
    }
  } else {
    file = std::fopen(path.c_str(), "wb");
  }
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
  if (std::fflush(file_) != 0) return io_error("cannot flush");
  // EINVAL: a file that cannot be synced at all (/dev/null, a pipe); there is
  // nothing durable to wait for.
  if (fdatasync(fileno(file_)) != 0 && errno != EINVAL) return io_error("cannot flush");
  return Status::ok();
}

}  // namespace kappa
