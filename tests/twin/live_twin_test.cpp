// The server's live twins: NEWS2 and alert lifecycle on a deteriorating patient, rules,
// late observations, patient records, and the sharded engine (routing, queries,
// acknowledgement, the event stream).
#include "medtwin/twin/live_twin.h"
#include "medtwin/io/patient.h"

#include <gtest/gtest.h>

#include <mutex>

#include "medtwin/twin/engine.h"

namespace medtwin::twin {
namespace {

record::PatientRecord Rec(const char* id) {
  record::PatientRecord r;
  r.id = id;
  return r;
}

std::uint64_t Ids() {
  static std::uint64_t n = 1000;
  return ++n;
}

record::Observation Vital(std::string_view code, double value, int minute, std::string text = "") {
  record::Observation o;
  o.patient = "p1";
  o.code = std::string(code);
  o.value = value;
  o.text = std::move(text);
  o.time.us_since_epoch = 1'800'000'000'000'000LL + minute * 60'000'000LL;
  o.source = "test";
  return o;
}

// A full set at `minute`: RR, SpO2, O2 flow, SBP, HR, ACVPU, temperature.
std::vector<record::Observation> Set(int minute, double rr, double spo2, double o2, double sbp,
                                     double hr, const char* acvpu, double temp) {
  namespace l = record::loinc;
  return {Vital(l::kRespiratoryRate, rr, minute),  Vital(l::kSpo2, spo2, minute),
          Vital(l::kInhaledO2Flow, o2, minute),    Vital(l::kSystolicBp, sbp, minute),
          Vital(l::kHeartRate, hr, minute),        Vital(l::kConsciousness, 0, minute, acvpu),
          Vital(l::kBodyTemperature, temp, minute)};
}

const Alert* Find(const LiveTwin& t, const std::string& kind) {
  for (const auto& a : t.alerts()) {
    if (a.kind == kind) return &a;
  }
  return nullptr;
}

TEST(LiveTwin, DeterioratingPatientRaisesEscalatesAndResolvesOneNews2Alert) {
  record::PatientRecord r;
  r.id = "p1";
  LiveTwin twin(r);
  for (const auto& o : Set(0, 16, 97, 0, 125, 72, "A", 37.0)) twin.Apply(o, &Ids);
  EXPECT_EQ(twin.News2().total, 0);
  EXPECT_EQ(Find(twin, "news2"), nullptr);
  // Sepsis-like drift: 5 (medium) then 9 (high).
  for (const auto& o : Set(60, 22, 94, 0, 105, 105, "A", 38.4)) twin.Apply(o, &Ids);
  ASSERT_EQ(twin.News2().total, 2 + 1 + 0 + 1 + 1 + 0 + 1);  // 6
  const Alert* a = Find(twin, "news2");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->severity, Severity::kMedium);
  const auto id = a->id;
  // The same again: no second alert.
  for (const auto& o : Set(70, 22, 94, 0, 105, 105, "A", 38.4)) twin.Apply(o, &Ids);
  EXPECT_EQ(std::count_if(twin.alerts().begin(), twin.alerts().end(),
                          [](const Alert& x) { return x.kind == "news2"; }),
            1);
  for (const auto& o : Set(120, 26, 91, 2, 95, 125, "C", 39.2)) twin.Apply(o, &Ids);
  a = Find(twin, "news2");
  EXPECT_EQ(a->id, id);
  EXPECT_EQ(a->severity, Severity::kHigh);
  EXPECT_EQ(a->escalations, 1);
  EXPECT_EQ(twin.View().news2.score.risk, monitor::News2Risk::kHigh);
  // Recovery: resolved.
  for (const auto& o : Set(600, 16, 97, 0, 125, 72, "A", 37.0)) twin.Apply(o, &Ids);
  EXPECT_EQ(Find(twin, "news2")->status, AlertStatus::kResolved);
  EXPECT_EQ(twin.View().open_alerts.size(), 0u);  // only open ones are listed
}

TEST(LiveTwin, IncompleteSetHasNullTotalAndStaleValuesDropOut) {
  LiveTwin twin(Rec("p1"));
  twin.Apply(Vital(record::loinc::kHeartRate, 135, 0), &Ids);
  const monitor::News2Score news2 = twin.View().news2.score;
  EXPECT_FALSE(news2.total.has_value());
  EXPECT_FALSE(news2.complete);
  EXPECT_EQ(news2.parts[4], 3);              // pulse
  EXPECT_FALSE(news2.parts[6].has_value());  // temperature
  // A full set, then 5 h later only a new heart rate: the rest is stale, the set incomplete.
  for (const auto& o : Set(10, 16, 97, 0, 125, 72, "A", 37.0)) twin.Apply(o, &Ids);
  EXPECT_TRUE(twin.News2().complete);
  twin.Apply(Vital(record::loinc::kHeartRate, 80, 310), &Ids);
  EXPECT_FALSE(twin.News2().complete);
}

TEST(LiveTwin, ThresholdAndRateRulesAndLateObservations) {
  record::PatientRecord r = Rec("p1");
  LiveTwin twin(r);
  twin.Apply(Vital(record::loinc::kSpo2, 88, 0), &Ids);
  ASSERT_NE(Find(twin, "spo2-low"), nullptr);
  EXPECT_EQ(Find(twin, "spo2-low")->severity, Severity::kHigh);
  twin.Apply(Vital(record::loinc::kSpo2, 83, 5), &Ids);
  EXPECT_EQ(Find(twin, "spo2-low")->severity, Severity::kCritical);
  twin.Apply(Vital(record::loinc::kSpo2, 95, 10), &Ids);
  EXPECT_EQ(Find(twin, "spo2-low")->status, AlertStatus::kResolved);
  // Scale 2 patients: 87 % is their target range, no alert.
  record::PatientRecord copd = Rec("p2");
  copd.spo2_scale = 2;
  LiveTwin t2(copd);
  t2.Apply(Vital(record::loinc::kSpo2, 87, 0), &Ids);
  EXPECT_EQ(Find(t2, "spo2-low"), nullptr);
  // Heart rate up 35 /min within 40 min.
  twin.Apply(Vital(record::loinc::kHeartRate, 80, 20), &Ids);
  twin.Apply(Vital(record::loinc::kHeartRate, 95, 40), &Ids);
  EXPECT_EQ(Find(twin, "heart-rate-rising"), nullptr);
  twin.Apply(Vital(record::loinc::kHeartRate, 115, 60), &Ids);
  ASSERT_NE(Find(twin, "heart-rate-rising"), nullptr);
  // A late value does not replace the latest.
  twin.Apply(Vital(record::loinc::kHeartRate, 50, 30), &Ids);
  EXPECT_EQ(twin.View().latest.at("8867-4").value, 115);
  // CGM hypoglycemia and a fast fall.
  twin.Apply(Vital(record::loinc::kCgmGlucose, 130, 100), &Ids);
  twin.Apply(Vital(record::loinc::kCgmGlucose, 85, 115), &Ids);
  ASSERT_NE(Find(twin, "glucose-falling-fast"), nullptr);
  twin.Apply(Vital(record::loinc::kCgmGlucose, 52, 130), &Ids);
  EXPECT_EQ(Find(twin, "hypoglycemia")->severity, Severity::kCritical);
}

TEST(PatientRecord, ParsesValidatesAndRoundTrips) {
  auto p = io::ParsePatient(nlohmann::json::parse(
      R"({"id":"bed-12","sex":"female","race":"asian","weight_kg":71.5,"scr_mg_dl":1.1,"spo2_scale":2,
          "models":["news2","vancomycin"],"population_model":"vancomycin_goti2018",
          "genotype":[{"gene":"CYP2C19","diplotype":"*1/*2","phenotype":"Intermediate Metabolizer"}]})"));
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->spo2_scale, 2);
  EXPECT_EQ(p->race, "asian");
  auto back = io::ParsePatient(io::PatientToJson(*p));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(io::PatientToJson(*back), io::PatientToJson(*p));
  struct Case {
    const char* body;
    const char* field;
  } bad[] = {{R"({"id":"a b"})", "id"},
             {R"({"weight_kg":-3})", "weight_kg"},
             {R"({"weight_kg":"heavy"})", "weight_kg"},
             {R"({"sex":"f"})", "sex"},
             {R"({"spo2_scale":3})", "spo2_scale"},
             {R"({"unit_type":"bridge"})", "unit_type"},
             {R"({"unit_type":2})", "unit_type"},
             {R"({"models":["astrology"]})", "models"},
             {R"({"birth_date":"25/11/1970"})", "birth_date"},
             {R"({"race":"martian"})", "race"},
             {R"({"shoe_size":44})", "shoe_size"}};
  for (const auto& c : bad) {
    auto r = io::ParsePatient(nlohmann::json::parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().field, c.field) << r.error().ToString();
  }
  // Updates keep what they do not mention; the id cannot change.
  auto u = io::ParsePatient(nlohmann::json::parse(R"({"weight_kg":80})"), &*p);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u->weight_kg, 80);
  EXPECT_EQ(u->population_model, "vancomycin_goti2018");
  EXPECT_FALSE(io::ParsePatient(nlohmann::json::parse(R"({"id":"other"})"), &*p).ok());
}

