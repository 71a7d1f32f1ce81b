#include "state/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace kappa::state_internal {
namespace {

namespace fs = std::filesystem;

Status io_error(const std::string& what, const std::string& path, int error) {
  return Status::unavailable("cannot " + what + " " + path + ": " + std::strerror(error));
}

Status io_error(const std::string& what, const std::string& path, const std::error_code& error) {
  return Status::unavailable("cannot " + what + " " + path + ": " + error.message());
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close(2) reports write-back errors that fsync may not have: check it.
  int release_and_close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd);
  }

 private:
  int fd_;
};

Status write_all(int fd, std::string_view content, const std::string& path) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("write", path, errno);
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::ok();
}

std::string parent_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

Status write_file_synced(const std::string& path, std::string_view content) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return io_error("create", path, errno);
  KAPPA_RETURN_IF_ERROR(write_all(fd.get(), content, path));
  if (::fsync(fd.get()) != 0) return io_error("fsync", path, errno);
  if (fd.release_and_close() != 0) return io_error("close", path, errno);
  return Status::ok();
}

Status rename_synced(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return io_error("rename " + from + " to", to, errno);
  return sync_dir(parent_of(to));
}

Status sync_dir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return io_error("fsync directory", dir, errno);
  return Status::ok();
}

Status write_file_atomically(const std::string& path, std::string_view content) {
  const std::string temp = path + ".tmp";
  KAPPA_RETURN_IF_ERROR(write_file_synced(temp, content));
  return rename_synced(temp, path);
}

Result<std::string> read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::not_found(path + " does not exist");
    return io_error("open", path, errno);
  }
  std::string content;
  char buffer[1 << 14];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("read", path, errno);
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

Status copy_file(const std::string& from, const std::string& to) {
  std::error_code error;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, error);
  if (error) return io_error("copy " + from + " to", to, error);
  return Status::ok();
}

Result<std::vector<std::string>> list_dir(const std::string& dir) {
  std::error_code error;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    names.push_back(it->path().filename().string());
  }
  if (error) return io_error("list", dir, error);
  std::sort(names.begin(), names.end());
  return names;
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status create_dirs(const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return io_error("create directory", dir, error);
  if (!is_directory(dir)) return Status::invalid_argument(dir + " exists and is not a directory");
  return Status::ok();
}

Status remove_all(const std::string& path) {
  std::error_code error;
  fs::remove_all(path, error);
  if (error) return io_error("remove", path, error);
  return Status::ok();
}

}  // namespace kappa::state_internal
