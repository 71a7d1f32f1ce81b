// OutputBatch: the results one task produced from one input batch, in order,
// encoded into one reusable buffer so that handing them to a sink costs one
// call per batch and no allocation per record once the buffer has grown.
#pragma once

#include <cstdint>
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

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::string_view key(std::size_t i) const { return {bytes_.data() + entries_[i].key_begin, entries_[i].key_size}; }
  std::string_view value(std::size_t i) const {
    return {bytes_.data() + entries_[i].value_begin, entries_[i].value_size};
  }
  Timestamp timestamp(std::size_t i) const { return entries_[i].timestamp; }

  // Drops every result after the first `size` (to undo a record's partial output).
  void truncate(std::size_t size) {
    if (size >= entries_.size()) return;
    bytes_.resize(entries_[size].key_begin);
    entries_.resize(size);
  }

  void clear() {
    bytes_.clear();
    entries_.clear();
  }

 private:
  struct Entry {
    std::size_t key_begin = 0;
    std::size_t key_size = 0;
    std::size_t value_begin = 0;
    std::size_t value_size = 0;
    Timestamp timestamp = 0;
  };
  std::string bytes_;
  std::vector<Entry> entries_;
};

}  // namespace kappa
