// The byte encoding primitives accumulators are written with. They live in
// runtime/encoding.h, since every stateful stage (the event-time stage
// included) writes its checkpoint entries with them; this name stays for the
// aggregates, detectors and jobs that say agg::encoding.
#pragma once

#include "runtime/encoding.h"

namespace kappa::agg::encoding {
using namespace kappa::encoding;
}  // namespace kappa::agg::encoding
