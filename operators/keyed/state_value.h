// How an operator writes the stream's own values into checkpointed state
// (the events a rolling window keeps, say): a trivially copyable T as its
// bytes, a std::string as a length and its bytes, a Protobuf message as its
// serialized form (found by its SerializeToString / ParseFromString, so that
// operators/ needs no Protobuf header).
//
// Trivially copyable values are written as they lie in memory: a checkpoint
// of those restores only on a host with the same byte order and layout.
#pragma once

#include <concepts>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "runtime/encoding.h"

namespace kappa {

template <class T>
concept SerializedMessage = requires(const T& message, T& target, std::string* out, const std::string& in) {
  { message.SerializeToString(out) } -> std::convertible_to<bool>;
  { target.ParseFromString(in) } -> std::convertible_to<bool>;
};

template <class T>
concept StateValue = std::is_trivially_copyable_v<T> || std::is_same_v<T, std::string> || SerializedMessage<T>;

template <StateValue T>
void put_state_value(std::string& out, const T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    encoding::put_string(out, value);
  } else if constexpr (SerializedMessage<T>) {
    std::string bytes;
    value.SerializeToString(&bytes);
    encoding::put_string(out, bytes);
  } else {
    out.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
}

// Reads what put_state_value() wrote from the front of `in` and advances it;
// false on truncated or malformed bytes.
template <StateValue T>
bool get_state_value(std::string_view& in, T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    return encoding::get_string(in, value);
  } else if constexpr (SerializedMessage<T>) {
    std::string bytes;
    return encoding::get_string(in, bytes) && value.ParseFromString(bytes);
  } else {
    if (in.size() < sizeof(T)) return false;
    std::memcpy(&value, in.data(), sizeof(T));
    in.remove_prefix(sizeof(T));
    return true;
  }
}

}  // namespace kappa
