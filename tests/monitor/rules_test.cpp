// The rule table and the alert lifecycle: each rule at its published thresholds (boundaries
// and hysteresis), the rate rules over their windows, a clinician's limits over the defaults,
// and AlertBook's raise / deduplicate / escalate / acknowledge / resolve.
#include "medtwin/monitor/rules.h"

#include <gtest/gtest.h>

#include "medtwin/monitor/alerts.h"

namespace medtwin::monitor {
namespace {

constexpr std::int64_t kMinuteUs = 60'000'000;
Instant Min(double m) { return Instant{static_cast<std::int64_t>(m * kMinuteUs)}; }

const RuleFinding* FindingOf(const std::vector<RuleFinding>& fs, std::string_view kind) {
  for (const auto& f : fs) {
    if (f.kind == kind) return &f;
  }
  return nullptr;
}

TEST(Rules, EveryRuleHasASourceAndConsistentThresholds) {
  for (const Rule& r : Rules()) {
    EXPECT_FALSE(r.source.empty()) << r.kind;
    // `raise` lies on the alarming side of `clear`, `critical` beyond `raise`.
    if (r.direction == Direction::kBelow) {
      EXPECT_LT(r.raise, r.clear) << r.kind;
      if (r.critical) {
        EXPECT_LT(*r.critical, r.raise) << r.kind;
      }
    } else {
      EXPECT_GT(r.raise, r.clear) << r.kind;
      if (r.critical) {
        EXPECT_GT(*r.critical, r.raise) << r.kind;
      }
    }
    EXPECT_GE(r.raise, r.plausible_min) << r.kind;
    EXPECT_LE(r.raise, r.plausible_max) << r.kind;
    EXPECT_EQ(FindRule(r.kind), &r);
  }
  EXPECT_EQ(FindRule("no-such-rule"), nullptr);
}

TEST(Rules, Spo2RaisesBelow90CriticalBelow85AndResolvesFrom92) {
  RuleMonitor m;
  const AlarmLimits none;
  auto at = [&](double minute, double spo2) {
    return m.Observe("2708-6", Min(minute), spo2, none, none);
  };
  EXPECT_TRUE(at(0, 90).empty());  // not below 90
  auto f = at(1, 89);
  ASSERT_NE(FindingOf(f, "spo2-low"), nullptr);
  EXPECT_TRUE(FindingOf(f, "spo2-low")->raise);
  EXPECT_EQ(FindingOf(f, "spo2-low")->severity, Severity::kHigh);
  EXPECT_EQ(FindingOf(f, "spo2-low")->message, "SpO2 89 %");
  EXPECT_EQ(FindingOf(at(2, 85), "spo2-low")->severity, Severity::kHigh);  // 85 is not below 85
  EXPECT_EQ(FindingOf(at(3, 84), "spo2-low")->severity, Severity::kCritical);
  EXPECT_TRUE(at(4, 91).empty());  // between raise and clear: no change (hysteresis)
  f = at(5, 92);
  ASSERT_NE(FindingOf(f, "spo2-low"), nullptr);
  EXPECT_FALSE(FindingOf(f, "spo2-low")->raise);
}

TEST(Rules, ScaleTwoAndAClinicianShiftTheSpo2Limits) {
  RuleMonitor m;
  const AlarmLimits scale2 = DefaultAlarmLimits(2);
  const AlarmLimits none;
  // Scale 2 (target 88–92 %): 87 % is no alarm, 84 % is, 79 % critical; resolved from 87.
  auto f = m.Observe("2708-6", Min(0), 87, scale2, none);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_FALSE(f[0].raise);  // at the clear level: a resolve (of nothing yet)
  EXPECT_EQ(m.Observe("2708-6", Min(1), 84, scale2, none)[0].severity, Severity::kHigh);
  EXPECT_EQ(m.Observe("2708-6", Min(2), 79, scale2, none)[0].severity, Severity::kCritical);
  // A clinician's limit wins over both: alarm below 94 %, clear from 96 %.
  AlarmLimits clinician;
  clinician.limits.push_back({"spo2-low", 94, 96, std::nullopt});
  f = m.Observe("2708-6", Min(3), 93, scale2, clinician);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(f[0].raise);
  EXPECT_EQ(f[0].severity, Severity::kHigh);  // critical stays the scale-2 default, 80
  EXPECT_FALSE(m.Observe("2708-6", Min(4), 96, scale2, clinician)[0].raise);
}

// A maternity unit alarms on SpO2 below 95 % (MEOWS's red trigger, Singh 2012), a general ward
// below 90 %; scale 2 keeps its own limits on either; the unit type is named in errors.
TEST(Rules, UnitTypesSetTheirOwnDefaults) {
  const AlarmLimits none;
  RuleMonitor ward, maternity, copd_maternity;
  auto f = ward.Observe("2708-6", Min(0), 94, DefaultAlarmLimits(1, "ward"), none);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_FALSE(f[0].raise);  // above the ward's clear level: a resolve (of nothing)
  f = maternity.Observe("2708-6", Min(0), 94, DefaultAlarmLimits(1, "maternity"), none);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(f[0].raise);
  EXPECT_EQ(f[0].severity, Severity::kHigh);
  // Cleared from 96 %; critical still below 85 %.
  EXPECT_FALSE(
      maternity.Observe("2708-6", Min(1), 96, DefaultAlarmLimits(1, "maternity"), none)[0].raise);
  EXPECT_EQ(
      maternity.Observe("2708-6", Min(2), 84, DefaultAlarmLimits(1, "maternity"), none)[0].severity,
      Severity::kCritical);
  // Scale 2 on a maternity unit: 87 % is the prescribed target, no alarm.
  f = copd_maternity.Observe("2708-6", Min(0), 87, DefaultAlarmLimits(2, "maternity"), none);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_FALSE(f[0].raise);
  // "" is a general ward; every unit type names a source.
  EXPECT_EQ(DefaultAlarmLimits(1, ""), DefaultAlarmLimits(1, "ward"));
  EXPECT_EQ(FindUnitType("")->name, "ward");
  EXPECT_EQ(FindUnitType("icu-of-mars"), nullptr);
  for (const auto& u : UnitTypes()) EXPECT_FALSE(u.source.empty()) << u.name;
  // A clinician's clear level is checked against the unit's raise level.
  auto e = ValidateAlarmLimits(AlarmLimits{{{"spo2-low", std::nullopt, 93, std::nullopt}}, 0},
                               DefaultAlarmLimits(1, "maternity"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "alarm_limits.rules.spo2-low.clear");
}

TEST(Rules, GlucoseReadsBothCodesWithLevelsOneAndTwo) {
  const AlarmLimits none;
  for (const char* code : {"2339-0", "99504-3"}) {
    RuleMonitor m;
    auto f = m.Observe(code, Min(0), 69, none, none);
    ASSERT_NE(FindingOf(f, "hypoglycemia"), nullptr) << code;
    EXPECT_EQ(FindingOf(f, "hypoglycemia")->severity, Severity::kHigh);
    EXPECT_EQ(FindingOf(f, "hypoglycemia")->message, "glucose 69 mg/dL");
    EXPECT_EQ(FindingOf(m.Observe(code, Min(1), 53, none, none), "hypoglycemia")->severity,
              Severity::kCritical);
    EXPECT_EQ(FindingOf(m.Observe(code, Min(2), 79, none, none), "hypoglycemia"), nullptr);
    EXPECT_FALSE(FindingOf(m.Observe(code, Min(3), 80, none, none), "hypoglycemia")->raise);
    EXPECT_TRUE(FindingOf(m.Observe(code, Min(4), 301, none, none), "hyperglycemia")->raise);
    EXPECT_EQ(FindingOf(m.Observe(code, Min(5), 250, none, none), "hyperglycemia"), nullptr);
    EXPECT_FALSE(FindingOf(m.Observe(code, Min(6), 249, none, none), "hyperglycemia")->raise);
  }
}

TEST(Rules, HeartRateRiseCountsFromTheHoursMinimumOnly) {
  RuleMonitor m;
  const AlarmLimits none;
  m.Observe("8867-4", Min(0), 70, none, none);
  m.Observe("8867-4", Min(20), 80, none, none);
  auto f = m.Observe("8867-4", Min(40), 100, none, none);  // +30 from 70 within the hour
  ASSERT_NE(FindingOf(f, "heart-rate-rising"), nullptr);
  EXPECT_EQ(FindingOf(f, "heart-rate-rising")->message, "heart rate up 30 /min within the hour");
  // 70 leaves the window at minute 60; from 80 the rise is 20: between clear (15) and raise.
  EXPECT_EQ(FindingOf(m.Observe("8867-4", Min(61), 100, none, none), "heart-rate-rising"), nullptr);
  // 81 leaves at 80+60; the hour's minimum is 100 then, and 110 is +10: resolved.
  f = m.Observe("8867-4", Min(101), 110, none, none);
  ASSERT_NE(FindingOf(f, "heart-rate-rising"), nullptr);
  EXPECT_FALSE(FindingOf(f, "heart-rate-rising")->raise);
}

TEST(Rules, SystolicFallAndLowPressureAreSeparateRules) {
  RuleMonitor m;
  const AlarmLimits none;
  m.Observe("8480-6", Min(0), 125, none, none);
  auto f = m.Observe("8480-6", Min(30), 89, none, none);
  ASSERT_NE(FindingOf(f, "hypotension"), nullptr);
  ASSERT_NE(FindingOf(f, "systolic-falling"), nullptr);
  EXPECT_EQ(FindingOf(f, "systolic-falling")->message, "systolic down 36 mmHg within the hour");
  // The table's order is the order of evaluation.
  EXPECT_EQ(f[0].kind, "hypotension");
}

TEST(Rules, CgmSlopeUsesTheReadingFifteenToTwentyMinutesBack) {
  RuleMonitor m;
  const AlarmLimits none;
  for (int t = 0; t <= 10; t += 5) m.Observe("99504-3", Min(t), 200 - 3.0 * t, none, none);
  // Minute 15: the reading at 0 is 15 min back; (155 − 200) / 15 = −3 mg/dL/min.
  auto f = m.Observe("99504-3", Min(15), 155, none, none);
  ASSERT_NE(FindingOf(f, "glucose-falling-fast"), nullptr);
  EXPECT_EQ(FindingOf(f, "glucose-falling-fast")->message, "glucose falling 3.0 mg/dL/min");
  // A reading with nothing 15–20 min before it says nothing.
  RuleMonitor fresh;
  EXPECT_EQ(FindingOf(fresh.Observe("99504-3", Min(0), 100, none, none), "glucose-falling-fast"),
            nullptr);
  // Flat from minute 20 on: slope (155 − 170)/15 = −1: not yet cleared (needs > −1) …
  m.Observe("99504-3", Min(20), 155, none, none);
  EXPECT_EQ(FindingOf(m.Observe("99504-3", Min(25), 155, none, none), "glucose-falling-fast"),
            nullptr);
  // … (155 − 155)/15 = 0 clears.
  f = m.Observe("99504-3", Min(30), 155, none, none);
  ASSERT_NE(FindingOf(f, "glucose-falling-fast"), nullptr);
  EXPECT_FALSE(FindingOf(f, "glucose-falling-fast")->raise);
}

TEST(AlarmLimits, ValidationNamesTheField) {
  const AlarmLimits base;
  auto check = [&](AlarmLimit l) {
    return ValidateAlarmLimits(AlarmLimits{{std::move(l)}, 0}, base);
  };
  EXPECT_TRUE(check({"spo2-low", 92, 94, 88}).ok());
  auto e = check({"spo2-lo", 92, std::nullopt, std::nullopt});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "alarm_limits");
  e = check({"spo2-low", 120, std::nullopt, std::nullopt});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "alarm_limits.rules.spo2-low.raise");
  // Raising at 95 with the default clear (92) would clear below the alarm: refused.
  e = check({"spo2-low", 95, std::nullopt, std::nullopt});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "alarm_limits.rules.spo2-low.clear");
  e = check({"spo2-low", 90, 92, 91});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "alarm_limits.rules.spo2-low.critical");
  e = check({"hypotension", 90, 100, 80});  // the rule has no critical level
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "alarm_limits.rules.hypotension.critical");
  e = ValidateAlarmLimits(AlarmLimits{{}, 2000}, base);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "alarm_limits.escalate_unacknowledged_min");
  // Against scale 2's defaults, raising at 88 % keeps the default clear (87) below it.
  e = ValidateAlarmLimits(AlarmLimits{{{"spo2-low", 88, std::nullopt, std::nullopt}}, 0},
                          DefaultAlarmLimits(2));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "alarm_limits.rules.spo2-low.clear");
}

