// BytesCodec: values as raw bytes, unchanged both ways. For jobs that move
// or inspect bytes without a schema, and for benchmarks that measure the
// runtime rather than a parser.
//
// As std::string the value is a copy the job may keep; as std::string_view
// it is the record's own bytes, valid while the record is being processed
// (results are encoded before the next record), so nothing is copied.
#pragma once

#include <string>
#include <string_view>

#include "runtime/status.h"

namespace kappa {

struct BytesCodec {
  Status decode(std::string_view bytes, std::string& value) const {
    value.assign(bytes);
    return Status::ok();
  }
  Status decode(std::string_view bytes, std::string_view& value) const {
    value = bytes;
    return Status::ok();
  }
  void encode(std::string_view value, std::string& out) const { out.append(value); }
};

}  // namespace kappa
