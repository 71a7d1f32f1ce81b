// checkpoint_bench: what checkpoints cost a hopping-window job with many keys
// of state, and how long a restart after a kill takes (DESIGN.md §5, §8).
//
// In-process, no Kafka: a checkpoint's cost is the operator state and
// RocksDB (state/CheckpointStore), not the broker. One task (partition
// bench/0) on one thread: event_time -> key_by(key).window(hopping(1h, 1min))
// .aggregate(count + sum), 64-bit keys. Event time starts at t0, a minute
// boundary. A child process runs the job and is killed:
//   load        one event per key in each of the --slices minutes up to t0
//               (one slice of state per key and minute);
//   first       checkpoint: every key is written (the first, full one);
//   rounds      --rounds times: one event for each of a random
//               --changed-fraction of the keys (distinct keys), event time
//               staying inside the minute after t0 so that no window ends and
//               nothing else changes; then a checkpoint, taken as the job
//               runner takes it (Checkpointer below). Its pause, what the
//               task waits for at the barrier, is Pipeline::checkpoint()
//               (serializing the changed keys); CheckpointStore::commit()
//               then runs on another thread while the next round's events
//               go in, and is reported apart;
//   window end  event time reaches t0 + 1 min: every key's window ending
//               there fires, which touches every key; then a checkpoint,
//               reported apart (every key changed: outside the 10% case);
//   reference   follow-up events up to the next window end; a digest of the
//               results;
//   kill        events and a Pipeline::checkpoint() never committed, SIGKILL.
// The parent then restarts: CheckpointStore::open (verify, rebuild work/
// from the newest checkpoint), a fresh pipeline, Pipeline::restore(), the
// same follow-up events. recovery_ms ends at the first result the restored
// pipeline emits; its results must have the reference's digest.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench/keyed_events.h"
#include "operators/aggregate/builtins.h"
#include "operators/keyed/key_by.h"
#include "runtime/pipeline.h"
#include "state/checkpoint_store.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using kappa::CheckpointStore;
using kappa::Element;
using kappa::Result;
using kappa::Status;
using kappa::Timestamp;

const kappa::PartitionId kPartition{"bench", 0};
constexpr const char* kJobId = "checkpoint-bench";
constexpr Timestamp kMinute = 60'000;
constexpr Timestamp kT0 = 28'333'334 * kMinute;  // 2023-11-14, a minute boundary

struct Config {
  int64_t keys = 1'000'000;
  // Enough that p99 is not the largest pause: one slow round (a compaction
  // on the other core, the machine's neighbours) is the max, not the p99.
  int rounds = 100;
  double changed_fraction = 0.1;
  int slices = 1;
};

using Event = kappa::bench::KeyedEvent;
using kappa::bench::mix;

auto make_job() {
  auto key_of = [](const Event& e) { return e.key; };
  const auto count_and_sum = kappa::agg::aggregates(kappa::agg::count(), kappa::agg::sum([](const Event& e) {
                                                      return e.amount;
                                                    }));
  return kappa::pipeline<Event>().event_time(0ms).then(
      kappa::key_by(key_of).window(kappa::hopping(1h, 1min)).aggregate(count_and_sum));
}
using Job = decltype(make_job());

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}
double ms(std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1000.0; }

// Pushes one event for key index `index` at time `t`; `offset` counts the
// events, as a source's offsets would.
template <class Sink>
void push(Job& job, int64_t index, Timestamp t, int64_t& offset, Sink& sink) {
  Element<Event> e{};
  e.value.key = mix(static_cast<uint64_t>(index));
  e.value.amount = static_cast<double>((index * 7 + t / 1000) % 1000);
  e.meta.timestamp = t;
  job.push(std::move(e), sink);
  ++offset;
}

// Events for up to 1000 keys spread over the key space at `at`, then one at
// `window_end`, which moves the watermark there and fires every key's
// windows that end at or before it.
template <class Sink>
void follow_up(Job& job, const Config& c, Timestamp at, Timestamp window_end, int64_t& offset, Sink& sink) {
  const int64_t sample = std::min<int64_t>(c.keys, 1000);
  for (int64_t i = 0; i < sample; ++i) push(job, i * (c.keys / sample), at, offset, sink);
  push(job, 0, window_end, offset, sink);
}

