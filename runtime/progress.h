// The progress display of a bounded replay (--until): records done of total,
// the event time reached, the rate over the last few seconds and an ETA.
// On a terminal, one line redrawn in place with a bar; otherwise (a log
// file, a pipe) a plain line every so often.
//
// The formatting functions are pure; ProgressReporter decides when to draw
// and measures the rate. Its owner (the coordinator thread) feeds it
// snapshots with the monotonic time they were taken:
//
//   ProgressReporter progress(stderr, Clock::now());
//   while (running) { ...; progress.update({done, total, event_time_ms}, Clock::now()); }
//   progress.finish({done, total, event_time_ms}, Clock::now());
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>

namespace kappa {

struct ReplayProgress {
  uint64_t records_done = 0;
  // Records the replay reads in all; 0 when not known.
  uint64_t records_total = 0;
  // The event time reached, in milliseconds since the epoch; none before
  // the first record.
  std::optional<int64_t> event_time_ms;
};

// "1,234,567 of 2,730,000 records (45.2%), event time 2026-11-21T09:30:00.000Z,
// 52,341 records/s, ETA 28s". `records_per_second` is the recent rate; at 0
// the ETA is unknown. Without a total there is neither percentage nor ETA.
std::string format_progress(const ReplayProgress& progress, double records_per_second);

// The terminal line: a bar, then format_progress(), cut to width - 1
// columns (a line that fills the last column wraps on some terminals, and a
// wrapped line cannot be redrawn with '\r'). No bar without a total or room.
std::string format_progress_bar(const ReplayProgress& progress, double records_per_second, int width);

// "done: 2,730,000 records in 52.1 s, 52,400 records/s".
std::string format_progress_done(uint64_t records, std::chrono::milliseconds elapsed);

struct ProgressOptions {
  enum class Mode {
    kAuto,      // a bar if the output is a terminal (isatty), else lines
    kTerminal,  // a bar redrawn in place
    kLines,     // a plain line at each line_interval, for logs
  };
  Mode mode = Mode::kAuto;
  // How often the bar is redrawn at most. Default 250 ms (4 times a second).
  std::chrono::milliseconds redraw_interval{250};
  // How often a plain line is written. Default 10 s.
  std::chrono::milliseconds line_interval{10'000};
  // The span the rate (and so the ETA) is measured over. Default 5 s.
  std::chrono::milliseconds rate_window{5'000};
  // Terminal columns; 0 asks the terminal (80 if it does not say). Default 0.
  int width = 0;
};

// Draws a replay's progress to a stream. Not thread-safe: one owner calls
// it. Write errors are ignored: a closed stderr must not stop a replay.
class ProgressReporter {
 public:
  using Clock = std::chrono::steady_clock;

  // `out` is not owned and must outlive the reporter. `start`: when the
  // replay began, for the elapsed time in the final line.
  ProgressReporter(std::FILE* out, Clock::time_point start, ProgressOptions options = {});

  // Takes a snapshot; draws if a redraw (or line) is due. The first update
  // always draws. Cheap when nothing is due.
  void update(const ReplayProgress& progress, Clock::time_point now);

  // Clears the bar and writes format_progress_done(). Updates after it are
  // ignored; so is a second finish().
  void finish(const ReplayProgress& progress, Clock::time_point now);

  bool on_terminal() const { return terminal_; }

 private:
  struct Sample {
    Clock::time_point time;
    uint64_t records;
  };
  // Records per second between the oldest kept sample and the newest.
  double rate() const;
  void record_sample(uint64_t records, Clock::time_point now);
  int width() const;
  void write(const std::string& text);

  std::FILE* out_;
  Clock::time_point start_;
  ProgressOptions options_;
  bool terminal_;
  std::deque<Sample> samples_;  // oldest first, spanning at least rate_window once there is that much history
  std::optional<Clock::time_point> last_draw_;
  std::size_t drawn_width_ = 0;  // of the bar on screen, to blank what a shorter redraw leaves
  bool finished_ = false;
};

}  // namespace kappa
