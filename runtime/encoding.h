// Byte encoding primitives for checkpointed state (accumulators, detectors,
// operator entries): little-endian fixed width integers and doubles, LEB128
// varints and length-prefixed strings. Host-independent, so a checkpoint
// taken on one machine restores on another.
//
// put_*() append to a std::string. get_*() read from the front of a
// std::string_view and advance it; they return false on truncated or
// out-of-range input (the view is then unspecified) and never throw.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kappa::encoding {

inline void put_u8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }

inline bool get_u8(std::string_view& in, uint8_t& v) {
  if (in.empty()) return false;
  v = static_cast<uint8_t>(in.front());
  in.remove_prefix(1);
  return true;
}

// A boolean as one byte, 0 or 1; get_bool rejects any other byte.
inline void put_bool(std::string& out, bool v) { put_u8(out, v ? 1 : 0); }

inline bool get_bool(std::string_view& in, bool& v) {
  uint8_t byte;
  if (!get_u8(in, byte) || byte > 1) return false;
  v = byte == 1;
  return true;
}

inline void put_u64(std::string& out, uint64_t v) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  out.append(bytes, 8);
}

inline bool get_u64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  in.remove_prefix(8);
  return true;
}

inline void put_i64(std::string& out, int64_t v) { put_u64(out, static_cast<uint64_t>(v)); }

inline bool get_i64(std::string_view& in, int64_t& v) {
  uint64_t u;
  if (!get_u64(in, u)) return false;
  v = static_cast<int64_t>(u);
  return true;
}

// The IEEE-754 bits, so every double (NaN payloads, -0.0, infinities) round-trips.
inline void put_double(std::string& out, double v) { put_u64(out, std::bit_cast<uint64_t>(v)); }

inline bool get_double(std::string_view& in, double& v) {
  uint64_t bits;
  if (!get_u64(in, bits)) return false;
  v = std::bit_cast<double>(bits);
  return true;
}

// Unsigned LEB128: 7 bits per byte, low first; 1 byte below 128, at most 10.
inline void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline bool get_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    uint8_t byte;
    if (!get_u8(in, byte)) return false;
    const uint64_t bits = byte & 0x7f;
    if (shift == 63 && bits > 1) return false;  // more than 64 bits
    v |= bits << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// A count: a varint that must fit a non-negative int64.
inline void put_count(std::string& out, int64_t n) { put_varint(out, static_cast<uint64_t>(n)); }

inline bool get_count(std::string_view& in, int64_t& n) {
  uint64_t u;
  if (!get_varint(in, u) || u > static_cast<uint64_t>(INT64_MAX)) return false;
  n = static_cast<int64_t>(u);
  return true;
}

// A varint length, then the bytes.
inline void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

inline bool get_string(std::string_view& in, std::string& s) {
  uint64_t size;
  if (!get_varint(in, size) || size > in.size()) return false;
  s.assign(in.data(), static_cast<std::size_t>(size));
  in.remove_prefix(static_cast<std::size_t>(size));
  return true;
}

}  // namespace kappa::encoding