// Results in emission order, as a count and an order-dependent hash.
struct Digest {
  uint64_t results = 0;
  uint64_t hash = 0;
  template <class R>
  void add(const R& r) {
    ++results;
    for (uint64_t x : {static_cast<uint64_t>(r.key), static_cast<uint64_t>(r.start), static_cast<uint64_t>(r.end),
                       static_cast<uint64_t>(std::get<0>(r.value)), std::bit_cast<uint64_t>(std::get<1>(r.value))}) {
      hash = mix(hash ^ x);
    }
  }
};

// One checkpoint, in milliseconds: the pause and the commit's steps.
struct Pause {
  double total = 0;   // what the task waits for: Pipeline::checkpoint(), serializing the changed keys
  double commit = 0;  // CheckpointStore::commit(), in the background while the task goes on
  double write_batch = 0, checkpoint_files = 0, manifest = 0, prune = 0;  // CheckpointInfo's steps
  uint64_t changes = 0;    // state entries written or removed
  uint64_t bytes = 0;      // CheckpointInfo::size_bytes: every file, shared SSTs too
  uint64_t new_bytes = 0;  // files that no earlier checkpoint holds (hard links share the rest)
};

// Bytes of the files in the checkpoint directories whose inodes are not in
// `seen` (which gets them): what the newest checkpoint added to the disk.
uint64_t new_checkpoint_bytes(const std::string& dir, std::set<std::pair<dev_t, ino_t>>& seen) {
  uint64_t bytes = 0;
  std::error_code error;
  for (const auto& chk : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = chk.path().filename().string();
    if (!name.starts_with("chk-") || name.ends_with(".deleting")) continue;
    for (const auto& file : std::filesystem::directory_iterator(chk.path(), error)) {
      struct stat st {};
      if (::stat(file.path().c_str(), &st) == 0 && S_ISREG(st.st_mode) && seen.insert({st.st_dev, st.st_ino}).second) {
        bytes += static_cast<uint64_t>(st.st_size);
      }
    }
  }
  return bytes;
}

// Checkpoints the way the job runner takes them with at-least-once output
// (runtime/job_runner.cc): the task pauses while its changed keys are
// serialized, then goes on while the store commits on another thread; the
// next checkpoint first waits for that commit, which the task does not
// (the runner waits before the barrier).
class Checkpointer {
 public:
  Checkpointer(Job& job, CheckpointStore& store) : job_(job), store_(store) {}
  ~Checkpointer() {
    if (commit_.valid()) commit_.wait();
  }

  // Finishes the previous checkpoint, then begins one at `offset`.
  Status begin(int64_t offset) {
    KAPPA_RETURN_IF_ERROR(finish());
    const Clock::time_point start = Clock::now();
    job_.checkpoint(store_.task(kPartition));
    current_ = Pause{};
    current_.total = ms_since(start);
    commit_ = std::async(std::launch::async, [this, offset] { return store_.commit({{kPartition, offset}}, {}); });
    return Status::ok();
  }

  // Waits for the checkpoint begun last; its figures go to done().
  Status finish() {
    if (!commit_.valid()) return Status::ok();
    KAPPA_ASSIGN_OR_RETURN(const kappa::CheckpointInfo info, commit_.get());
    current_.commit = ms(info.total);
    current_.write_batch = ms(info.write_batch);
    current_.checkpoint_files = ms(info.checkpoint_files);
    current_.manifest = ms(info.manifest);
    current_.prune = ms(info.prune);
    current_.changes = info.state_changes;
    current_.bytes = info.size_bytes;
    current_.new_bytes = new_checkpoint_bytes(store_.state_dir(), seen_files_);
    done_.push_back(current_);
    return Status::ok();
  }

  // Every finished checkpoint, oldest first.
  const std::vector<Pause>& done() const { return done_; }

