// What-if forecasts "from now" as the API shows them (the plan read by ParseWhatIfPlan, the
// outcome and the view formatted by server/twin_json): the patient's own doses, then a
// proposed regimen, on the twin's posterior. Checked against two independent computations: the
// fit's individual predictions at the measured levels (the past), and the steady-state trough, peak
// and AUC24 that regimen evaluation computes by steady-state dosing (the far future, after ten days
// of repeated doses); plus the posterior band and the input errors.
#include <gtest/gtest.h>

#include <cmath>

#include "medtwin/io/observation.h"
#include "medtwin/server/twin_json.h"
#include "medtwin/twin/drug_twin.h"
#include "medtwin/twin/live_twin.h"

namespace medtwin::twin {
namespace {

using nlohmann::json;

// A what-if as POST /api/v1/patients/{id}/whatif answers it, on a standalone twin.
Result<json> WhatIfJson(LiveTwin& twin, const json& body, Instant now) {
  MEDTWIN_TRY(std::unique_ptr<WhatIfPlan> plan, server::ParseWhatIfPlan(body));
  MEDTWIN_TRY(std::unique_ptr<WhatIfOutcome> out, twin.WhatIf(*plan, now));
  return server::WhatIfOutcomeToJson(*out);
}

json ViewJson(LiveTwin& twin) { return server::TwinViewToJson(twin.View()); }

constexpr std::int64_t kT0Us = 1'800'000'000'000'000LL;
constexpr std::int64_t kHourUs = 3'600'000'000LL;

Instant At(double hours) {
  return Instant{kT0Us + static_cast<std::int64_t>(hours * static_cast<double>(kHourUs))};
}

// 1 g over 1 h every 12 h (0, 12, 24, 36 h); a trough at 35.5 h and a level at 38 h.
LiveTwin FittedVancomycinTwin() {
  record::PatientRecord r;
  r.id = "v1";
  r.sex = "male";
  r.birth_date = "1960-06-01";
  r.weight_kg = 85;
  r.scr_mg_dl = 1.0;
  r.models = {"vancomycin"};
  r.population_model = "vancomycin_goti2018";
  LiveTwin twin(r);
  for (int h : {0, 12, 24, 36}) {
    record::Event e;
    e.patient = "v1";
    e.type = "dose";
    e.drug = "vancomycin";
    e.amount = 1000;
    e.duration_h = 1;
    e.time = At(h);
    twin.ApplyEvent(e);
  }
  for (const auto& [h, mg_l] : std::vector<std::pair<double, double>>{{35.5, 12.0}, {38, 27.0}}) {
    record::Observation o;
    o.patient = "v1";
    o.code = std::string(record::loinc::kVancomycin);
    o.value = mg_l;
    o.time = At(h);
    o.source = "lab";
    twin.Apply(o, nullptr, /*live=*/false);
  }
  twin.RunOffShardNow();
  return twin;
}

const json* PointAt(const json& forecast, double hours_from_now) {
  for (const auto& p : forecast) {
    if (std::abs(p["hours_from_now"].get<double>() - hours_from_now) < 1e-6) return &p;
  }
  return nullptr;
}

TEST(DrugForecast, JoinsTheFitInThePastAndSteadyStateInTheFuture) {
  LiveTwin twin = FittedVancomycinTwin();
  // Now is 46 h after the first dose; the next dose is due in 2 h.
  const Instant now = At(46);
  const json plan = {{"model", "vancomycin"},
                     {"regimens",
                      {{{"dose_mg", 1250}, {"interval_h", 12}, {"infusion_h", 1}},
                       {{"dose_mg", 750}, {"interval_h", 8}, {"infusion_h", 1}}}},
                     {"forecast_h", 240},
                     {"start_in_h", 2}};
  auto out = WhatIfJson(twin, plan, now);
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  const json& a = (*out)["regimens"][0];
  const json& b = (*out)["regimens"][1];
  const json& fa = a["forecast"];
  ASSERT_FALSE(fa.empty());
  EXPECT_DOUBLE_EQ(fa.front()["hours_from_now"].get<double>(), -24);
  EXPECT_DOUBLE_EQ(fa.back()["hours_from_now"].get<double>(), 240);

  // The past: at the measured levels the forecast is the fit's individual prediction.
  const json twin_json = ViewJson(twin);
  const json& state = twin_json["model_state"]["vancomycin"];
  for (const auto& p : state["predictions"]) {
    const double h = p["hours_after_first_dose"].get<double>() - 46;
    const json* f = PointAt(fa, h);
    ASSERT_NE(f, nullptr) << h;
    EXPECT_NEAR((*f)["mg_l"].get<double>(), p["individual_mg_l"].get<double>(),
                1e-9 * p["individual_mg_l"].get<double>())
        << "at " << h << " h from now";
  }
  ASSERT_EQ((*out)["observed"].size(), 2u);
  EXPECT_DOUBLE_EQ((*out)["observed"][0]["hours_from_now"].get<double>(), -10.5);
  // Until the proposed regimen starts, both proposals share the patient's history.
  const json& fb = b["forecast"];
  ASSERT_EQ(fb.size(), fa.size());
  for (std::size_t k = 0; k < fa.size() && fa[k]["hours_from_now"].get<double>() <= 2; ++k) {
    EXPECT_NEAR(fa[k]["mg_l"].get<double>(), fb[k]["mg_l"].get<double>(),
                1e-6 * (1 + fa[k]["mg_l"].get<double>()));
  }

  // The far future: the last full interval (doses at 48 + 12k h; the last at 276 h, i.e. 230 h
  // from now) is at steady state: trough, end-of-infusion peak and AUC24 as the steady-state
  // evaluation of the same regimen gives them.
  const double trough = (*PointAt(fa, 230))["mg_l"].get<double>();
  const double peak = (*PointAt(fa, 219))["mg_l"].get<double>();
  EXPECT_NEAR(trough, a["trough_mg_l"].get<double>(), 0.005 * a["trough_mg_l"].get<double>());
  EXPECT_NEAR(peak, a["cmax_mg_l"].get<double>(), 0.005 * a["cmax_mg_l"].get<double>());
  auto auc24 = [](const json& forecast, double from_h) {  // trapezoid on the 0.5-h grid
    double auc = 0;
    for (double h = from_h; h < from_h + 24 - 1e-9; h += 0.5) {
      auc += 0.25 * ((*PointAt(forecast, h))["mg_l"].get<double>() +
                     (*PointAt(forecast, h + 0.5))["mg_l"].get<double>());
    }
    return auc;
  };
  const double auc_a = auc24(fa, 206);
  EXPECT_NEAR(auc_a, a["auc24_mg_h_per_l"].get<double>(),
              0.005 * a["auc24_mg_h_per_l"].get<double>());
  // Linear kinetics: at steady state AUC24 is proportional to the daily dose, so 750 mg q8h
  // (2250 mg/day) gives 0.9 × the AUC24 of 1250 mg q12h (2500 mg/day).
  EXPECT_NEAR(auc24(fb, 206), 0.9 * auc_a, 0.005 * auc_a);

  // The posterior band holds the point prediction and widens away from the levels.
  for (const auto& p : fa) {
    if (p["hours_from_now"].get<double>() < 24) continue;
    EXPECT_LE(p["p05_mg_l"].get<double>(), p["mg_l"].get<double>() * 1.0001);
    EXPECT_GE(p["p95_mg_l"].get<double>(), p["mg_l"].get<double>() * 0.9999);
  }
  const json& late = *PointAt(fa, 230);
  EXPECT_GT(late["p95_mg_l"].get<double>() - late["p05_mg_l"].get<double>(), 0.1 * trough);
}

// The view carries the terms of a what-if, so a client holds no clinical number of its own:
// the spec's target and limits, the regimen given now (from the doses, then from an accepted
// order) and when its next dose is due.
TEST(DrugForecast, TheTwinStatesTheTermsOfAWhatIf) {
  LiveTwin twin = FittedVancomycinTwin();
  json terms = ViewJson(twin)["model_state"]["vancomycin"]["what_if"];
  const DrugTwinSpec* spec = DrugSpecNamed("vancomycin");
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(terms["target"]["auc24_mg_h_per_l"],
            json({spec->target.auc24_lo, spec->target.auc24_hi}));
  EXPECT_EQ(terms["target"]["auc24_mg_h_per_l"], json({400, 600}));  // ASHP/IDSA 2020
  EXPECT_FALSE(terms["target"].contains("trough"));
  EXPECT_EQ(terms["limits"]["dose_mg"], json({kWhatIfMinDoseMg, spec->what_if_max_dose_mg}));
  EXPECT_EQ(terms["limits"]["interval_h"], json({kWhatIfMinIntervalH, kWhatIfMaxIntervalH}));
  // From the doses: 1 g over 1 h, 12 h apart (the last two).
  EXPECT_EQ(terms["current_regimen"]["from"], "doses");
  EXPECT_DOUBLE_EQ(terms["current_regimen"]["dose_mg"].get<double>(), 1000);
  EXPECT_DOUBLE_EQ(terms["current_regimen"]["interval_h"].get<double>(), 12);
  EXPECT_DOUBLE_EQ(terms["current_regimen"]["infusion_h"].get<double>(), 1);
  // The last dose (36 h after the first) + 12 h, from now, within 0-72 h.
  const double due_h = ElapsedHours(WallClockNow(), At(36)) + 12;
  EXPECT_NEAR(terms["next_dose_in_h"].get<double>(), std::clamp(due_h, 0.0, 72.0), 0.1);
  // An accepted order is the regimen from then on.
  record::Event order;
  order.patient = "v1";
  order.type = "order";
  order.drug = "vancomycin";
  order.amount = 1250;
  order.interval_h = 8;
  order.duration_h = 1.5;
  order.time = At(40);
  twin.ApplyEvent(order);
  terms = ViewJson(twin)["model_state"]["vancomycin"]["what_if"];
  EXPECT_EQ(terms["current_regimen"]["from"], "order");
  EXPECT_DOUBLE_EQ(terms["current_regimen"]["dose_mg"].get<double>(), 1250);
  EXPECT_DOUBLE_EQ(terms["current_regimen"]["interval_h"].get<double>(), 8);
  EXPECT_DOUBLE_EQ(terms["current_regimen"]["infusion_h"].get<double>(), 1.5);
  // A regimen past the stated limit is refused by the what-if itself.
  auto refused =
      WhatIfJson(twin,
                 {{"model", "vancomycin"},
                  {"regimens", {{{"dose_mg", spec->what_if_max_dose_mg + 1}, {"interval_h", 12}}}}},
                 At(46));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "regimens[0]");
}

TEST(DrugForecast, TheTermsAreThereBeforeTheFirstLevel) {
  record::PatientRecord r;
  r.id = "v2";
  r.models = {"vancomycin"};
  LiveTwin twin(r);
  json terms = ViewJson(twin)["model_state"]["vancomycin"]["what_if"];
  EXPECT_EQ(terms["current_regimen"]["from"], "default");
  EXPECT_DOUBLE_EQ(terms["current_regimen"]["dose_mg"].get<double>(),
                   DrugSpecNamed("vancomycin")->default_regimen.dose_mg);
  EXPECT_DOUBLE_EQ(terms["next_dose_in_h"].get<double>(), 0);
  record::Event dose;
  dose.patient = "v2";
  dose.type = "dose";
  dose.drug = "vancomycin";
  dose.amount = 1500;
  dose.duration_h = 1.5;
  dose.time = WallClockNow();
  twin.ApplyEvent(dose);
  terms = ViewJson(twin)["model_state"]["vancomycin"]["what_if"];
  EXPECT_EQ(terms["current_regimen"]["from"], "doses");
  EXPECT_DOUBLE_EQ(terms["current_regimen"]["dose_mg"].get<double>(), 1500);
  // One dose: the usual interval (12 h) until a second shows the pattern; due in about 12 h.
  EXPECT_DOUBLE_EQ(terms["current_regimen"]["interval_h"].get<double>(), 12);
  EXPECT_NEAR(terms["next_dose_in_h"].get<double>(), 12, 0.1);
  // Without a fit there is no what-if to run yet, and a warfarin what-if is not this twin's.
  auto unfit =
      WhatIfJson(twin, {{"model", "vancomycin"}, {"regimens", json::array()}}, WallClockNow());
  ASSERT_FALSE(unfit.ok());
  EXPECT_NE(unfit.error().message.find("no fit yet"), std::string::npos);
  auto other =
      WhatIfJson(twin, {{"model", "warfarin"}, {"regimens", json::array()}}, WallClockNow());
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().message, "this patient has no warfarin twin");
  auto unknown = WhatIfJson(twin, {{"model", "insulin"}}, WallClockNow());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("vancomycin, warfarin, glucose"), std::string::npos);
}

