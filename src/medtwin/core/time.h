// core/time.h — UTC instants and durations, RFC 3339 in and out.
// Instants are microseconds since 1970-01-01T00:00:00Z; model time is a double in the model's
// own unit (hours for PK, minutes for glucose), converted at the boundary with ToModelTime.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "medtwin/core/result.h"

namespace medtwin {

struct Instant {
  std::int64_t us_since_epoch = 0;
  auto operator<=>(const Instant&) const = default;
};

// Parses "2026-11-25T10:43:46Z", "…T10:43:46.250+01:00", lower-case t/z accepted.
[[nodiscard]] Result<Instant> ParseRfc3339(std::string_view text);
// The wall clock now.
[[nodiscard]] Instant WallClockNow();
// Formats as "YYYY-MM-DDThh:mm:ss[.ffffff]Z" (fraction only when non-zero).
// An instant's UTC calendar parts (proleptic Gregorian), for every format that writes one.
struct CivilTime {
  std::int64_t year = 1970;
  unsigned month = 1, day = 1;
  int hour = 0, minute = 0, second = 0;
  std::int64_t micros = 0;
  int weekday = 4;  // 0 Sunday … 6 Saturday (1970-01-01 was a Thursday)
};
[[nodiscard]] CivilTime ToCivil(Instant t);
[[nodiscard]] std::string FormatRfc3339(Instant t);
// As HTTP dates are written (RFC 9110 §5.6.7 IMF-fixdate): "Mon, 07 Dec 2026 14:28:19 GMT".
[[nodiscard]] std::string FormatHttpDate(Instant t);

// Hours (or another unit given in seconds per unit) elapsed from `origin` to `t`.
[[nodiscard]] double ElapsedHours(Instant origin, Instant t);
[[nodiscard]] double ElapsedMinutes(Instant origin, Instant t);

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
[[nodiscard]] std::int64_t DaysFromCivil(std::int64_t year, unsigned month, unsigned day);
void CivilFromDays(std::int64_t days, std::int64_t& year, unsigned& month, unsigned& day);

}  // namespace medtwin