TEST(LiveTwin, ClinicianAlarmLimitsAndEscalationOfUnacknowledgedAlerts) {
  // A patient whose clinician wants to hear below 94 % SpO2 and escalation after 15 min.
  auto rec = io::ParsePatient(nlohmann::json::parse(R"({"id":"p1","alarm_limits":{
      "rules":{"spo2-low":{"raise":94,"clear":96}},"escalate_unacknowledged_min":15}})"));
  ASSERT_TRUE(rec.ok()) << rec.error().ToString();
  EXPECT_EQ(io::PatientToJson(*rec)["alarm_limits"]["rules"]["spo2-low"]["raise"], 94);
  auto back = io::ParsePatient(io::PatientToJson(*rec));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->alarm_limits, rec->alarm_limits);

  LiveTwin twin(*rec);
  auto u = twin.Apply(Vital(record::loinc::kSpo2, 93, 0), &Ids);
  ASSERT_EQ(u.alerts.size(), 1u);
  EXPECT_EQ(u.alerts[0].kind, "spo2-low");
  EXPECT_EQ(u.alerts[0].severity, Severity::kHigh);
  // Still 93 % ten minutes on: deduplicated, not yet overdue.
  EXPECT_TRUE(twin.Apply(Vital(record::loinc::kSpo2, 93, 10), &Ids).alerts.empty());
  // Fifteen minutes unacknowledged: up one severity, counted.
  u = twin.Apply(Vital(record::loinc::kSpo2, 93, 15), &Ids);
  ASSERT_EQ(u.alerts.size(), 1u);
  EXPECT_EQ(u.alerts[0].severity, Severity::kCritical);
  EXPECT_EQ(u.alerts[0].escalations, 1);
  // The same reading again does not take the escalation back (only acknowledging does).
  EXPECT_TRUE(twin.Apply(Vital(record::loinc::kSpo2, 93, 16), &Ids).alerts.empty());
  EXPECT_EQ(twin.alerts().front().severity, Severity::kCritical);
  // Escalation also comes with the clock, without a new reading (the engine sweeps its twins
  // every 15 s on the wall clock): already critical, it counts a second escalation.
  const Instant silent{Vital(record::loinc::kSpo2, 93, 31).time};
  auto overdue = twin.EscalateOverdue(silent);
  ASSERT_EQ(overdue.size(), 1u);
  EXPECT_EQ(overdue[0].escalations, 2);
  EXPECT_EQ(overdue[0].severity, Severity::kCritical);
  // Acknowledged: no more escalation; 95 % is inside the hysteresis band, 96 % clears.
  ASSERT_NE(twin.Acknowledge(u.alerts[0].id, "dr-a"), nullptr);
  EXPECT_TRUE(twin.Apply(Vital(record::loinc::kSpo2, 95, 40), &Ids).alerts.empty());
  u = twin.Apply(Vital(record::loinc::kSpo2, 96, 41), &Ids);
  ASSERT_EQ(u.alerts.size(), 1u);
  EXPECT_EQ(u.alerts[0].status, AlertStatus::kResolved);

  // The default patient hears nothing at 93 %.
  LiveTwin plain(Rec("p1"));
  EXPECT_TRUE(plain.Apply(Vital(record::loinc::kSpo2, 93, 0), &Ids).alerts.empty());

  // Bad limits name their field.
  for (const auto& [body, field] : std::vector<std::pair<const char*, const char*>>{
           {R"({"alarm_limits":{"rules":{"spo2":{"raise":94}}}})", "alarm_limits.rules.spo2"},
           {R"({"alarm_limits":{"rules":{"spo2-low":{"raise":"94"}}}})",
            "alarm_limits.rules.spo2-low.raise"},
           {R"({"alarm_limits":{"rules":{"spo2-low":{"low":94}}}})",
            "alarm_limits.rules.spo2-low.low"},
           {R"({"alarm_limits":{"rules":{"spo2-low":{"raise":97}}}})",
            "alarm_limits.rules.spo2-low.clear"},
           {R"({"alarm_limits":{"escalate_unacknowledged_min":1.5}})",
            "alarm_limits.escalate_unacknowledged_min"},
           {R"({"alarm_limits":[]})", "alarm_limits"},
           {R"({"spo2_scale":2,"alarm_limits":{"rules":{"spo2-low":{"raise":88}}}})",
            "alarm_limits.rules.spo2-low.clear"},
           // The maternity unit's default raise level (95 %) is above a clear at 93 %.
           {R"({"unit_type":"maternity","alarm_limits":{"rules":{"spo2-low":{"clear":93}}}})",
            "alarm_limits.rules.spo2-low.clear"}}) {
    auto r = io::ParsePatient(nlohmann::json::parse(body));
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().field, field) << body;
  }
}