 private:
  Job& job_;
  CheckpointStore& store_;
  std::future<Result<kappa::CheckpointInfo>> commit_;
  Pause current_;
  std::vector<Pause> done_;
  std::set<std::pair<dev_t, ino_t>> seen_files_;
};

// Nearest-rank percentiles: with 100 rounds, p99 is the second largest
// pause (with fewer than 100, the largest).
struct Spread {
  double p50 = 0, p99 = 0, max = 0;
};
template <class T>
Spread spread(const std::vector<Pause>& pauses, T Pause::*field) {
  std::vector<double> v;
  for (const Pause& p : pauses) v.push_back(static_cast<double>(p.*field));
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) { return v[static_cast<std::size_t>(std::max(1.0, std::ceil(q * v.size()))) - 1]; };
  return v.empty() ? Spread{} : Spread{rank(0.5), rank(0.99), v.back()};
}

// What the job process measured; plain bytes through a pipe.
struct JobReport {
  double load_ms = 0;
  Pause first, last_round, window_end;
  Spread total, commit, write_batch, checkpoint_files, manifest, prune, new_bytes;
  uint64_t changed_keys = 0;  // per round
  uint64_t checkpoint_id = 0;
  int64_t offset = 0;         // committed by the last checkpoint
  Digest reference;
  char error[512] = {};
};
static_assert(std::is_trivially_copyable_v<JobReport>);

// The job process: everything before the kill (see the top of the file).
Status run_job(const Config& c, const std::string& dir, JobReport& report) {
  KAPPA_ASSIGN_OR_RETURN(auto store, CheckpointStore::open(dir, kJobId));
  Job job = make_job();
  Checkpointer checkpointer(job, *store);
  int64_t offset = 0;
  uint64_t results = 0;
  auto count = [&](auto&&) { ++results; };

  Clock::time_point start = Clock::now();
  for (int m = c.slices - 1; m >= 0; --m) {
    for (int64_t k = 0; k < c.keys; ++k) push(job, k, kT0 - m * kMinute, offset, count);
  }
  report.load_ms = ms_since(start);
  KAPPA_RETURN_IF_ERROR(checkpointer.begin(offset));
  KAPPA_RETURN_IF_ERROR(checkpointer.finish());
  report.first = checkpointer.done().back();

  // Distinct random keys each round: a partial Fisher-Yates shuffle.
  std::vector<uint32_t> order(static_cast<std::size_t>(c.keys));
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 random(42);
  const auto changed = static_cast<std::size_t>(std::llround(c.changed_fraction * static_cast<double>(c.keys)));
  const Timestamp step = std::min<Timestamp>(1000, (kMinute - 1000) / c.rounds);
  for (int r = 1; r <= c.rounds; ++r) {
    // Pushed while the previous round's commit runs, as a task would.
    for (std::size_t i = 0; i < changed; ++i) {
      std::swap(order[i], order[i + random() % (order.size() - i)]);
      push(job, order[i], kT0 + r * step, offset, count);
    }
    KAPPA_RETURN_IF_ERROR(checkpointer.begin(offset));
  }
  KAPPA_RETURN_IF_ERROR(checkpointer.finish());
  const std::vector<Pause> pauses(checkpointer.done().begin() + 1, checkpointer.done().end());
  report.changed_keys = changed;
  report.last_round = pauses.back();
  report.total = spread(pauses, &Pause::total);
  report.commit = spread(pauses, &Pause::commit);
  report.write_batch = spread(pauses, &Pause::write_batch);
  report.checkpoint_files = spread(pauses, &Pause::checkpoint_files);
  report.manifest = spread(pauses, &Pause::manifest);
  report.prune = spread(pauses, &Pause::prune);
  report.new_bytes = spread(pauses, &Pause::new_bytes);

  follow_up(job, c, kT0 + kMinute - 1, kT0 + kMinute, offset, count);
  KAPPA_RETURN_IF_ERROR(checkpointer.begin(offset));
  KAPPA_RETURN_IF_ERROR(checkpointer.finish());
  report.window_end = checkpointer.done().back();
  report.checkpoint_id = store->checkpoint_id();
  report.offset = offset;

  int64_t uncommitted = offset;
  auto digest = [&](auto&& r) { report.reference.add(r.value); };
  follow_up(job, c, kT0 + kMinute + kMinute / 2, kT0 + 2 * kMinute, uncommitted, digest);
  // Work after the last checkpoint that the kill loses: more events, and
  // their state in the pending batch, never committed.
  for (std::size_t i = 0; i < changed; ++i) push(job, order[i], kT0 + 2 * kMinute + 1000, uncommitted, count);
  job.checkpoint(store->task(kPartition));
  return Status::ok();
}

