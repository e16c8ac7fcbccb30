#include <gtest/gtest.h>

#include "medtwin/core/format.h"
#include "medtwin/core/result.h"
#include "medtwin/core/time.h"

namespace medtwin {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("x", "odd value " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  MEDTWIN_TRY(int h, Half(x));
  MEDTWIN_TRY(int q, Half(h));
  return q;
}

TEST(Result, PropagatesTheFirstErrorWithItsField) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().ToString(), "x: odd value 3");
  EXPECT_EQ(r.error().WithContext("data.csv:14").ToString(), "data.csv:14: x: odd value 3");
}

TEST(Time, ParsesRfc3339WithOffsetsAndFractions) {
  auto a = ParseRfc3339("2026-11-25T10:43:46Z");
  auto b = ParseRfc3339("2026-11-25T11:43:46.250+01:00");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->us_since_epoch - a->us_since_epoch, 250000);
  // 2026-11-25T10:43:46Z is 1795603426 s after the epoch (date -d @1795603426 -u).
  EXPECT_EQ(a->us_since_epoch, 1795603426LL * 1000000);
  EXPECT_EQ(FormatRfc3339(*b), "2026-11-25T10:43:46.250000Z");
  EXPECT_DOUBLE_EQ(ElapsedHours(*a, Instant{a->us_since_epoch + 5400LL * 1000000}), 1.5);
}

TEST(Time, CivilCalendarRoundTripsOverFourCenturies) {
  for (std::int64_t d = -146097; d <= 146097 * 2; d += 17) {
    std::int64_t y = 0;
    unsigned m = 0, day = 0;
    CivilFromDays(d, y, m, day);
    ASSERT_EQ(DaysFromCivil(y, m, day), d);
  }
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);  // leap year 2000
}

TEST(Time, RejectsMalformedTimestampsNamingTheField) {
  for (const char* bad :
       {"2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-25 10:43", "2026-11-25T10:43:46",
        "2026-11-25T25:00:00Z", "yesterday", "2026-11-25T10:43:46Zjunk", "2026-11-25T10:43:46.Z"}) {
    auto r = ParseRfc3339(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "time");
  }
}

TEST(Format, ShortNumbers) {
  EXPECT_EQ(FormatNumber(2.0), "2");
  EXPECT_EQ(FormatNumber(0.25), "0.25");
}

}  // namespace
}  // namespace medtwin

namespace medtwin {
namespace {

Result<int> BadAmount() { return InvalidArgument("AMT", "must be >= 0"); }
Result<int> Seven() { return 7; }
Status BadStatus() { return InvalidArgument("RATE", "negative"); }

Result<int> Plain() {
  MEDTWIN_TRY(int v, BadAmount());
  return v;
}
Result<int> WithWhere() {
  MEDTWIN_TRY(int v, BadAmount(), "data.csv:14");
  return v;
}
Result<int> Passes() {
  MEDTWIN_TRY(int v, Seven(), "never added");
  MEDTWIN_RETURN_IF_ERROR(Status(Ok{}), "never added");
  return v + 1;
}
Status StatusWithWhere() {
  MEDTWIN_RETURN_IF_ERROR(BadStatus(), std::string("ID ") + "3");
  return Ok{};
}

TEST(ResultMacros, TryAddsTheContextItIsGivenAndNothingElse) {
  EXPECT_EQ(Plain().error().field, "AMT");
  EXPECT_EQ(WithWhere().error().field, "data.csv:14: AMT");
  EXPECT_EQ(WithWhere().error().message, "must be >= 0");
  EXPECT_EQ(WithWhere().error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(Passes().ok());
  EXPECT_EQ(*Passes(), 8);
  EXPECT_EQ(StatusWithWhere().error().field, "ID 3: RATE");
}

}  // namespace
}  // namespace medtwin
