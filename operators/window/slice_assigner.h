// SliceAssigner: tumbling and hopping event-time windows as a pure function
// of time, built from slices (panes) of gcd(size, slide).
//
// Windows start at offset + k * slide and last `size`; they are aligned to
// the epoch, so a replay cuts time exactly as the live run did. An event
// belongs to one slice, and a window is the union of the size / gcd slices
// in it, so adding an event updates one slice however much windows overlap.
// Tumbling windows are the case slide == size.
#pragma once

#include <chrono>
#include <cstdint>
#include <algorithm>
#include <numeric>

#include "runtime/record.h"
#include "runtime/status.h"

namespace kappa {

class SliceAssigner {
 public:
  // REQUIRES: 0 < slide <= size, 0 <= offset.
  SliceAssigner(int64_t size, int64_t slide, int64_t offset)
      : size_(size), slide_(slide), offset_(offset % slide), slice_(std::gcd(size, slide)) {
    KAPPA_CHECK(size > 0 && slide > 0 && slide <= size && offset >= 0,
                "window size and slide must be positive, the slide at most the size");
  }

  int64_t size() const { return size_; }
  int64_t slide() const { return slide_; }
  int64_t offset() const { return offset_; }
  int64_t slice_size() const { return slice_; }
  int64_t slices_per_window() const { return size_ / slice_; }

  // Start of the slice holding time t.
  Timestamp slice_start(Timestamp t) const { return floor_to(t, slice_); }
  // End of the first and of the last window that contain the slice starting
  // at s: every window end in between, in steps of slide, contains it too.
  Timestamp first_window_end(Timestamp s) const { return ceil_to(s + slice_ - size_, slide_) + size_; }
  Timestamp last_window_end(Timestamp s) const { return floor_to(s, slide_) + size_; }
  // The first window end after t. Times before any real event (the initial
  // watermark is kMinTimestamp) are clamped so the arithmetic cannot wrap.
  Timestamp window_end_after(Timestamp t) const {
    t = std::max(t, kMinTimestamp / 4);
    return floor_to(t - size_, slide_) + slide_ + size_;
  }

 private:
  // Largest aligned value (offset + k * step) <= t, and smallest >= t.
  Timestamp floor_to(Timestamp t, int64_t step) const {
    const int64_t shifted = t - offset_;
    int64_t q = shifted / step;
    if (shifted % step != 0 && shifted < 0) --q;
    return q * step + offset_;
  }
  Timestamp ceil_to(Timestamp t, int64_t step) const {
    const Timestamp f = floor_to(t, step);
    return f == t ? f : f + step;
  }

  int64_t size_;
  int64_t slide_;
  int64_t offset_;
  int64_t slice_;
};

// tumbling(size[, offset]): back-to-back windows of `size`, starting at
// offset + k * size.
inline SliceAssigner tumbling(std::chrono::milliseconds size, std::chrono::milliseconds offset = {}) {
  return SliceAssigner(size.count(), size.count(), offset.count());
}

// hopping(size, slide): windows of `size` starting every `slide`; each event
// is in size / slide windows (rounded up when slide does not divide size).
inline SliceAssigner hopping(std::chrono::milliseconds size, std::chrono::milliseconds slide) {
  return SliceAssigner(size.count(), slide.count(), 0);
}

}  // namespace kappa