// The server applies readings before the store has said which are duplicates (the alert
// lane), so a twin takes a reading from a source at an instant once: a resend, or a different
// value from the same source at that instant (which the store refuses), changes nothing; a
// reading from another source at the same instant is taken, as the store keeps it too.
TEST(LiveTwin, AReadingFromOneSourceAtOneInstantIsTakenOnce) {
  LiveTwin twin(Rec("p1"));
  twin.Apply(Vital(record::loinc::kSpo2, 84, 0), &Ids);
  ASSERT_NE(Find(twin, "spo2-low"), nullptr);
  const Alert first = *Find(twin, "spo2-low");
  // Resent, and then "corrected" by the same source at the same instant: nothing changes.
  twin.Apply(Vital(record::loinc::kSpo2, 84, 0), &Ids);
  twin.Apply(Vital(record::loinc::kSpo2, 97, 0), &Ids);
  EXPECT_EQ(twin.View().latest.at("2708-6").value, 84);
  EXPECT_EQ(Find(twin, "spo2-low")->status, AlertStatus::kOpen);
  EXPECT_EQ(Find(twin, "spo2-low")->updated_at, first.updated_at);
  // A second oximeter at the same instant is another reading.
  record::Observation other = Vital(record::loinc::kSpo2, 97, 0);
  other.source = "second-oximeter";
  twin.Apply(other, &Ids);
  EXPECT_EQ(twin.View().latest.at("2708-6").value, 97);
  EXPECT_EQ(Find(twin, "spo2-low")->status, AlertStatus::kResolved);
}

