// Status and Result<T>: how every I/O and control path in Kappa reports
// failure. Cheap when OK (one enum and an empty string), must be checked
// ([[nodiscard]]), and carries one human sentence saying what went wrong and,
// where possible, what to do about it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace kappa {

enum class StatusCode {
  kOk,
  kInvalidArgument,  // a wrong flag, option or configuration value
  kNotFound,         // a topic, file or partition that does not exist
  kUnavailable,      // a broker or service that cannot be reached
  kDataLoss,         // output that could not be delivered
  kCorruption,       // input that does not decode
  kAborted,          // stopped on request or because another part failed
  kInternal,         // a broken invariant or an error from a library
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  static Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status data_loss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", or "OK".
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.is_ok()) status_ = Status::internal("Result constructed from an OK status without a value");
  }

  // From a Result of a convertible type (a derived class's pointer, say).
  template <class U>
    requires(std::is_convertible_v<U&&, T> && !std::is_same_v<U, T>)
  Result(Result<U>&& other)  // NOLINT: implicit by design
      : status_(other.status()) {
    if (other.is_ok()) value_.emplace(std::move(other).value());
  }

  bool is_ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

[[noreturn]] void check_failed(const char* file, int line, const char* condition, const std::string& message);

}  // namespace kappa

#define KAPPA_STATUS_CONCAT_INNER(a, b) a##b
#define KAPPA_STATUS_CONCAT(a, b) KAPPA_STATUS_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function unless it is OK.
#define KAPPA_RETURN_IF_ERROR(expr)            \
  do {                                         \
    ::kappa::Status kappa_status_ = (expr);    \
    if (!kappa_status_.is_ok()) return kappa_status_; \
  } while (0)

// `KAPPA_ASSIGN_OR_RETURN(auto x, make_x());` binds x or returns the error.
// It expands to several statements: inside an if, use braces.
#define KAPPA_ASSIGN_OR_RETURN(lhs, expr) \
  KAPPA_ASSIGN_OR_RETURN_IMPL(KAPPA_STATUS_CONCAT(kappa_result_, __LINE__), lhs, expr)
#define KAPPA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.is_ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

// An always-on check for invariants that only a bug can break (never for bad
// input, which is data and follows the job's error policy).
#define KAPPA_CHECK(cond, message)                                         \
  do {                                                                     \
    if (!(cond)) ::kappa::check_failed(__FILE__, __LINE__, #cond, (message)); \
  } while (0)
