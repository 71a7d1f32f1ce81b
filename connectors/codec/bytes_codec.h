// BytesCodec: values as raw bytes in a std::string, unchanged both ways.
// For jobs that move or inspect bytes without a schema (and for benchmarks
// that measure the runtime, not a parser).
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
  void encode(const std::string& value, std::string& out) const { out.append(value); }
};

}  // namespace kappa
