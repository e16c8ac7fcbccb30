// monitor/rules.h — the bedside threshold and rate-of-change rules as one table, the alarm
// limits a clinician may set per patient over them, and RuleMonitor, which evaluates the table
// on a patient's observations (keeping the last hour of the codes that rate rules read).
//
// Each rule reads one measure of one or two observation codes (LOINC, values in the catalog's
// canonical units): the value itself, its rise above the hour's minimum, its fall below the
// hour's maximum, or its slope over the last 15–20 min. It raises when the measure passes
// `raise` (at `critical` with the critical severity) and resolves, with hysteresis, once the
// measure is back past `clear`; in between nothing changes.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/core/time.h"
#include "medtwin/monitor/alerts.h"
#include "medtwin/record/patient.h"

namespace medtwin::monitor {

enum class RuleMeasure {
  kValue,          // the observed value
  kRiseInHour,     // value − the last hour's minimum
  kFallInHour,     // the last hour's maximum − value
  kSlope15MinPer,  // (value − the reading 15–20 min ago) / minutes, per minute
};

enum class Direction { kBelow, kAbove };  // raise when the measure is below / above `raise`

struct Rule {
  std::string_view kind;
  std::array<std::string_view, 2> codes;  // LOINC codes read ("" unused)
  RuleMeasure measure;
  Direction direction;
  double raise;
  double clear;                    // hysteresis: resolve once the measure is back past it
  std::optional<double> critical;  // raise as critical past it
  Severity severity;
  bool raise_inclusive;  // raise at exactly `raise` (≥ / ≤) rather than strictly past it
  bool clear_inclusive;  // resolve at exactly `clear`
  // The alert's text, printf-formatted with the measure times `message_sign`.
  const char* message;
  double message_sign;
  // Limits a clinician may set lie within these bounds.
  double plausible_min, plausible_max;
  std::string_view source;
};

// Every rule, in the order they are evaluated.
[[nodiscard]] std::span<const Rule> Rules();
[[nodiscard]] const Rule* FindRule(std::string_view kind);

using record::AlarmLimit;
using record::AlarmLimits;

// A kind of unit and the alarm defaults it sets over the rule table, with their source.
struct UnitType {
  std::string_view name;
  std::span<const AlarmLimit> limits;
  std::string_view source;
};
// Every unit type a record may name ("ward" first: the rule table as it is).
[[nodiscard]] std::span<const UnitType> UnitTypes();
[[nodiscard]] const UnitType* FindUnitType(std::string_view name);  // "" is "ward"
// "ward, maternity", for errors.
[[nodiscard]] std::string UnitTypeList();

// The defaults that follow from the patient rather than the clinician: those of the unit type
// caring for them (unknown: a general ward's), and then for a patient on NEWS2's SpO2 scale 2
// (prescribed target 88–92 %, RCP 2017) alarms below 85 % instead of 90 % whatever the unit.
[[nodiscard]] AlarmLimits DefaultAlarmLimits(int spo2_scale, std::string_view unit_type = "");

// A clinician's limits as a rule would use them over `base`: known kind, numbers within the
// rule's plausible range, and `raise` on the alarming side of `clear` (and `critical` beyond
// `raise`) once combined; the error names the field ("alarm_limits.rules.<kind>.<raise|…>").
[[nodiscard]] Status ValidateAlarmLimits(const AlarmLimits& limits, const AlarmLimits& base);

// What one observation means for one rule.
struct RuleFinding {
  std::string_view kind;
  bool raise = false;  // false: resolve
  Severity severity = Severity::kLow;
  std::string message;  // raise only
};

class RuleMonitor {
 public:
  // Evaluates the rules that read `code` for an observation newer than any before it (older
  // ones must not reach here), with `limits` over the table's defaults (`base` first, then
  // `clinician`).
  std::vector<RuleFinding> Observe(std::string_view code, Instant t, double value,
                                   const AlarmLimits& base, const AlarmLimits& clinician);
  [[nodiscard]] std::size_t ApproxBytes() const;

 private:
  // The last hour of one code: minimum and maximum in monotonic deques (O(1) per value however
  // fast a device sends), and the raw values (at most 256) when a slope rule reads it.
  struct Window {
    std::deque<std::pair<Instant, double>> mins, maxs, raw;
    bool keep_raw = false;  // a slope rule reads this code
    void Push(Instant t, double v);
  };
  std::map<std::string, Window, std::less<>> windows_;
};

}  // namespace medtwin::monitor
