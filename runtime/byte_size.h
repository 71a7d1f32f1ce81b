// Sizes as users write them on the command line: 512MiB, 2GiB, 300MB, 4096.
#pragma once

#include <cstdint>
#include <string_view>

#include "runtime/status.h"

namespace kappa {

// Parses "<integer>[unit]": no unit is bytes; B, KB/MB/GB/TB (powers of
// 1000) and KiB/MiB/GiB/TiB (powers of 1024), in any case; K/M/G/T are the
// binary ones, as in -Xmx.
Result<int64_t> parse_byte_size(std::string_view text);

}  // namespace kappa