// The unit type on the record sets the ward twin's defaults: 94 % alarms on a maternity unit
// (MEOWS), not on a general ward; moving the patient changes them.
TEST(LiveTwin, TheUnitTypeSetsTheAlarmDefaults) {
  auto rec = io::ParsePatient(nlohmann::json::parse(R"({"id":"m1","unit_type":"maternity"})"));
  ASSERT_TRUE(rec.ok()) << rec.error().ToString();
  EXPECT_EQ(io::PatientToJson(*rec)["unit_type"], "maternity");
  LiveTwin twin(*rec);
  twin.Apply(Vital(record::loinc::kSpo2, 94, 0), &Ids);
  ASSERT_NE(Find(twin, "spo2-low"), nullptr);
  EXPECT_EQ(Find(twin, "spo2-low")->status, AlertStatus::kOpen);
  LiveTwin ward(Rec("w1"));
  ward.Apply(Vital(record::loinc::kSpo2, 94, 0), &Ids);
  EXPECT_EQ(Find(ward, "spo2-low"), nullptr);
  EXPECT_EQ(io::PatientToJson(Rec("w1"))["unit_type"], "ward");
  record::PatientRecord moved = Rec("w1");
  moved.unit_type = "maternity";
  ward.SetRecord(moved, &Ids);
  ward.Apply(Vital(record::loinc::kSpo2, 94, 10), &Ids);
  EXPECT_NE(Find(ward, "spo2-low"), nullptr);
}