TEST(DrugForecast, BadHorizonsAndStartsNameTheirField) {
  LiveTwin twin = FittedVancomycinTwin();
  const json regimens = {{{"dose_mg", 1000}, {"interval_h", 12}, {"infusion_h", 1}}};
  for (const auto& [extra, field] :
       std::vector<std::pair<json, const char*>>{{{{"forecast_h", 1000}}, "forecast_h"},
                                                 {{{"forecast_h", "72"}}, "forecast_h"},
                                                 {{{"forecast_h", 6}}, "forecast_h"},
                                                 {{{"start_in_h", -1}}, "start_in_h"},
                                                 {{{"start_in_h", 100}}, "start_in_h"}}) {
    json plan = {{"model", "vancomycin"}, {"regimens", regimens}};
    plan.update(extra);
    auto out = WhatIfJson(twin, plan, At(46));
    ASSERT_FALSE(out.ok()) << extra.dump();
    EXPECT_EQ(out.error().field, field) << out.error().ToString();
  }
  // The spec's default horizon: 72 h for vancomycin.
  auto out = WhatIfJson(twin, {{"model", "vancomycin"}, {"regimens", regimens}}, At(46));
  ASSERT_TRUE(out.ok());
  EXPECT_DOUBLE_EQ((*out)["regimens"][0]["forecast"].back()["hours_from_now"].get<double>(), 72);
  auto none = WhatIfJson(twin, {{"model", "warfarin"}, {"regimens", regimens}}, At(46));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().field, "model");
}

}  // namespace
}  // namespace medtwin::twin
