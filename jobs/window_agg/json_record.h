// JsonRecord: one JSON object (a line of a file, or a Kafka record's value),
// parsed once into a flat list of its top-level fields, and JsonRecordCodec,
// the Codec (runtime/codec.h) that produces it.
//
// Why not a rapidjson::Document: a Document is not copyable, allocates a
// 64 KiB pool per instance, and forgets how numbers were written. The rolling
// window keeps a copy of every event in its window and writes the triggering
// event back out, so a record here is a compact value (the text, a vector of
// field descriptors, one buffer of unescaped strings) that copies cheaply and
// re-emits each field exactly as it came (1.50 stays 1.50, big integers keep
// every digit). Nested objects and arrays are validated and kept as text; only
// top-level fields can be looked up. Numbers beyond double's range (1e999)
// are rejected, as rapidjson does even when it keeps numbers as text.
//
// Parsing reuses the record's buffers, so decoding record after record into
// the same JsonRecord allocates only while the buffers grow. Not thread-safe;
// a record belongs to one task.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/status.h"

namespace kappa::window_agg {

enum class JsonKind : uint8_t { kNull, kBool, kNumber, kString, kObject, kArray };

// The JSON type of a value as users read it in error messages ("a string").
std::string_view json_kind_name(JsonKind kind);

// A view of one top-level field, valid while its record is unchanged.
struct JsonField {
  std::string_view name;  // unescaped
  JsonKind kind = JsonKind::kNull;
  std::string_view json;    // the value's JSON text as written (a string with its quotes and escapes)
  std::string_view string;  // kString: the unescaped text; otherwise empty

  // The value as text: a string's content, or for any other kind its JSON
  // text (a number as written: 42, 1.5e3).
  std::string_view text() const { return kind == JsonKind::kString ? string : json; }
  // A number's value (the nearest double); nullopt for any other kind.
  // Numbers beyond double's range do not parse (JsonRecord::parse rejects
  // them).
  std::optional<double> number() const;
};

class JsonRecord {
 public:
  // Replaces the record with `json`, which must be one JSON object (UTF-8,
  // surrounding white space allowed). On failure returns a one-line
  // kCorruption status naming the byte offset and leaves the record empty.
  Status parse(std::string_view json);

  // The first top-level field named `name`, if any. Linear in the number of
  // fields, which is small for event records.
  std::optional<JsonField> find(std::string_view name) const;

  std::size_t field_count() const { return fields_.size(); }
  // REQUIRES: i < field_count(). In the order they appear in the input.
  JsonField field(std::size_t i) const;

  // The object as received.
  const std::string& json() const { return text_; }

  // How a rolling window checkpoints the records it keeps
  // (operators/keyed/state_value.h looks for these two, Protobuf's names):
  // the text, parsed again on restore.
  bool SerializeToString(std::string* out) const {
    *out = text_;
    return true;
  }
  bool ParseFromString(const std::string& in) { return parse(in).is_ok(); }

 private:
  friend class JsonRecordBuilder;

  // Sets each field's json_begin / json_size. REQUIRES: text_ is a valid
  // JSON object and fields_ holds its top-level members in order.
  void locate_values();

  struct Slot {
    uint32_t name_begin = 0;  // in strings_
    uint32_t name_size = 0;
    uint32_t json_begin = 0;  // in text_
    uint32_t json_size = 0;
    uint32_t string_begin = 0;  // kString: in strings_
    uint32_t string_size = 0;
    JsonKind kind = JsonKind::kNull;
  };

  std::string text_;
  std::vector<Slot> fields_;
  std::string strings_;  // unescaped names and string values, back to back
};

// decode: JsonRecord::parse (bad JSON -> kCorruption). encode: the record's
// text as received.
struct JsonRecordCodec {
  Status decode(std::string_view bytes, JsonRecord& value) const { return value.parse(bytes); }
  void encode(const JsonRecord& value, std::string& out) const { out.append(value.json()); }
};

}  // namespace kappa::window_agg
