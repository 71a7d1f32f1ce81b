#include "state/manifest.h"

#include <charconv>

#include "state/checksum.h"

namespace kappa::state_internal {
namespace {

constexpr std::string_view kMagic = "kappa-checkpoint";
constexpr std::string_view kChecksumTag = "crc32c ";

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const std::size_t space = line.find(' ');
    fields.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return fields;
}

template <class Int>
bool parse_int(std::string_view text, Int& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool parse_partition(std::string_view topic, std::string_view number, PartitionId& partition) {
  return unescape_field(topic, partition.topic) && parse_int(number, partition.partition);
}

Status bad_line(std::size_t line_number, std::string_view line) {
  constexpr std::size_t kShown = 80;
  std::string shown(line.substr(0, kShown));
  if (line.size() > kShown) shown += "...";
  return Status::corruption("line " + std::to_string(line_number) + " of the manifest is malformed: \"" +
                            escape_field(shown) + "\"");
}

}  // namespace

uint64_t Manifest::files_bytes() const {
  uint64_t total = 0;
  for (const ManifestFile& f : files) total += f.size;
  return total;
}

std::string escape_field(std::string_view field) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(field.size());
  for (const char c : field) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte > ' ' && byte < 0x7f && c != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  if (out.empty()) out = "%";  // an empty field still takes a place on the line
  return out;
}

bool unescape_field(std::string_view field, std::string& out) {
  out.clear();
  if (field == "%") return true;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '%') {
      out.push_back(field[i]);
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= field.size()) return false;
    const auto [end, error] = std::from_chars(field.data() + i + 1, field.data() + i + 3, value, 16);
    if (error != std::errc() || end != field.data() + i + 3) return false;
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return true;
}

std::string encode_manifest(const Manifest& manifest) {
  std::string text;
  text += std::string(kMagic) + "\n";
  text += "format " + std::to_string(manifest.format_version) + "\n";
  text += "job " + escape_field(manifest.job_id) + "\n";
  text += "checkpoint " + std::to_string(manifest.checkpoint_id) + "\n";
  for (const auto& [p, offset] : manifest.offsets) {
    text += "offset " + escape_field(p.topic) + " " + std::to_string(p.partition) + " " + std::to_string(offset) + "\n";
  }
  for (const auto& [p, watermark] : manifest.watermarks) {
    text += "watermark " + escape_field(p.topic) + " " + std::to_string(p.partition) + " " + std::to_string(watermark) +
            "\n";
  }
  for (const ManifestFile& f : manifest.files) {
    text += "file " + escape_field(f.name) + " " + std::to_string(f.size) + " " + crc_to_hex(f.crc32c) + "\n";
  }
  text += std::string(kChecksumTag) + crc_to_hex(crc32c(text)) + "\n";
  return text;
}

Result<Manifest> decode_manifest(std::string_view text) {
  // The checksum line comes last and covers everything before it.
  if (text.empty() || text.back() != '\n') return Status::corruption("the manifest is cut short (no final newline)");
  const std::string_view lines = text.substr(0, text.size() - 1);
  const std::size_t newline = lines.rfind('\n');
  const std::size_t last_start = newline == std::string_view::npos ? 0 : newline + 1;
  const std::string_view last = lines.substr(last_start);
  uint32_t stored = 0;
  if (!last.starts_with(kChecksumTag) || !crc_from_hex(last.substr(kChecksumTag.size()), stored)) {
    return Status::corruption("the manifest does not end with its checksum line");
  }
  const std::string_view body = text.substr(0, last_start);
  if (const uint32_t actual = crc32c(body); actual != stored) {
    return Status::corruption("the manifest's checksum does not match its content (stored " + crc_to_hex(stored) +
                              ", computed " + crc_to_hex(actual) + ")");
  }

  Manifest m;
  bool has_format = false, has_job = false, has_id = false;
  std::size_t line_number = 0;
  std::string_view rest = body;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline + 1);
    ++line_number;
    const std::vector<std::string_view> f = split(line);
    if (line_number == 1) {
      if (line != kMagic) return Status::corruption("the file does not start with \"kappa-checkpoint\"");
      continue;
    }
    bool ok = !f.empty();
    if (ok && f[0] == "format" && f.size() == 2) {
      ok = has_format = parse_int(f[1], m.format_version);
    } else if (ok && f[0] == "job" && f.size() == 2) {
      ok = has_job = unescape_field(f[1], m.job_id);
    } else if (ok && f[0] == "checkpoint" && f.size() == 2) {
      ok = has_id = parse_int(f[1], m.checkpoint_id);
    } else if (ok && f[0] == "offset" && f.size() == 4) {
      PartitionId p;
      int64_t offset = 0;
      ok = parse_partition(f[1], f[2], p) && parse_int(f[3], offset) && m.offsets.emplace(p, offset).second;
    } else if (ok && f[0] == "watermark" && f.size() == 4) {
      PartitionId p;
      Timestamp watermark = 0;
      ok = parse_partition(f[1], f[2], p) && parse_int(f[3], watermark) && m.watermarks.emplace(p, watermark).second;
    } else if (ok && f[0] == "file" && f.size() == 4) {
      ManifestFile file;
      ok = unescape_field(f[1], file.name) && parse_int(f[2], file.size) && crc_from_hex(f[3], file.crc32c) &&
           !file.name.empty() && file.name.find('/') == std::string::npos && file.name != "." && file.name != "..";
      m.files.push_back(std::move(file));
    } else {
      ok = false;
    }
    if (!ok) return bad_line(line_number, line);
  }
  if (!has_format || !has_job || !has_id) {
    return Status::corruption("the manifest lacks its format, job or checkpoint line");
  }
  return m;
}

}  // namespace kappa::state_internal
