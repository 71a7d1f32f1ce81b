#include "tests/support/child_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

namespace kappa::testing {
namespace {

// Opens `path` for appending, or creates a temporary file when it is empty
// (and sets `path` to its name).
Result<int> open_log(std::string& path) {
  int fd;
  if (path.empty()) {
    char name[] = "/tmp/kappa-child-XXXXXX";
    fd = ::mkostemp(name, O_APPEND | O_CLOEXEC);
    path = name;
  } else {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  if (fd < 0) return Status::unavailable("cannot open " + path + ": " + std::strerror(errno));
  return fd;
}

// The child's side of fork(): only plain system calls, since the parent may
// have other threads. Does not return.
[[noreturn]] void exec_child(pid_t parent, char* const* args, int log_fd, int exec_error_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl()
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  const int in = ::open("/dev/null", O_RDONLY);
  if (in >= 0) ::dup2(in, STDIN_FILENO);
  ::execv(args[0], args);
  const int error = errno;
  [[maybe_unused]] ssize_t ignored = ::write(exec_error_fd, &error, sizeof error);
  ::_exit(127);
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const std::vector<std::string>& argv,
                                                          const std::string& log_path) {
  if (argv.empty()) return Status::invalid_argument("no program to run");
  // Everything the child needs is prepared before fork().
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::string path = log_path;
  const bool owns_log = log_path.empty();
  KAPPA_ASSIGN_OR_RETURN(const int log_fd, open_log(path));
  // exec() closes the write end (O_CLOEXEC); if exec fails the child writes errno into it.
  int exec_pipe[2];
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(log_fd);
    if (owns_log) ::unlink(path.c_str());
    return Status::internal(std::string("pipe2: ") + std::strerror(error));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) exec_child(parent, args.data(), log_fd, exec_pipe[1]);
  const int fork_error = errno;
  ::close(log_fd);
  ::close(exec_pipe[1]);
  if (pid < 0) {
    ::close(exec_pipe[0]);
    if (owns_log) ::unlink(path.c_str());
    return Status::internal(std::string("fork: ") + std::strerror(fork_error));
  }
  // From here on the destructor reaps the child and removes a temporary log.
  std::unique_ptr<ChildProcess> child(new ChildProcess(pid, std::move(path), owns_log));
  int exec_error = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &exec_error, sizeof exec_error);
  } while (n < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  if (n > 0) return Status::unavailable("cannot run " + argv[0] + ": " + std::strerror(exec_error));
  return child;
}

ChildProcess::~ChildProcess() {
  kill_and_reap();
  if (owns_log_) ::unlink(log_path_.c_str());
}

bool ChildProcess::running() { return !reap(/*block=*/false); }

void ChildProcess::signal(int signo) {
  if (running()) ::kill(pid_, signo);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(wait_status_) ? WEXITSTATUS(wait_status_) : -WTERMSIG(wait_status_);
}

Result<int> ChildProcess::terminate(std::chrono::milliseconds grace) {
  signal(SIGTERM);
  if (std::optional<int> code = wait(grace)) return *code;
  kill_and_reap();
  return Status::aborted("process " + std::to_string(pid_) + " did not exit within " +
                         std::to_string(grace.count() / 1000) + " s of SIGTERM; killed it");
}

bool ChildProcess::reap(bool block) {
  if (reaped_) return true;
  int status = 0;
  struct rusage usage {};
  pid_t r;
  do {
    r = ::wait4(pid_, &status, block ? 0 : WNOHANG, &usage);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  reaped_ = true;
  wait_status_ = status;
  cpu_seconds_ =
      usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  max_rss_bytes_ = static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
  return true;
}

void ChildProcess::kill_and_reap() {
  if (pid_ <= 0 || reaped_) return;
  ::kill(pid_, SIGKILL);
  (void)reap(/*block=*/true);
}

std::string ChildProcess::describe_exit() const {
  if (WIFEXITED(wait_status_)) return "exit code " + std::to_string(WEXITSTATUS(wait_status_));
  if (WIFSIGNALED(wait_status_)) {
    return "killed by signal " + std::to_string(WTERMSIG(wait_status_)) + " (" + strsignal(WTERMSIG(wait_status_)) +
           ")";
  }
  return "unknown wait status " + std::to_string(wait_status_);
}

std::string ChildProcess::output() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ChildProcess::output_tail(int lines) const {
  std::ifstream in(log_path_);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string text;
  for (const std::string& l : last) text += "  | " + l + "\n";
  return text;
}

Result<ProgramRun> run_to_exit(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> child, ChildProcess::spawn(argv));
  const std::optional<int> code = child->wait(timeout);
  if (!code) {
    return Status::aborted(argv[0] + " did not exit within " + std::to_string(timeout.count()) + " ms:\n" +
                           child->output_tail(20));
  }
  return ProgramRun{*code, child->output()};
}

}  // namespace kappa::testing
