#include "medtwin/core/time.h"

#include <algorithm>

#include <chrono>

#include <cctype>
#include <cstdio>

namespace medtwin {

// Howard Hinnant's civil-calendar algorithms (public domain description, re-derived here).
std::int64_t DaysFromCivil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto yoe = static_cast<unsigned>(year - era * 400);
  const unsigned mp = month > 2 ? month - 3 : month + 9;
  const unsigned doy = (153 * mp + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t days, std::int64_t& year, unsigned& month, unsigned& day) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
}

namespace {

bool ReadDigits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool Expect(std::string_view s, std::size_t& pos, char c) {
  if (pos < s.size() && std::toupper(static_cast<unsigned char>(s[pos])) == c) {
    ++pos;
    return true;
  }
  return false;
}

unsigned DaysInMonth(int year, int month) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29U : kDays[month - 1];
}

// The UTC days ending in a leap second, 1972-2016 (IERS Bulletin C; none announced since, and
// the CGPM's Resolution 4 of 2022 plans to stop adding them by 2035).
bool IsLeapSecondDay(std::int64_t days_since_epoch) {
  static const std::int64_t kDays[] = {
      DaysFromCivil(1972, 6, 30),  DaysFromCivil(1972, 12, 31), DaysFromCivil(1973, 12, 31),
      DaysFromCivil(1974, 12, 31), DaysFromCivil(1975, 12, 31), DaysFromCivil(1976, 12, 31),
      DaysFromCivil(1977, 12, 31), DaysFromCivil(1978, 12, 31), DaysFromCivil(1979, 12, 31),
      DaysFromCivil(1981, 6, 30),  DaysFromCivil(1982, 6, 30),  DaysFromCivil(1983, 6, 30),
      DaysFromCivil(1985, 6, 30),  DaysFromCivil(1987, 12, 31), DaysFromCivil(1989, 12, 31),
      DaysFromCivil(1990, 12, 31), DaysFromCivil(1992, 6, 30),  DaysFromCivil(1993, 6, 30),
      DaysFromCivil(1994, 6, 30),  DaysFromCivil(1995, 12, 31), DaysFromCivil(1997, 6, 30),
      DaysFromCivil(1998, 12, 31), DaysFromCivil(2005, 12, 31), DaysFromCivil(2008, 12, 31),
      DaysFromCivil(2012, 6, 30),  DaysFromCivil(2015, 6, 30),  DaysFromCivil(2016, 12, 31)};
  return std::find(std::begin(kDays), std::end(kDays), days_since_epoch) != std::end(kDays);
}

}  // namespace

Result<Instant> ParseRfc3339(std::string_view s) {
  auto bad = [&](const char* why) {
    return InvalidArgument("time", std::string(why) + " in '" + std::string(s.substr(0, 64)) +
                                       "' (expected RFC 3339, e.g. 2026-11-25T10:43:46Z)");
  };
  std::size_t p = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(s, p, 4, year) || !Expect(s, p, '-') || !ReadDigits(s, p, 2, month) ||
      !Expect(s, p, '-') || !ReadDigits(s, p, 2, day)) {
    return bad("malformed date");
  }
  if (!Expect(s, p, 'T') && !Expect(s, p, ' ')) return bad("missing 'T' between date and time");
  if (!ReadDigits(s, p, 2, hour) || !Expect(s, p, ':') || !ReadDigits(s, p, 2, minute) ||
      !Expect(s, p, ':') || !ReadDigits(s, p, 2, second)) {
    return bad("malformed time of day");
  }
  if (month < 1 || month > 12) return bad("month out of range");
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, month))
    return bad("day out of range");
  if (hour > 23 || minute > 59 || second > 60) return bad("time of day out of range");
  std::int64_t micros = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int digits = 0;
    std::int64_t frac = 0;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])) != 0) {
      if (digits < 6) {
        frac = frac * 10 + (s[p] - '0');
        ++digits;
      }
      ++p;
    }
    if (digits == 0) return bad("empty fraction of a second");
    for (int i = digits; i < 6; ++i) frac *= 10;
    micros = frac;
  }
  std::int64_t offset_s = 0;
  if (Expect(s, p, 'Z')) {
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh = 0, om = 0;
    if (!ReadDigits(s, p, 2, oh) || !Expect(s, p, ':') || !ReadDigits(s, p, 2, om) || oh > 23 ||
        om > 59) {
      return bad("malformed UTC offset");
    }
    offset_s = std::int64_t{sign} * (std::int64_t{oh} * 3600 + std::int64_t{om} * 60);
  } else {
    return bad("missing time zone (Z or +hh:mm)");
  }
  if (p != s.size()) return bad("trailing characters");
  const bool leap_second = second == 60;
  if (leap_second) second = 59;
  std::int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  std::int64_t secs =
      days * 86400 + std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second - offset_s;
  if (leap_second) {
    // Only a real leap second (RFC 3339 §5.7): 23:59:60 UTC on a day IERS inserted one. UTC
    // arithmetic has no slot for it, so it is kept as the last microsecond of 23:59:59 — after
    // every reading of 23:59:59 and before midnight, so it collides with neither.
    if (secs % 86400 != 86399 || !IsLeapSecondDay(secs / 86400)) {
      return bad("second 60 on a day without a leap second");
    }
    return Instant{secs * 1000000 + 999999};
  }
  return Instant{secs * 1000000 + micros};
}

CivilTime ToCivil(Instant t) {
  const std::int64_t us = t.us_since_epoch;
  const std::int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
  const std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const std::int64_t sod = secs - days * 86400;
  CivilTime c;
  c.micros = us - secs * 1000000;
  CivilFromDays(days, c.year, c.month, c.day);
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>(sod % 3600 / 60);
  c.second = static_cast<int>(sod % 60);
  c.weekday = static_cast<int>(((days % 7) + 7 + 4) % 7);
  return c;
}

std::string FormatRfc3339(Instant t) {
  const CivilTime c = ToCivil(t);
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d",
                        static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second);
  std::string out(buf, static_cast<std::size_t>(n));
  if (c.micros != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(c.micros));
    out += buf;
  }
  out += 'Z';
  return out;
}

double ElapsedHours(Instant origin, Instant t) {
  return static_cast<double>(t.us_since_epoch - origin.us_since_epoch) / 3.6e9;
}
double ElapsedMinutes(Instant origin, Instant t) {
  return static_cast<double>(t.us_since_epoch - origin.us_since_epoch) / 6e7;
}

Instant WallClockNow() {
  return Instant{std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count()};
}

std::string FormatHttpDate(Instant t) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const CivilTime c = ToCivil(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04lld %02d:%02d:%02d GMT", kDays[c.weekday], c.day,
                kMonths[c.month - 1], static_cast<long long>(c.year), c.hour, c.minute, c.second);
  return buf;
}

}  // namespace medtwin
