#include "state/key_encoding.h"

namespace kappa::state_internal {
namespace {

constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xff';
constexpr char kTopicEnd = '\x01';

void put_big_endian(std::string& out, uint64_t bits, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

uint64_t get_big_endian(std::string_view in, int bytes) {
  uint64_t bits = 0;
  for (int i = 0; i < bytes; ++i) bits = (bits << 8) | static_cast<unsigned char>(in[i]);
  return bits;
}

}  // namespace

std::string task_prefix(const PartitionId& partition) {
  std::string out;
  out.reserve(partition.topic.size() + 6);
  for (const char c : partition.topic) {
    out.push_back(c);
    if (c == kEscape) out.push_back(kEscapedZero);
  }
  out.push_back(kEscape);
  out.push_back(kTopicEnd);
  put_big_endian(out, static_cast<uint32_t>(partition.partition) ^ 0x8000'0000u, 4);
  return out;
}

bool decode_task_prefix(std::string_view& in, PartitionId& partition) {
  std::string topic;
  std::size_t i = 0;
  for (;; ++i) {
    if (i + 1 >= in.size()) return false;
    if (in[i] != kEscape) {
      topic.push_back(in[i]);
      continue;
    }
    if (in[i + 1] == kEscapedZero) {
      topic.push_back(kEscape);
      ++i;
      continue;
    }
    if (in[i + 1] != kTopicEnd) return false;
    break;
  }
  i += 2;
  if (in.size() - i < 4) return false;
  partition.topic = std::move(topic);
  partition.partition = static_cast<int32_t>(static_cast<uint32_t>(get_big_endian(in.substr(i), 4)) ^ 0x8000'0000u);
  in.remove_prefix(i + 4);
  return true;
}

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

std::string encode_int64(int64_t value) {
  std::string out;
  put_big_endian(out, static_cast<uint64_t>(value) ^ (uint64_t{1} << 63), 8);
  return out;
}

bool decode_int64(std::string_view bytes, int64_t& value) {
  if (bytes.size() != 8) return false;
  value = static_cast<int64_t>(get_big_endian(bytes, 8) ^ (uint64_t{1} << 63));
  return true;
}

}  // namespace kappa::state_internal