std::uint64_t g_next = 0;
std::uint64_t NextId() { return ++g_next; }

TEST(AlertBook, OneOpenAlertPerKindThroughItsLifecycle) {
  AlertBook book("p1");
  const Alert* a = book.Raise("spo2-low", Severity::kHigh, Min(0), "SpO2 88 %", &NextId);
  ASSERT_NE(a, nullptr);
  const std::uint64_t id = a->id;
  EXPECT_EQ(a->patient, "p1");
  EXPECT_EQ(a->status, AlertStatus::kOpen);
  // The same condition again: deduplicated.
  EXPECT_EQ(book.Raise("spo2-low", Severity::kHigh, Min(1), "SpO2 88 %", &NextId), nullptr);
  ASSERT_NE(book.Acknowledge(id, "dr-a"), nullptr);
  EXPECT_EQ(book.Find(id)->status, AlertStatus::kAcknowledged);
  // Worse: escalated and open again although acknowledged.
  a = book.Raise("spo2-low", Severity::kCritical, Min(2), "SpO2 83 %", &NextId);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, id);
  EXPECT_EQ(a->status, AlertStatus::kOpen);
  EXPECT_EQ(a->escalations, 1);
  // Better but not resolved: de-escalated, not counted as an escalation.
  a = book.Raise("spo2-low", Severity::kHigh, Min(3), "SpO2 88 %", &NextId);
  EXPECT_EQ(a->severity, Severity::kHigh);
  EXPECT_EQ(a->escalations, 1);
  a = book.Resolve("spo2-low", Min(4));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->status, AlertStatus::kResolved);
  EXPECT_EQ(book.Resolve("spo2-low", Min(5)), nullptr);
  // Raised again after resolution: a new alert with a new id.
  a = book.Raise("spo2-low", Severity::kHigh, Min(6), "SpO2 88 %", &NextId);
  EXPECT_NE(a->id, id);
  EXPECT_EQ(book.all().size(), 2u);
  EXPECT_EQ(book.Acknowledge(999999, "dr-a"), nullptr);
  // Without an id source nothing new is raised.
  EXPECT_EQ(book.Raise("news2", Severity::kMedium, Min(7), "NEWS2 5", nullptr), nullptr);
}

