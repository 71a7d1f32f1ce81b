// OutputBatch: the results one task produced from one input batch, in order,
// encoded into one reusable buffer so that handing them to a sink costs one
// call per batch and no allocation per record once the buffer has grown.
//
// Results have a key (empty: none), a value and a timestamp. Dead letters
// (add_with_headers) also keep a null key or value apart from an empty one
// and carry headers; what they need lives beside the results' entries, so a
// batch of plain results pays nothing for it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/record.h"

namespace kappa {

class OutputBatch {
 public:
  // Appends one result; `encode_value(std::string&)` appends the value bytes.
  template <class EncodeValue>
  void add(std::string_view key, Timestamp timestamp, EncodeValue&& encode_value) {
    Entry e;
    e.key_begin = bytes_.size();
    bytes_.append(key);
    e.key_size = key.size();
    e.value_begin = bytes_.size();
    encode_value(bytes_);
    e.value_size = bytes_.size() - e.value_begin;
    e.timestamp = timestamp;
    entries_.push_back(e);
  }

  // Appends a record to be written as it came, with headers (a dead letter):
  // a null key or value (data() == nullptr, as sources hand over Kafka's
  // null) stays null, an empty one stays empty.
  void add_with_headers(std::string_view key, std::string_view value, Timestamp timestamp,
                        std::span<const Header> headers) {
    // The plain results since the last dead letter: no headers of their own.
    const std::size_t spans = header_spans_.size();
    extras_.resize(entries_.size(), Extras{.headers_begin = spans, .headers_end = spans});
    Extras x;
    x.exact = true;
    x.null_key = key.data() == nullptr;
    x.null_value = value.data() == nullptr;
    x.headers_begin = header_spans_.size();
    add(key, timestamp, [&](std::string& bytes) { bytes.append(value); });
    for (const Header& h : headers) {
      HeaderSpan span;
      span.key_begin = bytes_.size();
      bytes_.append(h.key);
      span.value_begin = bytes_.size();
      bytes_.append(h.value);
      span.key_size = h.key.size();
      span.value_size = h.value.size();
      header_spans_.push_back(span);
    }
    x.headers_end = header_spans_.size();
    extras_.push_back(x);
  }

  // Whether every entry came from add(): sinks take their fast path then.
  bool plain() const { return extras_.empty(); }

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // The memory the entries take (dead letters' headers aside).
  std::size_t memory_bytes() const { return bytes_.size() + entries_.size() * sizeof(Entry); }
  std::string_view key(std::size_t i) const { return {bytes_.data() + entries_[i].key_begin, entries_[i].key_size}; }
  std::string_view value(std::size_t i) const {
    return {bytes_.data() + entries_[i].value_begin, entries_[i].value_size};
  }
  Timestamp timestamp(std::size_t i) const { return entries_[i].timestamp; }

  // The key and value as a sink that tells null from empty writes them: a
  // null one has data() == nullptr. A result's empty key is none (null).
  std::string_view nullable_key(std::size_t i) const {
    const bool null = exact(i) ? extras_[i].null_key : key(i).empty();
    return null ? std::string_view{} : key(i);
  }
  std::string_view nullable_value(std::size_t i) const {
    return exact(i) && extras_[i].null_value ? std::string_view{} : value(i);
  }
  // Calls f(const Header&) for each header of entry i, in order.
  template <class F>
  void for_each_header(std::size_t i, F&& f) const {
    if (i >= extras_.size()) return;
    for (std::size_t h = extras_[i].headers_begin; h < extras_[i].headers_end; ++h) {
      const HeaderSpan& span = header_spans_[h];
      f(Header{{bytes_.data() + span.key_begin, span.key_size}, {bytes_.data() + span.value_begin, span.value_size}});
    }
  }

  // Drops every result after the first `size` (to undo a record's partial output).
  void truncate(std::size_t size) {
    if (size >= entries_.size()) return;
    bytes_.resize(entries_[size].key_begin);
    entries_.resize(size);
    if (extras_.size() > size) {
      header_spans_.resize(extras_[size].headers_begin);
      extras_.resize(size);
    }
  }

  void clear() {
    bytes_.clear();
    entries_.clear();
    extras_.clear();
    header_spans_.clear();
  }

 private:
  struct Entry {
    std::size_t key_begin = 0;
    std::size_t key_size = 0;
    std::size_t value_begin = 0;
    std::size_t value_size = 0;
    Timestamp timestamp = 0;
  };
  bool exact(std::size_t i) const { return i < extras_.size() && extras_[i].exact; }

  // What add_with_headers() adds to an entry (exact); its headers are
  // header_spans_[headers_begin, headers_end).
  struct Extras {
    bool exact = false;
    bool null_key = false;
    bool null_value = false;
    std::size_t headers_begin = 0;
    std::size_t headers_end = 0;
  };
  struct HeaderSpan {
    std::size_t key_begin = 0;
    std::size_t key_size = 0;
    std::size_t value_begin = 0;
    std::size_t value_size = 0;
  };
  std::string bytes_;
  std::vector<Entry> entries_;
  // Empty while every entry is plain; otherwise one per entry up to the last
  // one add_with_headers() added, the plain ones among them without headers.
  std::vector<Extras> extras_;
  std::vector<HeaderSpan> header_spans_;
};

}  // namespace kappa