bool write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* data, std::size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Runs the job in a child process, which SIGKILLs itself once it has sent
// its report: the restart then finds what a real kill leaves behind.
Result<JobReport> run_job_and_kill(const Config& c, const std::string& dir) {
  int fds[2];
  if (::pipe(fds) != 0) return Status::internal(std::string("pipe: ") + std::strerror(errno));
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return Status::internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    JobReport report;
    const Status status = run_job(c, dir, report);
    if (!status.is_ok()) std::snprintf(report.error, sizeof report.error, "%s", status.message().c_str());
    if (!write_all(fds[1], &report, sizeof report) || !status.is_ok()) ::_exit(1);
    ::kill(::getpid(), SIGKILL);
    ::_exit(1);
  }
  ::close(fds[1]);
  JobReport report;
  const bool complete = read_all(fds[0], &report, sizeof report);
  ::close(fds[0]);
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!complete) return Status::internal("the job process ended without a report");
  if (report.error[0] != '\0') return Status::internal(std::string("the job process failed: ") + report.error);
  if (!WIFSIGNALED(wait_status) || WTERMSIG(wait_status) != SIGKILL) {
    return Status::internal("the job process was not killed by SIGKILL");
  }
  return report;
}

struct RecoveryReport {
  double open_ms = 0;      // CheckpointStore::open: verify, rebuild work/, open RocksDB
  double restore_ms = 0;   // a fresh pipeline and Pipeline::restore()
  double recovery_ms = 0;  // from open() to the first result of the follow-up events
  uint64_t checkpoint_id = 0;
  int64_t offset = -1;
  Digest digest;
};

Result<RecoveryReport> recover(const Config& c, const std::string& dir) {
  RecoveryReport report;
  const Clock::time_point start = Clock::now();
  KAPPA_ASSIGN_OR_RETURN(auto store, CheckpointStore::open(dir, kJobId));
  report.open_ms = ms_since(start);
  const Clock::time_point opened = Clock::now();
  Job job = make_job();
  KAPPA_RETURN_IF_ERROR(job.restore(store->task(kPartition)));
  report.restore_ms = ms_since(opened);
  report.checkpoint_id = store->checkpoint_id();
  report.offset = store->offset(kPartition).value_or(-1);
  int64_t offset = report.offset;
  auto sink = [&](auto&& r) {
    if (report.digest.results == 0) report.recovery_ms = ms_since(start);
    report.digest.add(r.value);
  };
  follow_up(job, c, kT0 + kMinute + kMinute / 2, kT0 + 2 * kMinute, offset, sink);
  return report;
}

// Bytes of the files under `dir`, each hard-linked file counted once.
uint64_t disk_bytes(const std::string& dir) {
  std::set<std::pair<dev_t, ino_t>> seen;
  uint64_t bytes = 0;
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode) && seen.insert({st.st_dev, st.st_ino}).second) {
      bytes += static_cast<uint64_t>(st.st_size);
    }
  }
  return bytes;
}

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