TEST(AlertBook, UnacknowledgedAlertsEscalateAfterTheSetTime) {
  AlertBook book("p1");
  const std::uint64_t a = book.Raise("news2", Severity::kMedium, Min(0), "NEWS2 5", &NextId)->id;
  const std::uint64_t b = book.Raise("hypotension", Severity::kHigh, Min(0), "x", &NextId)->id;
  book.Acknowledge(b, "nurse");
  EXPECT_TRUE(book.EscalateUnacknowledged(Min(14), 15).empty());
  EXPECT_TRUE(book.EscalateUnacknowledged(Min(60), 0).empty());  // 0: never
  auto changed = book.EscalateUnacknowledged(Min(15), 15);
  ASSERT_EQ(changed.size(), 1u);  // the acknowledged one waits
  EXPECT_EQ(changed[0]->id, a);
  EXPECT_EQ(changed[0]->severity, Severity::kHigh);
  EXPECT_EQ(changed[0]->escalations, 1);
  // The clock restarts from the escalation; at critical it stays critical but still counts.
  EXPECT_TRUE(book.EscalateUnacknowledged(Min(29), 15).empty());
  EXPECT_EQ(book.EscalateUnacknowledged(Min(30), 15)[0]->severity, Severity::kCritical);
  EXPECT_EQ(book.EscalateUnacknowledged(Min(45), 15)[0]->severity, Severity::kCritical);
  EXPECT_EQ(book.Find(a)->escalations, 3);
}

TEST(AlertBook, KeepsFiftyDroppingTheOldestResolved) {
  AlertBook book("p1");
  for (int i = 0; i < 60; ++i) {
    const std::string kind = "k" + std::to_string(i);
    book.Raise(kind, Severity::kLow, Min(i), "m", &NextId);
    if (i < 30) book.Resolve(kind, Min(i));
  }
  EXPECT_EQ(book.all().size(), 50u);
  EXPECT_EQ(book.all().front().kind, "k10");
}

TEST(Severity, NamesRoundTrip) {
  for (int s = 1; s <= 5; ++s) {
    const auto sev = static_cast<Severity>(s);
    EXPECT_EQ(ParseSeverity(SeverityName(sev)), sev);
  }
  EXPECT_EQ(ParseSeverity("severe"), std::nullopt);
  for (auto st : {AlertStatus::kOpen, AlertStatus::kAcknowledged, AlertStatus::kResolved}) {
    EXPECT_EQ(ParseAlertStatus(AlertStatusName(st)), st);
  }
}

}  // namespace
}  // namespace medtwin::monitor
