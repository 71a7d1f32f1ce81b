#pragma once

namespace kappa {

// When a window's result is emitted.
enum class EmitMode {
  kFinal,    // once, when the watermark passes the window's end (and again for each late update)
  kUpdates,  // after every change, then once more when the watermark passes its end
};

}  // namespace kappa
