#include "medtwin/monitor/rules.h"

#include <algorithm>
#include <cstdio>

#include "medtwin/core/format.h"
#include "medtwin/record/observation.h"

namespace medtwin::monitor {
namespace {

constexpr std::int64_t kMinuteUs = 60'000'000;
constexpr std::int64_t kRateWindowUs = 60 * kMinuteUs;
constexpr std::size_t kMaxRawValues = 256;

using record::loinc::kBloodGlucose;
using record::loinc::kCgmGlucose;
using record::loinc::kHeartRate;
using record::loinc::kSpo2;
using record::loinc::kSystolicBp;

// One row per rule: kind, codes, measure, direction, raise, clear, critical, severity,
// raise/clear inclusive, message and its sign, plausible range for a clinician's limits, source.
// clang-format off
constexpr Rule kRules[] = {
    {"spo2-low", {kSpo2, ""},
     RuleMeasure::kValue, Direction::kBelow, 90, 92, 85, Severity::kHigh, false, true,
     "SpO2 %.0f %%", 1, 50, 100,
     "BTS oxygen guideline (O'Driscoll 2017): target 94–98 %, below 90 % needs urgent review"},
    {"hypoglycemia", {kBloodGlucose, kCgmGlucose},
     RuleMeasure::kValue, Direction::kBelow, 70, 80, 54, Severity::kHigh, false, true,
     "glucose %.0f mg/dL", 1, 40, 150,
     "ADA Standards of Care 2024 §6: level 1 below 70 mg/dL, level 2 below 54 mg/dL"},
    {"hyperglycemia", {kBloodGlucose, kCgmGlucose},
     RuleMeasure::kValue, Direction::kAbove, 300, 250, std::nullopt, Severity::kMedium, false, false,
     "glucose %.0f mg/dL", 1, 150, 600,
     "medtwin ward rule: CGM consensus (Battelino 2019) counts above 250 mg/dL as level 2"},
    {"hypotension", {kSystolicBp, ""},
     RuleMeasure::kValue, Direction::kBelow, 90, 100, std::nullopt, Severity::kHigh, false, true,
     "systolic %.0f mmHg", 1, 50, 140,
     "NEWS2 (RCP 2017) scores systolic ≤ 90 mmHg 3; Sepsis-3 qSOFA ≤ 100 mmHg"},
    {"heart-rate-rising", {kHeartRate, ""},
     RuleMeasure::kRiseInHour, Direction::kAbove, 30, 15, std::nullopt, Severity::kMedium, true, false,
     "heart rate up %.0f /min within the hour", 1, 5, 100,
     "medtwin trend rule (no guideline value): a rise of 30 /min within an hour"},
    {"systolic-falling", {kSystolicBp, ""},
     RuleMeasure::kFallInHour, Direction::kAbove, 30, 15, std::nullopt, Severity::kMedium, true, false,
     "systolic down %.0f mmHg within the hour", 1, 5, 100,
     "medtwin trend rule (no guideline value): a fall of 30 mmHg within an hour"},
    {"glucose-falling-fast", {kCgmGlucose, ""},
     RuleMeasure::kSlope15MinPer, Direction::kBelow, -2, -1, std::nullopt, Severity::kMedium, false, false,
     "glucose falling %.1f mg/dL/min", -1, -10, 0,
     "CGM trend arrows: falling faster than 2 mg/dL/min is 'rapidly falling' (Dexcom G6)"},
};
// clang-format on

bool ReadsCode(const Rule& r, std::string_view code) {
  return r.codes[0] == code || (!r.codes[1].empty() && r.codes[1] == code);
}

bool NeedsWindow(std::string_view code) {
  for (const Rule& r : kRules) {
    if (r.measure != RuleMeasure::kValue && ReadsCode(r, code)) return true;
  }
  return false;
}

bool NeedsRaw(std::string_view code) {
  for (const Rule& r : kRules) {
    if (r.measure == RuleMeasure::kSlope15MinPer && ReadsCode(r, code)) return true;
  }
  return false;
}

// Past `threshold` in the alarming direction.
bool Past(Direction d, double measure, double threshold, bool inclusive) {
  if (d == Direction::kBelow) return inclusive ? measure <= threshold : measure < threshold;
  return inclusive ? measure >= threshold : measure > threshold;
}

// Back past `clear` on the safe side.
bool Cleared(Direction d, double measure, double clear, bool inclusive) {
  if (d == Direction::kBelow) return inclusive ? measure >= clear : measure > clear;
  return inclusive ? measure <= clear : measure < clear;
}

struct Thresholds {
  double raise, clear;
  std::optional<double> critical;
};

Thresholds Effective(const Rule& r, const AlarmLimits& base, const AlarmLimits& clinician) {
  Thresholds t{r.raise, r.clear, r.critical};
  for (const AlarmLimits* layer : {&base, &clinician}) {
    if (const AlarmLimit* l = layer->For(r.kind)) {
      if (l->raise) t.raise = *l->raise;
      if (l->clear) t.clear = *l->clear;
      if (l->critical) t.critical = *l->critical;
    }
  }
  return t;
}

}  // namespace

std::span<const Rule> Rules() { return kRules; }

const Rule* FindRule(std::string_view kind) {
  for (const Rule& r : kRules) {
    if (r.kind == kind) return &r;
  }
  return nullptr;
}

namespace {

// Maternity units score with MEOWS instead of NEWS2 (RCP 2017 does not validate NEWS2 in
// pregnancy); its red trigger for oxygen saturation is below 95 % (Singh et al., "A validation
// study of the CEMACH recommended modified early obstetric warning system (MEOWS)",
// Anaesthesia 2012;67:12-18). Its systolic trigger (below 90 mmHg) is the table's already.
const AlarmLimit kMaternityLimits[] = {{"spo2-low", 95, 96, std::nullopt}};

const UnitType kUnitTypes[] = {
    {"ward", {}, "the rule table (monitor/rules.cpp)"},
    {"maternity", kMaternityLimits, "MEOWS red triggers (Singh 2012, Anaesthesia 67:12)"},
};

}  // namespace

std::span<const UnitType> UnitTypes() { return kUnitTypes; }

const UnitType* FindUnitType(std::string_view name) {
  if (name.empty()) return &kUnitTypes[0];
  for (const auto& u : kUnitTypes) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

std::string UnitTypeList() {
  std::string out;
  for (const auto& u : kUnitTypes) out += (out.empty() ? "" : ", ") + std::string(u.name);
  return out;
}

AlarmLimits DefaultAlarmLimits(int spo2_scale, std::string_view unit_type) {
  AlarmLimits out;
  const UnitType* unit = FindUnitType(unit_type);
  if (unit == nullptr) unit = &kUnitTypes[0];
  out.limits.assign(unit->limits.begin(), unit->limits.end());
  if (spo2_scale == 2) {
    std::erase_if(out.limits, [](const AlarmLimit& l) { return l.kind == "spo2-low"; });
    out.limits.push_back({"spo2-low", 85, 87, 80});
  }
  return out;
}

Status ValidateAlarmLimits(const AlarmLimits& limits, const AlarmLimits& base) {
  if (limits.escalate_unacknowledged_min < 0 || limits.escalate_unacknowledged_min > 1440) {
    return InvalidArgument("alarm_limits.escalate_unacknowledged_min", "0–1440 minutes");
  }
  for (std::size_t i = 0; i < limits.limits.size(); ++i) {
    const AlarmLimit& l = limits.limits[i];
    const Rule* r = FindRule(l.kind);
    const std::string field = "alarm_limits.rules." + l.kind;
    if (r == nullptr) return InvalidArgument("alarm_limits", "no rule '" + l.kind + "'");
    for (std::size_t j = 0; j < i; ++j) {
      if (limits.limits[j].kind == l.kind) return InvalidArgument(field, "given twice");
    }
    const std::string range =
        FormatPrintf("%g", r->plausible_min) + "–" + FormatPrintf("%g", r->plausible_max);
    for (const auto& [name, v] : {std::pair{"raise", l.raise}, std::pair{"clear", l.clear},
                                  std::pair{"critical", l.critical}}) {
      if (v && !(*v >= r->plausible_min && *v <= r->plausible_max)) {
        return InvalidArgument(field + "." + name, "outside " + range);
      }
    }
    const Thresholds t = Effective(*r, base, AlarmLimits{{l}, 0});
    if (Past(r->direction, t.clear, t.raise, true)) {
      return InvalidArgument(field + ".clear",
                             FormatPrintf("must lie on the safe side of raise (%g)", t.raise));
    }
    if (t.critical && !Past(r->direction, *t.critical, t.raise, true)) {
      return InvalidArgument(field + ".critical",
                             FormatPrintf("must lie beyond raise (%g)", t.raise));
    }
    if (l.critical && !r->critical) {
      return InvalidArgument(field + ".critical", "this rule has no critical level");
    }
  }
  return Ok{};
}

void RuleMonitor::Window::Push(Instant t, double v) {
  while (!mins.empty() && mins.back().second >= v) mins.pop_back();
  mins.emplace_back(t, v);
  while (!maxs.empty() && maxs.back().second <= v) maxs.pop_back();
  maxs.emplace_back(t, v);
  const std::int64_t oldest = t.us_since_epoch - kRateWindowUs;
  while (mins.front().first.us_since_epoch < oldest) mins.pop_front();
  while (maxs.front().first.us_since_epoch < oldest) maxs.pop_front();
  if (keep_raw) {
    raw.emplace_back(t, v);
    while (!raw.empty() &&
           (raw.front().first.us_since_epoch < oldest || raw.size() > kMaxRawValues)) {
      raw.pop_front();
    }
  }
}

std::vector<RuleFinding> RuleMonitor::Observe(std::string_view code, Instant t, double value,
                                              const AlarmLimits& base,
                                              const AlarmLimits& clinician) {
  std::vector<RuleFinding> out;
  Window* window = nullptr;
  if (NeedsWindow(code)) {
    auto it = windows_.find(code);
    if (it == windows_.end()) {
      Window w;
      w.keep_raw = NeedsRaw(code);
      it = windows_.emplace(std::string(code), std::move(w)).first;
    }
    window = &it->second;
    window->Push(t, value);
  }
  for (const Rule& r : kRules) {
    if (!ReadsCode(r, code)) continue;
    std::optional<double> measure;
    switch (r.measure) {
      case RuleMeasure::kValue:
        measure = value;
        break;
      case RuleMeasure::kRiseInHour:
        measure = value - window->mins.front().second;
        break;
      case RuleMeasure::kFallInHour:
        measure = window->maxs.front().second - value;
        break;
      case RuleMeasure::kSlope15MinPer:
        // The oldest reading 15–20 min back; none: the rule cannot tell yet.
        for (const auto& [then, v] : window->raw) {
          const double minutes = static_cast<double>(t.us_since_epoch - then.us_since_epoch) / 6e7;
          if (minutes >= 15 && minutes <= 20) {
            measure = (value - v) / minutes;
            break;
          }
        }
        break;
    }
    if (!measure) continue;
    const Thresholds th = Effective(r, base, clinician);
    if (Past(r.direction, *measure, th.raise, r.raise_inclusive)) {
      const bool critical = th.critical && Past(r.direction, *measure, *th.critical, false);
      out.push_back({r.kind, true, critical ? Severity::kCritical : r.severity,
                     FormatPrintf(r.message, *measure * r.message_sign)});
    } else if (Cleared(r.direction, *measure, th.clear, r.clear_inclusive)) {
      out.push_back({r.kind, false, Severity::kLow, {}});
    }
  }
  return out;
}

std::size_t RuleMonitor::ApproxBytes() const {
  std::size_t bytes = 0;
  for (const auto& [code, w] : windows_) {
    bytes += 64 + (w.mins.size() + w.maxs.size() + w.raw.size()) * 16;
  }
  return bytes;
}

}  // namespace medtwin::monitor
