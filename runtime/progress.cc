#include "runtime/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "runtime/iso_time.h"

namespace kappa {
namespace {

std::string group_thousands(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Whole records a second, with a tenth below 10 so that a slow replay does not read as stopped.
std::string format_rate(double records_per_second) {
  if (records_per_second >= 10) return group_thousands(static_cast<uint64_t>(std::llround(records_per_second)));
  const long tenths = std::lround(records_per_second * 10);
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

std::string two_digits(uint64_t n) { return (n < 10 ? "0" : "") + std::to_string(n); }

// 28s, 3m05s, 1h02m, 3d04h: two units are enough for a guess.
std::string format_eta(uint64_t seconds) {
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600) return std::to_string(seconds / 60) + "m" + two_digits(seconds % 60) + "s";
  if (seconds < 86400) return std::to_string(seconds / 3600) + "h" + two_digits(seconds / 60 % 60) + "m";
  return std::to_string(seconds / 86400) + "d" + two_digits(seconds / 3600 % 24) + "h";
}

std::string eta(const ReplayProgress& progress, double records_per_second) {
  if (progress.records_done >= progress.records_total) return "0s";
  if (!(records_per_second > 0)) return "unknown";
  const double seconds =
      std::ceil(static_cast<double>(progress.records_total - progress.records_done) / records_per_second);
  if (!(seconds < 100.0 * 365 * 86400)) return "unknown";  // beyond a century the figure says nothing
  return format_eta(static_cast<uint64_t>(seconds));
}

// Tenths of a percent done, rounded down so that 100% means finished.
int permille_done(const ReplayProgress& progress) {
  const double ratio = static_cast<double>(progress.records_done) / static_cast<double>(progress.records_total);
  return static_cast<int>(std::clamp(std::floor(ratio * 1000), 0.0, 1000.0));
}

}  // namespace

std::string format_progress(const ReplayProgress& progress, double records_per_second) {
  std::string text = group_thousands(progress.records_done);
  if (progress.records_total > 0) {
    const int permille = permille_done(progress);
    text += " of " + group_thousands(progress.records_total) + " records (" + std::to_string(permille / 10) + "." +
            std::to_string(permille % 10) + "%)";
  } else {
    text += " records";
  }
  text += ", event time " + (progress.event_time_ms ? format_iso_time(*progress.event_time_ms) : std::string("-"));
  text += ", " + format_rate(records_per_second) + " records/s";
  if (progress.records_total > 0) text += ", ETA " + eta(progress, records_per_second);
  return text;
}

std::string format_progress_bar(const ReplayProgress& progress, double records_per_second, int width) {
  constexpr int kMaxBar = 30;
  constexpr int kMinBar = 10;
  const std::size_t columns = static_cast<std::size_t>(std::max(width, 2) - 1);
  std::string text = format_progress(progress, records_per_second);
  const int room = static_cast<int>(columns) - static_cast<int>(text.size()) - 3;  // "[", "] "
  if (progress.records_total > 0 && room >= kMinBar) {
    const int bar = std::min(room, kMaxBar);
    const int filled = bar * permille_done(progress) / 1000;
    text = "[" + std::string(static_cast<std::size_t>(filled), '#') +
           std::string(static_cast<std::size_t>(bar - filled), '.') + "] " + text;
  }
  if (text.size() > columns) text.resize(columns);
  return text;
}

std::string format_progress_done(uint64_t records, std::chrono::milliseconds elapsed) {
  const int64_t tenths = (std::max<int64_t>(elapsed.count(), 0) + 50) / 100;
  std::string text = "done: " + group_thousands(records) + " records in " + std::to_string(tenths / 10) + "." +
                     std::to_string(tenths % 10) + " s";
  if (elapsed.count() > 0) {
    text +=
        ", " + format_rate(static_cast<double>(records) * 1000.0 / static_cast<double>(elapsed.count())) + " records/s";
  }
  return text;
}

ProgressReporter::ProgressReporter(std::FILE* out, Clock::time_point start, ProgressOptions options)
    : out_(out), start_(start), options_(options) {
  terminal_ = options_.mode == ProgressOptions::Mode::kTerminal ||
              (options_.mode == ProgressOptions::Mode::kAuto && ::isatty(::fileno(out_)) == 1);
}

void ProgressReporter::update(const ReplayProgress& progress, Clock::time_point now) {
  if (finished_) return;
  record_sample(progress.records_done, now);
  const std::chrono::milliseconds interval = terminal_ ? options_.redraw_interval : options_.line_interval;
  if (last_draw_ && now - *last_draw_ < interval) return;
  last_draw_ = now;
  if (!terminal_) {
    write("replay: " + format_progress(progress, rate()) + "\n");
    return;
  }
  const std::string line = format_progress_bar(progress, rate(), width());
  std::string text = "\r" + line;
  if (line.size() < drawn_width_) text.append(drawn_width_ - line.size(), ' ');  // blank the longer line's tail
  drawn_width_ = line.size();
  write(text);
}

void ProgressReporter::finish(const ReplayProgress& progress, Clock::time_point now) {
  if (finished_) return;
  finished_ = true;
  std::string text;
  if (drawn_width_ > 0) text = "\r" + std::string(drawn_width_, ' ') + "\r";
  text +=
      format_progress_done(progress.records_done, std::chrono::duration_cast<std::chrono::milliseconds>(now - start_)) +
      "\n";
  write(text);
}

void ProgressReporter::record_sample(uint64_t records, Clock::time_point now) {
  // Samples closer together than a fiftieth of the window replace the
  // newest, so an owner that updates per batch does not grow the queue.
  const auto spacing = options_.rate_window / 50;
  if (samples_.size() >= 2 && now - samples_[samples_.size() - 2].time < spacing) {
    samples_.back() = {now, records};
  } else {
    samples_.push_back({now, records});
  }
  // Keep one sample at or before the window's start, so that the rate spans the whole window.
  while (samples_.size() >= 2 && samples_[1].time <= now - options_.rate_window) samples_.pop_front();
}

double ProgressReporter::rate() const {
  if (samples_.size() < 2) return 0;
  const Sample& oldest = samples_.front();
  const Sample& newest = samples_.back();
  const double seconds = std::chrono::duration<double>(newest.time - oldest.time).count();
  if (seconds <= 0 || newest.records < oldest.records) return 0;
  return static_cast<double>(newest.records - oldest.records) / seconds;
}

int ProgressReporter::width() const {
  if (options_.width > 0) return options_.width;
  winsize size{};
  if (::ioctl(::fileno(out_), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

void ProgressReporter::write(const std::string& text) {
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

}  // namespace kappa