void print_json(const Config& c, const JobReport& j, const RecoveryReport& r, uint64_t state_dir_bytes, bool ok) {
  std::printf(
      "{\"keys\":%lld,\"slices\":%d,\"rounds\":%d,\"changed_fraction\":%g,\"changed_keys\":%llu,"
      "\"pause_p50_ms\":%.2f,\"pause_p99_ms\":%.2f,\"pause_max_ms\":%.2f,"
      "\"commit_p50_ms\":%.2f,\"commit_p99_ms\":%.2f,\"write_batch_p50_ms\":%.2f,\"write_batch_p99_ms\":%.2f,"
      "\"checkpoint_files_p50_ms\":%.2f,\"checkpoint_files_p99_ms\":%.2f,\"manifest_p50_ms\":%.2f,"
      "\"manifest_p99_ms\":%.2f,\"prune_p50_ms\":%.2f,\"prune_p99_ms\":%.2f,"
      "\"checkpoint_bytes\":%llu,\"checkpoint_new_bytes_p50\":%.0f,\"checkpoint_new_bytes_max\":%.0f,"
      "\"state_dir_bytes\":%llu,\"first_checkpoint_pause_ms\":%.1f,\"first_checkpoint_commit_ms\":%.1f,"
      "\"first_checkpoint_bytes\":%llu,\"window_end_pause_ms\":%.1f,\"window_end_commit_ms\":%.1f,"
      "\"window_end_changes\":%llu,\"load_ms\":%.0f,\"open_ms\":%.1f,\"restore_ms\":%.1f,\"recovery_ms\":%.1f,"
      "\"ok\":%s}\n",
      static_cast<long long>(c.keys), c.slices, c.rounds, c.changed_fraction,
      static_cast<unsigned long long>(j.changed_keys), j.total.p50, j.total.p99, j.total.max, j.commit.p50,
      j.commit.p99, j.write_batch.p50, j.write_batch.p99, j.checkpoint_files.p50, j.checkpoint_files.p99,
      j.manifest.p50, j.manifest.p99, j.prune.p50, j.prune.p99, static_cast<unsigned long long>(j.last_round.bytes),
      j.new_bytes.p50, j.new_bytes.max, static_cast<unsigned long long>(state_dir_bytes), j.first.total,
      j.first.commit, static_cast<unsigned long long>(j.first.bytes), j.window_end.total, j.window_end.commit,
      static_cast<unsigned long long>(j.window_end.changes), j.load_ms, r.open_ms, r.restore_ms, r.recovery_ms,
      ok ? "true" : "false");
}

