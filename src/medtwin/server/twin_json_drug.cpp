// The drug twins in the API's JSON: model_state.<model> (the fit, the IWPC start for warfarin,
// the what-if's terms), the what-if plan and its outcome.
#include <cmath>

#include "medtwin/core/time.h"
#include "medtwin/server/twin_json_kinds.h"
#include "medtwin/twin/kinds/drug.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

json Named(const std::vector<std::pair<std::string, double>>& values) {
  json out = json::object();
  for (const auto& [name, value] : values) out[name] = value;
  return out;
}

json FitToJson(const twin::DrugFit& fit) {
  if (!fit.error.empty()) return {{"error", fit.error}};
  if (!fit.summary) return json::object();
  const twin::DrugFitSummary& s = *fit.summary;
  json predictions = json::array();
  for (const auto& p : s.predictions) {
    predictions.push_back({{"hours_after_first_dose", p.hours_after_first_dose},
                           {"observed_mg_l", p.observed_mg_l},
                           {"individual_mg_l", p.individual_mg_l},
                           {"population_mg_l", p.population_mg_l}});
  }
  json out = {{"population_model", s.population_model},
              {"drug", s.drug},
              {"notes", s.notes},
              {"levels", s.levels},
              {"doses", s.doses},
              {"eta", Named(s.eta)},
              {"parameters", Named(s.parameters)},
              {"parameter_se", Named(s.parameter_se)},
              {"ofv", s.ofv},
              {"predictions", std::move(predictions)}};
  if (!s.recommendation_error.empty()) out["recommendation_error"] = s.recommendation_error;
  return out;
}

json IwpcToJson(const Result<twin::IwpcStart>& iwpc) {
  if (!iwpc.ok()) return {{"error", iwpc.error().ToString()}};  // "age_years: 18–110 …"
  const twin::IwpcStart& d = *iwpc;
  auto or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return {{"weekly_mg", d.weekly_mg},
          {"daily_mg", d.daily_mg},
          {"cyp2c9", or_null(d.cyp2c9)},
          {"vkorc1", or_null(d.vkorc1)},
          {"enzyme_inducer", d.enzyme_inducer},
          {"amiodarone", d.amiodarone},
          {"race", or_null(d.race)},
          {"notes", d.notes},
          {"source", std::string(d.source)}};
}

json TermsToJson(const twin::DrugWhatIfTerms& t) {
  json target = json::object();
  if (t.target.has_auc24) target["auc24_mg_h_per_l"] = {t.target.auc24_lo, t.target.auc24_hi};
  if (t.target.has_trough) target["trough"] = {t.target.trough_lo, t.target.trough_hi};
  if (t.target.has_peak) target["peak"] = {t.target.peak_lo, t.target.peak_hi};
  if (t.target.has_time_above_mic) {
    target["time_above_mic_pct"] = {t.target.time_above_mic_lo, t.target.time_above_mic_hi};
    target["mic"] = t.target.mic;
  }
  return {{"target", std::move(target)},
          {"target_text", std::string(t.target_text)},
          {"limits",
           {{"dose_mg", {t.dose_min_mg, t.dose_max_mg}},
            {"interval_h", {t.interval_min_h, t.interval_max_h}}}},
          {"current_regimen",
           {{"dose_mg", t.current_regimen.dose_mg},
            {"interval_h", t.current_regimen.interval_h},
            {"infusion_h", t.current_regimen.infusion_h},
            {"from", std::string(t.current_from)}}},
          {"next_dose_in_h", t.next_dose_in_h}};
}

// A point's 5–95 % band, when it has one.
template <typename Point>
void AddBand(const Point& p, json& out) {
  if (p.p05_mg_l) out["p05_mg_l"] = *p.p05_mg_l;
  if (p.p95_mg_l) out["p95_mg_l"] = *p.p95_mg_l;
}

}  // namespace

void DrugViewToJson(const twin::KindView& part, json& doc) {
  const auto& d = static_cast<const twin::DrugView&>(part);
  json state = d.fit ? FitToJson(*d.fit) : json::object();
  if (d.refit_pending) state["refit_pending"] = *d.refit_pending;
  if (d.iwpc) state["iwpc"] = IwpcToJson(*d.iwpc);
  state["what_if"] = TermsToJson(d.what_if);
  doc["model_state"][std::string(d.model)] = std::move(state);
}

// {"model": "vancomycin", "regimens": [{"dose_mg": 1250, "interval_h": 12, "infusion_h": 1}],
//  "forecast_h": 72, "start_in_h": 0}
Result<std::unique_ptr<twin::WhatIfPlan>> ParseDrugWhatIf(const json& body) {
  auto plan = std::make_unique<twin::DrugWhatIfPlan>();
  const auto regimens = body.find("regimens");
  if (regimens == body.end() || !regimens->is_array() || regimens->size() > 20) {
    return InvalidArgument("regimens", "1–20 regimens {dose_mg, interval_h, infusion_h}");
  }
  for (const auto& r : *regimens) {
    plan->regimens.push_back({NumberOr(r, "dose_mg", NAN), NumberOr(r, "interval_h", NAN),
                              NumberOr(r, "infusion_h", 1)});
  }
  if (body.contains("forecast_h")) plan->forecast_h = NumberOr(body, "forecast_h", 0);
  plan->start_in_h = NumberOr(body, "start_in_h", 0);
  return std::unique_ptr<twin::WhatIfPlan>(std::move(plan));
}

json DrugWhatIfToJson(const twin::WhatIfOutcome& outcome) {
  const auto& w = static_cast<const twin::DrugWhatIfOutcome&>(outcome);
  json observed = json::array();
  for (const auto& l : w.observed) {
    observed.push_back({{"time", FormatRfc3339(l.time)},
                        {"hours_from_now", l.hours_from_now},
                        {"value", l.value}});
  }
  json regimens = json::array();
  for (const auto& r : w.regimens) {
    const auto& o = r.outcome;
    json curve = json::array();
    for (const auto& p : r.steady_state_curve) {
      json point = {{"hours", p.hours}, {"mg_l", p.mg_l}};
      AddBand(p, point);
      curve.push_back(std::move(point));
    }
    json forecast = json::array();
    for (const auto& p : r.forecast) {
      json point = {
          {"time", FormatRfc3339(p.time)}, {"hours_from_now", p.hours_from_now}, {"mg_l", p.mg_l}};
      AddBand(p, point);
      forecast.push_back(std::move(point));
    }
    regimens.push_back({{"regimen",
                         {{"dose_mg", o.regimen.dose_mg},
                          {"interval_h", o.regimen.interval_h},
                          {"infusion_h", o.regimen.infusion_h}}},
                        {"auc24_mg_h_per_l", o.auc24},
                        {"trough_mg_l", o.trough},
                        {"cmax_mg_l", o.cmax},
                        {"probability_of_target_attainment", o.pta},
                        {"auc24_p05", o.auc24_p05},
                        {"auc24_p95", o.auc24_p95},
                        {"trough_p05", o.trough_p05},
                        {"trough_p95", o.trough_p95},
                        {"steady_state_curve", std::move(curve)},
                        {"forecast", std::move(forecast)}});
  }
  return {{"target", w.target},
          {"now", FormatRfc3339(w.now)},
          {"forecast_h", w.forecast_h},
          {"start_in_h", w.start_in_h},
          {"observed", std::move(observed)},
          {"regimens", std::move(regimens)}};
}

}  // namespace medtwin::server
