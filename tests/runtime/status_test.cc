#include "runtime/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace kappa {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.is_ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_EQ(status.message(), "");
  EXPECT_EQ(status.to_string(), "OK");
  EXPECT_TRUE(Status::ok().is_ok());
}

TEST(StatusTest, FactoriesSetCodeAndMessage) {
  struct Case {
    Status status;
    StatusCode code;
    const char* name;
  };
  const Case cases[] = {
      {Status::invalid_argument("m"), StatusCode::kInvalidArgument, "invalid argument"},
      {Status::not_found("m"), StatusCode::kNotFound, "not found"},
      {Status::unavailable("m"), StatusCode::kUnavailable, "unavailable"},
      {Status::data_loss("m"), StatusCode::kDataLoss, "data loss"},
      {Status::corruption("m"), StatusCode::kCorruption, "corruption"},
      {Status::aborted("m"), StatusCode::kAborted, "aborted"},
      {Status::internal("m"), StatusCode::kInternal, "internal error"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(c.status.is_ok()) << c.name;
    EXPECT_EQ(c.status.code(), c.code) << c.name;
    EXPECT_EQ(c.status.message(), "m") << c.name;
    EXPECT_STREQ(status_code_name(c.code), c.name);
    EXPECT_EQ(c.status.to_string(), std::string(c.name) + ": m");
  }
  EXPECT_STREQ(status_code_name(StatusCode::kOk), "OK");
}

TEST(ResultTest, HoldsAValue) {
  Result<int> result(42);
  ASSERT_TRUE(result.is_ok());
  EXPECT_TRUE(result.status().is_ok());
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(result.value(), 42);
  *result = 7;
  EXPECT_EQ(result.value(), 7);

  Result<std::string> text(std::string("abc"));
  EXPECT_EQ(text->size(), 3u);
  const Result<std::string>& const_text = text;
  EXPECT_EQ(const_text.value(), "abc");
  EXPECT_EQ(const_text->front(), 'a');
}

TEST(ResultTest, HoldsAnError) {
  Result<int> result(Status::not_found("no such thing"));
  EXPECT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(result.status().message(), "no such thing");
}

TEST(ResultTest, OkStatusWithoutAValueBecomesAnInternalError) {
  Result<int> result(Status::ok());
  EXPECT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
  EXPECT_FALSE(result.status().message().empty());
}

TEST(ResultTest, MoveOnlyValuesMoveOut) {
  Result<std::unique_ptr<int>> result(std::make_unique<int>(5));
  ASSERT_TRUE(result.is_ok());
  std::unique_ptr<int> owned = std::move(result).value();
  ASSERT_NE(owned, nullptr);
  EXPECT_EQ(*owned, 5);
}

// --- KAPPA_RETURN_IF_ERROR ---------------------------------------------------

int g_calls = 0;

Status counted(Status status) {
  ++g_calls;
  return status;
}

Status two_steps(Status first, Status second, int* reached) {
  KAPPA_RETURN_IF_ERROR(counted(first));
  *reached = 1;
  KAPPA_RETURN_IF_ERROR(counted(second));
  *reached = 2;
  return Status::ok();
}

TEST(ReturnIfErrorTest, PassesOkThrough) {
  g_calls = 0;
  int reached = 0;
  EXPECT_TRUE(two_steps(Status::ok(), Status::ok(), &reached).is_ok());
  EXPECT_EQ(reached, 2);
  EXPECT_EQ(g_calls, 2);  // each expression evaluated once
}

TEST(ReturnIfErrorTest, ReturnsTheFirstError) {
  g_calls = 0;
  int reached = 0;
  Status status = two_steps(Status::unavailable("first"), Status::data_loss("second"), &reached);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "first");
  EXPECT_EQ(reached, 0);
  EXPECT_EQ(g_calls, 1);

  status = two_steps(Status::ok(), Status::data_loss("second"), &reached);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_EQ(reached, 1);
}

TEST(ReturnIfErrorTest, WorksInAnUnbracedIf) {
  auto f = [](bool check) -> Status {
    if (check)
      KAPPA_RETURN_IF_ERROR(Status::aborted("stop"));
    else
      return Status::internal("else branch");
    return Status::ok();
  };
  EXPECT_EQ(f(true).code(), StatusCode::kAborted);
  EXPECT_EQ(f(false).code(), StatusCode::kInternal);
}

// --- KAPPA_ASSIGN_OR_RETURN --------------------------------------------------

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Status::invalid_argument(std::string("not a digit: ") + c);
  return c - '0';
}

Result<int> sum_of_digits(char a, char b) {
  KAPPA_ASSIGN_OR_RETURN(int x, parse_digit(a));
  KAPPA_ASSIGN_OR_RETURN(const int y, parse_digit(b));
  return x + y;
}

Status assign_existing(char c, int& out) {
  KAPPA_ASSIGN_OR_RETURN(out, parse_digit(c));
  return Status::ok();
}

Result<std::unique_ptr<int>> make_owned(bool ok) {
  if (!ok) return Status::unavailable("none");
  return std::make_unique<int>(9);
}

Result<int> deref_owned(bool ok) {
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<int> p, make_owned(ok));
  return *p;
}

TEST(AssignOrReturnTest, BindsValues) {
  Result<int> sum = sum_of_digits('3', '4');
  ASSERT_TRUE(sum.is_ok()) << sum.status().to_string();
  EXPECT_EQ(*sum, 7);
}

TEST(AssignOrReturnTest, ReturnsTheError) {
  Result<int> sum = sum_of_digits('3', 'x');
  ASSERT_FALSE(sum.is_ok());
  EXPECT_EQ(sum.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sum.status().message(), "not a digit: x");
}

TEST(AssignOrReturnTest, AssignsToAnExistingVariable) {
  int out = -1;
  EXPECT_TRUE(assign_existing('8', out).is_ok());
  EXPECT_EQ(out, 8);
  Status status = assign_existing('?', out);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out, 8);  // untouched on error
}

TEST(AssignOrReturnTest, MovesMoveOnlyValues) {
  Result<int> ok = deref_owned(true);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(*ok, 9);
  Result<int> error = deref_owned(false);
  EXPECT_EQ(error.status().code(), StatusCode::kUnavailable);
}

TEST(CheckDeathTest, FailedCheckAbortsWithTheMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(KAPPA_CHECK(1 + 1 == 3, "arithmetic is broken"), "internal check failed.*arithmetic is broken");
}

}  // namespace
}  // namespace kappa