TEST(TwinEngine, RoutesByPatientAnswersQueriesAndPublishesEvents) {
  std::mutex mu;
  std::vector<std::pair<std::size_t, std::string>> events;  // (variant index, patient)
  TwinEngine engine(3, [&](const std::string& patient, const TwinEventData& data) {
    std::lock_guard<std::mutex> lock(mu);
    events.emplace_back(data.index(), patient);
  });
  for (int i = 0; i < 50; ++i) {
    record::PatientRecord r;
    r.id = "p" + std::to_string(i);
    engine.UpsertPatient(r);
  }
  std::vector<record::Observation> batch;
  for (int i = 0; i < 50; ++i) {
    auto o = Vital(record::loinc::kSpo2, i == 7 ? 85 : 97, 0);
    o.patient = "p" + std::to_string(i);
    batch.push_back(o);
  }
  auto stranger = Vital(record::loinc::kSpo2, 80, 0);
  stranger.patient = "nobody";
  batch.push_back(stranger);
  engine.Apply(batch);
  engine.Drain();
  EXPECT_EQ(engine.TwinCount(), 50u);
  EXPECT_EQ(engine.QueueDepth(), 0u);
  auto t7 = engine.View("p7");
  ASSERT_TRUE(t7.has_value());
  EXPECT_EQ(t7->latest.at("2708-6").value, 85);
  EXPECT_FALSE(engine.View("nobody").has_value());
  auto open = engine.Alerts({AlertStatus::kOpen, std::nullopt, ""});
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].patient, "p7");
  EXPECT_EQ(open[0].kind, "spo2-low");
  EXPECT_EQ(engine.Alerts({std::nullopt, Severity::kCritical, ""}).size(), 0u);
  EXPECT_EQ(engine.Alerts({std::nullopt, Severity::kHigh, "p7"}).size(), 1u);
  EXPECT_EQ(engine.Alerts({std::nullopt, std::nullopt, "p8"}).size(), 0u);
  ASSERT_TRUE(engine.FindAlert(open[0].id).has_value());
  EXPECT_EQ(engine.FindAlert(open[0].id)->patient, "p7");
  auto ack = engine.Acknowledge(open[0].id, "nurse-a");
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->status, AlertStatus::kAcknowledged);
  EXPECT_EQ(ack->acknowledged_by, "nurse-a");
  EXPECT_EQ(engine.Alerts({AlertStatus::kOpen, std::nullopt, ""}).size(), 0u);
  EXPECT_FALSE(engine.Acknowledge(999999999, "x").ok());
  // Named by another patient, the alert is not found (only that patient's twin is asked).
  EXPECT_EQ(engine.Acknowledge(open[0].id, "x", "p8").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(engine.FindAlert(999999999).has_value());
  std::lock_guard<std::mutex> lock(mu);
  const auto count = [&](std::size_t index) {
    return std::count_if(events.begin(), events.end(),
                         [&](const auto& e) { return e.first == index; });
  };
  // The unknown patient's observation is not applied.
  EXPECT_EQ(count(TwinEventData(record::Observation{}).index()), 50);
  EXPECT_EQ(count(TwinEventData(record::Alert{}).index()), 2);  // raised, acknowledged
  EXPECT_LT(engine.ApproxTwinBytes() / engine.TwinCount(), 100'000u);
}

}  // namespace
}  // namespace medtwin::twin
