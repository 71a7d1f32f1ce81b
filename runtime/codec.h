// The Codec concept: how a task turns a record's value bytes into a typed
// value and a result back into bytes. Implementations live in connectors/codec.
#pragma once

#include <concepts>
#include <string>
#include <string_view>

#include "runtime/status.h"

namespace kappa {

// decode() overwrites `value` completely (tasks reuse one value per record to
// avoid allocating), and reports bad bytes as a Status, never by throwing.
// encode() appends to `out`.
template <class C, class T>
concept Codec = requires(const C& codec, std::string_view bytes, T& value, const T& result, std::string& out) {
  { codec.decode(bytes, value) } -> std::same_as<Status>;
  { codec.encode(result, out) } -> std::same_as<void>;
};

}  // namespace kappa
