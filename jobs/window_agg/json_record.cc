#include "jobs/window_agg/json_record.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <charconv>
#include <limits>

namespace kappa::window_agg {
namespace {

// Iterative: a deeply nested record cannot overflow the stack. Numbers as
// strings: the record keeps them as written and converts on demand.
constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag;

}  // namespace

std::string_view json_kind_name(JsonKind kind) {
  switch (kind) {
    case JsonKind::kNull:
      return "null";
    case JsonKind::kBool:
      return "a boolean";
    case JsonKind::kNumber:
      return "a number";
    case JsonKind::kString:
      return "a string";
    case JsonKind::kObject:
      return "an object";
    case JsonKind::kArray:
      return "an array";
  }
  return "?";
}

std::optional<double> JsonField::number() const {
  if (kind != JsonKind::kNumber) return std::nullopt;
  double x = 0;
  auto [end, ec] = std::from_chars(json.data(), json.data() + json.size(), x);
  if (ec != std::errc() || end != json.data() + json.size()) return std::nullopt;
  return x;
}

// Receives rapidjson's parse events for one record and fills in its fields':
// names, kinds and unescaped strings. Where each value's text lies is found
// afterwards (locate_values): rapidjson reports events at stream positions
// that differ between token types, so they cannot delimit values.
class JsonRecordBuilder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, JsonRecordBuilder> {
 public:
  explicit JsonRecordBuilder(JsonRecord& record) : record_(record) {}

  bool Null() { return scalar(JsonKind::kNull); }
  bool Bool(bool) { return scalar(JsonKind::kBool); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return scalar(JsonKind::kNumber); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (depth_ == 1) {
      JsonRecord::Slot& slot = record_.fields_.back();
      slot.string_begin = static_cast<uint32_t>(record_.strings_.size());
      slot.string_size = n;
      record_.strings_.append(s, n);
    }
    return scalar(JsonKind::kString);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (depth_ == 1) {
      JsonRecord::Slot& slot = record_.fields_.emplace_back();
      slot.name_begin = static_cast<uint32_t>(record_.strings_.size());
      slot.name_size = n;
      record_.strings_.append(s, n);
    }
    return true;
  }
  bool StartObject() { return open(JsonKind::kObject); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(JsonKind::kArray); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  // The input is valid JSON but not an object (parsing stopped there).
  bool not_object() const { return not_object_; }

 private:
  bool scalar(JsonKind kind) {
    if (depth_ == 0) return reject_root();
    if (depth_ == 1) record_.fields_.back().kind = kind;
    return true;
  }
  bool open(JsonKind kind) {
    if (depth_ == 0 && kind != JsonKind::kObject) return reject_root();
    if (depth_ == 1) record_.fields_.back().kind = kind;
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    return true;
  }
  bool reject_root() {
    not_object_ = true;
    return false;
  }

  JsonRecord& record_;
  int depth_ = 0;
  bool not_object_ = false;
};

namespace {

// Scanning helpers for text that rapidjson has already validated, so they
// need no error handling.
std::size_t skip_space(std::string_view text, std::size_t pos) {
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) {
    ++pos;
  }
  return pos;
}
// From an opening quote to just past the closing one.
std::size_t skip_string(std::string_view text, std::size_t pos) {
  for (++pos; text[pos] != '"'; ++pos) {
    if (text[pos] == '\\') ++pos;  // the escaped character cannot close the string
  }
  return pos + 1;
}
std::size_t skip_value(std::string_view text, std::size_t pos) {
  const char c = text[pos];
  if (c == '"') return skip_string(text, pos);
  if (c == '{' || c == '[') {
    int depth = 0;
    do {
      const char d = text[pos];
      if (d == '"') {
        pos = skip_string(text, pos);
        continue;
      }
      if (d == '{' || d == '[') ++depth;
      if (d == '}' || d == ']') --depth;
      ++pos;
    } while (depth > 0);
    return pos;
  }
  // A number, true, false or null: up to the next delimiter.
  while (pos < text.size() && std::string_view(",}] \t\n\r").find(text[pos]) == std::string_view::npos) ++pos;
  return pos;
}

}  // namespace

void JsonRecord::locate_values() {
  const std::string_view text(text_);
  std::size_t pos = skip_space(text, 0) + 1;  // past '{'
  for (Slot& slot : fields_) {
    pos = skip_space(text, pos);
    pos = skip_string(text, pos);     // the name
    pos = skip_space(text, pos) + 1;  // past ':'
    const std::size_t begin = skip_space(text, pos);
    pos = skip_value(text, begin);
    slot.json_begin = static_cast<uint32_t>(begin);
    slot.json_size = static_cast<uint32_t>(pos - begin);
    pos = skip_space(text, pos) + 1;  // past ',' or '}'
  }
}

Status JsonRecord::parse(std::string_view json) {
  text_.assign(json);
  fields_.clear();
  strings_.clear();
  auto fail = [&](std::string message) {
    text_.clear();
    fields_.clear();
    strings_.clear();
    return Status::corruption(std::move(message));
  };
  // Offsets are 32-bit to keep a field small; Kafka caps messages far below.
  if (text_.size() >= std::numeric_limits<uint32_t>::max()) return fail("a JSON record of 4 GiB or more");

  // One reader per thread: its stack (for unescaping strings) is kept
  // between records instead of being allocated for each.
  thread_local rapidjson::Reader reader;
  rapidjson::StringStream stream(text_.c_str());
  JsonRecordBuilder builder(*this);
  const rapidjson::ParseResult parsed = reader.Parse<kParseFlags>(stream, builder);
  if (builder.not_object()) return fail("a record must be a JSON object ({...}), found another JSON value");
  if (parsed.IsError()) {
    return fail("invalid JSON at byte " + std::to_string(parsed.Offset()) + ": " +
                rapidjson::GetParseError_En(parsed.Code()));
  }
  // rapidjson stops at a NUL byte as if the text ended there.
  if (stream.Tell() != text_.size()) {
    return fail("invalid JSON at byte " + std::to_string(stream.Tell()) + ": a NUL byte");
  }
  locate_values();
  return Status::ok();
}

std::optional<JsonField> JsonRecord::find(std::string_view name) const {
  for (const Slot& slot : fields_) {
    if (std::string_view(strings_).substr(slot.name_begin, slot.name_size) == name) {
      return field(static_cast<std::size_t>(&slot - fields_.data()));
    }
  }
  return std::nullopt;
}

JsonField JsonRecord::field(std::size_t i) const {
  const Slot& slot = fields_[i];
  const std::string_view strings(strings_);
  JsonField f;
  f.name = strings.substr(slot.name_begin, slot.name_size);
  f.kind = slot.kind;
  f.json = std::string_view(text_).substr(slot.json_begin, slot.json_size);
  if (slot.kind == JsonKind::kString) f.string = strings.substr(slot.string_begin, slot.string_size);
  return f;
}

}  // namespace kappa::window_agg
