// The one date rule of FHIR search (server/fhir_search.h; R4 §3.1.1.5.7): a date stands for the
// range its precision gives, checked against calendar arithmetic done here with <chrono>
// (leap years, month ends, offsets), and the six prefixes compared range to range.
#include "medtwin/server/fhir_search.h"

#include <gtest/gtest.h>

#include <chrono>

namespace medtwin::server {
namespace {

using namespace std::chrono;

std::int64_t Us(year_month_day day, int h = 0, int m = 0, int s = 0) {
  const auto t = sys_days(day) + hours(h) + minutes(m) + seconds(s);
  return duration_cast<microseconds>(t.time_since_epoch()).count();
}

TEST(FhirDates, EachPrecisionIsItsRange) {
  auto r = FhirDateRange("2024");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lo.us_since_epoch, Us(2024y / January / 1));
  EXPECT_EQ(r->hi.us_since_epoch, Us(2025y / January / 1) - 1);
  r = FhirDateRange("2024-02");  // a leap year's February
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->hi.us_since_epoch, Us(2024y / March / 1) - 1);
  r = FhirDateRange("2023-12");  // the month that ends the year
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->hi.us_since_epoch, Us(2024y / January / 1) - 1);
  r = FhirDateRange("2024-02-29");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lo.us_since_epoch, Us(2024y / February / 29));
  EXPECT_EQ(r->hi.us_since_epoch, Us(2024y / March / 1) - 1);
  r = FhirDateRange("2024-03-01T10:00:00+01:00");  // a second, in UTC
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lo.us_since_epoch, Us(2024y / March / 1, 9));
  EXPECT_EQ(r->hi.us_since_epoch, Us(2024y / March / 1, 9, 0, 1) - 1);
  r = FhirDateRange("2024-03-01T09:00:00.25Z");  // a hundredth of a second
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lo.us_since_epoch, Us(2024y / March / 1, 9) + 250'000);
  EXPECT_EQ(r->hi.us_since_epoch, Us(2024y / March / 1, 9) + 259'999);
  EXPECT_FALSE(FhirDateRange("2024-13").ok());
  EXPECT_FALSE(FhirDateRange("yesterday").ok());
}

TEST(FhirDates, PrefixesCompareRangeToRange) {
  auto matches = [](const char* value, const char* query) {
    auto m = DateMatches(value, query, "date");
    EXPECT_TRUE(m.ok()) << query;
    return m.ok() && *m;
  };
  // A day inside the month; the month itself; the next day.
  EXPECT_TRUE(matches("1950-03-01", "1950-03"));
  EXPECT_TRUE(matches("1950-03-01", "eq1950"));
  EXPECT_FALSE(matches("1950-03", "1950-03-01"));  // a month is not within one of its days
  EXPECT_TRUE(matches("1950-03-02", "gt1950-03-01"));
  EXPECT_FALSE(matches("1950-03-01", "gt1950-03-01"));
  EXPECT_TRUE(matches("1950-03-01", "ge1950-03-01"));
  EXPECT_TRUE(matches("1950-02-28", "lt1950-03-01"));
  EXPECT_FALSE(matches("1950-03-01", "lt1950-03-01"));
  EXPECT_TRUE(matches("1950-03-01", "le1950-03"));
  EXPECT_TRUE(matches("1951-01-01", "ne1950"));
  EXPECT_FALSE(matches("1950-06-15", "ne1950"));
  EXPECT_TRUE(matches("1980", "ne1980-05-01"));  // ne is "not within", R4 §3.1.1.5.7
  // A stored instant to the microsecond is within the second a query names, and after it only
  // once that second is over.
  EXPECT_TRUE(matches("2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00Z"));
  EXPECT_FALSE(matches("2024-05-01T10:00:00.123456Z", "gt2024-05-01T10:00:00Z"));
  EXPECT_TRUE(matches("2024-05-01T10:00:01Z", "gt2024-05-01T10:00:00Z"));
  // Instants against a day.
  EXPECT_TRUE(matches("2026-12-07T23:59:59Z", "2026-12-07"));
  EXPECT_FALSE(matches("2026-12-08T00:00:00Z", "le2026-12-07"));
  EXPECT_TRUE(matches("2026-12-08T00:00:00+01:00", "le2026-12-07"));  // 23:00 UTC the 7th
  // A value that is no date never matches; a query that is none is an error naming the
  // parameter.
  EXPECT_FALSE(matches("", "1950"));
  auto bad = DateMatches("1950", "xx1950", "birthdate");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "birthdate");
  EXPECT_FALSE(DateMatches("1950", "ge19x0", "_lastUpdated").ok());
}

}  // namespace
}  // namespace medtwin::server
