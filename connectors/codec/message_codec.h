// MessageCodec<M>: a Protobuf message type as binary Protobuf or as JSON with
// the .proto field names, one codec for both so a job's schema is its message
// type and the wire format is a flag.
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <concepts>
#include <string>
#include <string_view>

#include "runtime/job_options.h"
#include "runtime/status.h"

namespace kappa {

template <class M>
concept ProtobufMessage = std::derived_from<M, google::protobuf::Message>;

template <ProtobufMessage M>
class MessageCodec {
 public:
  explicit MessageCodec(WireFormat format) : format_(format == WireFormat::kJson ? WireFormat::kJson : WireFormat::kProtobuf) {
    // Accept fields this version does not know yet (a newer producer), and
    // write every field, so consumers see zeros rather than missing keys.
    parse_options_.ignore_unknown_fields = true;
    print_options_.preserve_proto_field_names = true;
    print_options_.always_print_primitive_fields = true;
  }

  Status decode(std::string_view bytes, M& value) const {
    if (format_ == WireFormat::kProtobuf) {
      if (!value.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return Status::corruption("not a valid " + value.GetTypeName() + " Protobuf message");
      }
      return Status::ok();
    }
    value.Clear();
    auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(bytes.data(), bytes.size()), &value, parse_options_);
    if (!status.ok()) {
      // The parser's message quotes the input over several lines; the first says what is wrong.
      std::string reason(status.message());
      reason = reason.substr(0, reason.find('\n'));
      return Status::corruption("not a valid " + value.GetTypeName() + " in JSON: " + reason);
    }
    return Status::ok();
  }

  void encode(const M& value, std::string& out) const {
    if (format_ == WireFormat::kProtobuf) {
      value.AppendToString(&out);
      return;
    }
    std::string json;
    // Printing a message we built cannot fail on content; the status only
    // reports resolver problems, which do not exist for compiled-in types.
    (void)google::protobuf::util::MessageToJsonString(value, &json, print_options_);
    out.append(json);
  }

  WireFormat format() const { return format_; }

 private:
  WireFormat format_;
  google::protobuf::util::JsonParseOptions parse_options_;
  google::protobuf::util::JsonPrintOptions print_options_;
};

}  // namespace kappa
