#include "state/state_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>

#include "state/files.h"
#include "state/manifest.h"

namespace kappa::state_internal {
namespace {

constexpr std::string_view kCheckpointPrefix = "chk-";
constexpr std::string_view kIdentityMagic = "kappa-state";

std::string join(const std::string& dir, std::string_view name) { return dir + "/" + std::string(name); }

struct Identity {
  std::string job_id;
  int format_version = 0;
};

std::string encode_identity(const Identity& identity) {
  return std::string(kIdentityMagic) + "\nformat " + std::to_string(identity.format_version) + "\njob " +
         escape_field(identity.job_id) + "\n";
}

// Accepts the lines in any order after the first; nullopt if malformed.
std::optional<Identity> decode_identity(std::string_view text) {
  Identity identity;
  bool has_format = false, has_job = false;
  bool first = true;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (first) {
      if (line != kIdentityMagic) return std::nullopt;
      first = false;
    } else if (line.starts_with("format ")) {
      const std::string_view value = line.substr(7);
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), identity.format_version);
      if (error != std::errc() || end != value.data() + value.size()) return std::nullopt;
      has_format = true;
    } else if (line.starts_with("job ")) {
      if (!unescape_field(line.substr(4), identity.job_id)) return std::nullopt;
      has_job = true;
    } else if (!line.empty()) {
      return std::nullopt;
    }
  }
  if (!has_format || !has_job) return std::nullopt;
  return identity;
}

bool holds_state(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (name == kWorkDir || name.starts_with(kCheckpointPrefix)) return true;
  }
  return false;
}

}  // namespace

std::string checkpoint_dir_name(uint64_t id) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%010llu", static_cast<unsigned long long>(id));
  return std::string(kCheckpointPrefix) + digits;
}

std::optional<uint64_t> parse_checkpoint_dir_name(std::string_view name) {
  if (!name.starts_with(kCheckpointPrefix)) return std::nullopt;
  const std::string_view digits = name.substr(kCheckpointPrefix.size());
  uint64_t id = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return id;
}

Result<std::vector<uint64_t>> list_checkpoints(const std::string& state_dir) {
  KAPPA_ASSIGN_OR_RETURN(const std::vector<std::string> names, list_dir(state_dir));
  std::vector<uint64_t> ids;
  for (const std::string& name : names) {
    const std::optional<uint64_t> id = parse_checkpoint_dir_name(name);
    if (id && is_directory(join(state_dir, name))) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Status remove_leftovers(const std::string& state_dir) {
  KAPPA_ASSIGN_OR_RETURN(const std::vector<std::string> names, list_dir(state_dir));
  for (const std::string& name : names) {
    const bool leftover =
        name == std::string(kWorkDir) + ".restore" ||
        (name.starts_with(kCheckpointPrefix) && (name.ends_with(".tmp") || name.ends_with(".deleting")));
    if (leftover) KAPPA_RETURN_IF_ERROR(remove_all(join(state_dir, name)));
  }
  return Status::ok();
}

Status check_identity(const std::string& state_dir, const std::string& job_id, int format_version) {
  const std::string path = join(state_dir, kIdentityFile);
  Result<std::string> text = read_file(path);
  if (!text.is_ok() && text.status().code() != StatusCode::kNotFound) return text.status();
  if (!text.is_ok()) {
    KAPPA_ASSIGN_OR_RETURN(const std::vector<std::string> names, list_dir(state_dir));
    if (holds_state(names)) {
      return Status::invalid_argument("state dir " + state_dir + " holds checkpoints but no " +
                                      std::string(kIdentityFile) +
                                      " file saying which job they belong to: use another --state-dir");
    }
    KAPPA_RETURN_IF_ERROR(write_file_atomically(path, encode_identity({job_id, format_version})));
    return Status::ok();
  }
  const std::optional<Identity> found = decode_identity(*text);
  if (!found) {
    return Status::invalid_argument("state dir " + state_dir + " has an unreadable " + std::string(kIdentityFile) +
                                    " file: use another --state-dir (or repair the file: its lines are "
                                    "\"kappa-state\", \"format <n>\", \"job <id>\")");
  }
  if (found->format_version != format_version) {
    return Status::invalid_argument("state dir " + state_dir + " holds state in format version " +
                                    std::to_string(found->format_version) + " but this build reads version " +
                                    std::to_string(format_version) +
                                    ": use another --state-dir, or the Kappa version that wrote it");
  }
  if (found->job_id != job_id) {
    return Status::invalid_argument("state dir " + state_dir + " holds the state of job '" + found->job_id +
                                    "', not of job '" + job_id + "': use another --state-dir, or --job-id '" +
                                    found->job_id + "' to resume that job");
  }
  return Status::ok();
}

Result<std::unique_ptr<StateDirLock>> StateDirLock::acquire(const std::string& state_dir) {
  const std::string path = join(state_dir, kLockFile);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::unavailable("cannot open " + path + ": " + std::strerror(errno));
  std::unique_ptr<StateDirLock> lock(new StateDirLock(fd));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error != EWOULDBLOCK) return Status::unavailable("cannot lock " + path + ": " + std::strerror(error));
    char pid[32] = {};
    const ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
    const std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : std::string("unknown");
    return Status::unavailable("state dir " + state_dir + " is in use by another process (pid " + holder +
                               "): stop it, or use another --state-dir");
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return Status::unavailable("cannot write " + path + ": " + std::strerror(errno));
  }
  return lock;
}

StateDirLock::~StateDirLock() { ::close(fd_); }

}  // namespace kappa::state_internal