void print_human(const Config& c, const JobReport& j, const RecoveryReport& r, uint64_t state_dir_bytes) {
  std::fprintf(stderr, "load: %lld keys x %d slice(s) in %.0f ms\n", static_cast<long long>(c.keys), c.slices,
               j.load_ms);
  std::fprintf(stderr, "first checkpoint (every key): pause %.1f ms, commit %.1f ms, %llu entries, %.1f MiB\n",
               j.first.total, j.first.commit, static_cast<unsigned long long>(j.first.changes), mib(j.first.bytes));
  std::fprintf(stderr, "%d rounds of %llu changed keys: pause p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", c.rounds,
               static_cast<unsigned long long>(j.changed_keys), j.total.p50, j.total.p99, j.total.max);
  std::fprintf(stderr,
               "  background commit p50/p99 ms: %.2f/%.2f (write batch %.2f/%.2f, checkpoint files %.2f/%.2f, "
               "manifest %.2f/%.2f, prune %.2f/%.2f)\n",
               j.commit.p50, j.commit.p99, j.write_batch.p50, j.write_batch.p99, j.checkpoint_files.p50,
               j.checkpoint_files.p99, j.manifest.p50, j.manifest.p99, j.prune.p50, j.prune.p99);
  std::fprintf(stderr,
               "checkpoint size %.1f MiB (the last round's, shared SSTs included); new files per round p50 %.1f MiB, "
               "max %.1f MiB; state dir %.1f MiB on disk\n",
               mib(j.last_round.bytes), j.new_bytes.p50 / (1024.0 * 1024.0), j.new_bytes.max / (1024.0 * 1024.0),
               mib(state_dir_bytes));
  std::fprintf(stderr, "window end (every key fires, %llu entries): pause %.1f ms, commit %.1f ms\n",
               static_cast<unsigned long long>(j.window_end.changes), j.window_end.total, j.window_end.commit);
  std::fprintf(stderr, "recovery after SIGKILL: %.1f ms to the first result (open %.1f ms, restore %.1f ms)\n",
               r.recovery_ms, r.open_ms, r.restore_ms);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Checkpoint pauses, size and recovery time of a hopping-window job, in-process.", "checkpoint_bench");
  Config c;
  bool json = false;
  bool quick = false;
  std::string dir;
  app.add_option("--keys", c.keys, "Keys with state. Default: 1M.")->check(CLI::Range(int64_t{1000}, int64_t{1} << 31));
  app.add_option("--rounds", c.rounds, "Measured checkpoints. Default: 100.")->check(CLI::Range(1, 1'000'000));
  app.add_option("--changed-fraction", c.changed_fraction, "Keys changed between two checkpoints. Default: 0.1.")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--slices", c.slices, "Minutes of state per key (slices of the 1 h window). Default: 1.")
      ->check(CLI::Range(1, 59));
  app.add_option("--dir", dir, "State directory; must not exist or be empty, and is kept. Default: a temp dir, "
                               "removed at the end.");
  app.add_flag("--json", json, "One JSON object on stdout, nothing else there.");
  app.add_flag("--quick", quick, "A smoke run: 100k keys, 5 rounds.");
  CLI11_PARSE(app, argc, argv);
  if (quick) {
    c.keys = 100'000;
    c.rounds = 5;
  }

  // The store's log lines must never reach stdout.
  auto logger = spdlog::stderr_color_mt("checkpoint_bench");
  logger->set_level(spdlog::level::warn);
  spdlog::set_default_logger(logger);

  const bool temporary = dir.empty();
  if (temporary) {
    std::string pattern = (std::filesystem::temp_directory_path() / "kappa-checkpoint-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("checkpoint_bench: mkdtemp");
      return 1;
    }
    dir = pattern;
  } else if (std::error_code e; std::filesystem::exists(dir, e) && !std::filesystem::is_empty(dir, e)) {
    std::fprintf(stderr, "checkpoint_bench: %s is not empty; give a new or empty --dir\n", dir.c_str());
    return 2;
  }
  if (!json) {
    std::fprintf(stderr, "checkpoint_bench: %lld keys, one task, hopping 1h/1min count+sum, state in %s\n",
                 static_cast<long long>(c.keys), dir.c_str());
  }

  auto finish = [&](int code) {
    if (std::error_code e; temporary) std::filesystem::remove_all(dir, e);
    return code;
  };
  Result<JobReport> job = run_job_and_kill(c, dir);
  if (!job.is_ok()) {
    std::fprintf(stderr, "checkpoint_bench: %s\n", job.status().message().c_str());
    return finish(1);
  }
  const uint64_t state_dir_bytes = disk_bytes(dir);
  Result<RecoveryReport> recovery = recover(c, dir);
  if (!recovery.is_ok()) {
    std::fprintf(stderr, "checkpoint_bench: recovery failed: %s\n", recovery.status().message().c_str());
    return finish(1);
  }
  const JobReport& j = *job;
  const RecoveryReport& r = *recovery;
  const bool ok = r.checkpoint_id == j.checkpoint_id && r.offset == j.offset &&
                  r.digest.results == j.reference.results && r.digest.hash == j.reference.hash &&
                  j.reference.results >= static_cast<uint64_t>(c.keys);
  if (json) {
    print_json(c, j, r, state_dir_bytes, ok);
  } else {
    print_human(c, j, r, state_dir_bytes);
  }
  if (ok) {
    std::fprintf(stderr, "ok: the restored job's %llu results equal the killed job's\n",
                 static_cast<unsigned long long>(r.digest.results));
  } else {
    std::fprintf(stderr,
                 "checkpoint_bench: the restored job differs: checkpoint %llu (killed job: %llu), offset %lld (%lld), "
                 "%llu results (%llu), digest %016llx (%016llx)\n",
                 static_cast<unsigned long long>(r.checkpoint_id), static_cast<unsigned long long>(j.checkpoint_id),
                 static_cast<long long>(r.offset), static_cast<long long>(j.offset),
                 static_cast<unsigned long long>(r.digest.results),
                 static_cast<unsigned long long>(j.reference.results), static_cast<unsigned long long>(r.digest.hash),
                 static_cast<unsigned long long>(j.reference.hash));
  }
  return finish(ok ? 0 : 1);
}
