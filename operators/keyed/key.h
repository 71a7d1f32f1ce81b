// Keys of keyed operators: how a key is held in state, how it is written as a
// record key, and how it is written into a checkpoint entry's key.
#pragma once

#include <charconv>
#include <climits>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "operators/aggregate/aggregate.h"

namespace kappa {

// The checks every keyed operator's builder makes when it meets the stream's
// type T, with the messages a user sees for a key function or an aggregate
// of the wrong shape.
template <class KeyFn, class Agg, class T>
constexpr void check_keyed_aggregate() {
  static_assert(std::is_invocable_v<const KeyFn&, const T&>,
                "key_by(f): f must take the stream's current type, const T&, and return the key");
  static_assert(Aggregate<Agg, T>, "aggregate(a): a must be an aggregate over the stream's current type T "
                                   "(see operators/aggregate/aggregate.h)");
}

// How a key is held in state: string views are copied into strings.
template <class K>
using stored_key_t = std::conditional_t<std::is_same_v<std::decay_t<K>, std::string_view> ||
                                            std::is_same_v<std::decay_t<K>, const char*>,
                                        std::string, std::decay_t<K>>;

// The bytes a key is written with as a record key: strings as they are,
// integers in decimal.
template <class K>
void append_key_bytes(const K& key, std::string& out) {
  if constexpr (std::is_integral_v<K>) {
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, key);
    out.append(buffer, end);
  } else {
    out.append(std::string_view(key));
  }
}

// Keys that can be checkpointed: strings and integers.
template <class K>
concept StateKey = std::is_same_v<K, std::string> || (std::is_integral_v<K> && !std::is_same_v<K, bool>);

// The bytes a key is written with in a checkpoint entry's key: strings as
// they are, integers big-endian with the sign bit flipped, so that the
// backend's byte order is the keys' order and does not depend on the host.
template <StateKey K>
void append_state_key(const K& key, std::string& out) {
  if constexpr (std::is_integral_v<K>) {
    using U = std::make_unsigned_t<K>;
    U bits = static_cast<U>(key);
    if constexpr (std::is_signed_v<K>) bits ^= U(1) << (sizeof(K) * CHAR_BIT - 1);
    for (std::size_t i = sizeof(K); i-- > 0;) out.push_back(static_cast<char>(bits >> (i * CHAR_BIT)));
  } else {
    out.append(key);
  }
}

// The key append_state_key() wrote as `bytes` (all of them); false if they
// cannot be one (an integer's bytes of the wrong length).
template <StateKey K>
bool parse_state_key(std::string_view bytes, K& key) {
  if constexpr (std::is_integral_v<K>) {
    using U = std::make_unsigned_t<K>;
    if (bytes.size() != sizeof(K)) return false;
    U bits = 0;
    for (char c : bytes) bits = static_cast<U>((bits << CHAR_BIT) | static_cast<unsigned char>(c));
    if constexpr (std::is_signed_v<K>) bits ^= U(1) << (sizeof(K) * CHAR_BIT - 1);
    key = static_cast<K>(bits);
    return true;
  } else {
    key.assign(bytes.data(), bytes.size());
    return true;
  }
}

// What a keyed builder's aggregate(...) returns: make_stage<T>() (called by
// Pipeline::then with the stream's type) checks the key function and the
// aggregate against T, then has `build` make the operator for T.
template <class KeyFn, class Agg, class Build>
struct KeyedStageSpec {
  Build build;  // build(std::type_identity<T>{}) -> the operator
  template <class T>
  auto make_stage() const {
    check_keyed_aggregate<KeyFn, Agg, T>();
    return build(std::type_identity<T>{});
  }
};

template <class KeyFn, class Agg, class Build>
KeyedStageSpec<KeyFn, Agg, Build> keyed_stage(Build build) {
  return {std::move(build)};
}

}  // namespace kappa
