#include "medtwin/server/twin_json.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "medtwin/core/time.h"
#include "medtwin/io/advice_json.h"
#include "medtwin/io/patient.h"
#include "medtwin/io/svg_plot.h"
#include "medtwin/server/twin_json_kinds.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

// Every kind that shows a part of the view or answers a what-if (the ward and prescription
// checks show theirs as alerts and advice, which the view lists for every kind).
constexpr KindJson kKindJson[] = {
    {"drug", DrugViewToJson, ParseDrugWhatIf, DrugWhatIfToJson},
    {"glucose", GlucoseViewToJson, ParseGlucoseWhatIf, GlucoseWhatIfToJson},
};

const KindJson* FindKindJson(std::string_view kind) {
  for (const auto& k : kKindJson) {
    if (k.kind == kind) return &k;
  }
  return nullptr;
}

json LatestToJson(const twin::LatestValues& latest) {
  json out = json::object();
  for (const auto& [code, l] : latest) {
    const record::ObservationCode* c = record::FindObservationCode(code);
    json v = {{"time", FormatRfc3339(l.time)}};
    if (c != nullptr && c->coded) {
      v["value"] = l.text;
    } else {
      v["value"] = l.value;
      v["unit"] = c != nullptr ? std::string(c->unit) : "";
    }
    if (c != nullptr) v["name"] = std::string(c->name);
    out[code] = std::move(v);
  }
  return out;
}

}  // namespace

double NumberOr(const json& body, const char* key, double fallback) {
  constexpr double kUnreadable = std::numeric_limits<double>::quiet_NaN();
  if (!body.is_object()) return kUnreadable;
  auto it = body.find(key);
  if (it == body.end()) return fallback;
  return it->is_number() ? it->get<double>() : kUnreadable;
}

json News2ViewToJson(const twin::News2View& news2) {
  json out = io::News2ToJson(news2.score);
  out["spo2_scale"] = news2.spo2_scale;
  return out;
}

json TwinViewToJson(const twin::TwinView& view) {
  json alerts = json::array();
  for (const auto& a : view.open_alerts) alerts.push_back(io::AlertToJson(a));
  json recommendations = json::array();
  for (const auto& r : view.recommendations) recommendations.push_back(io::RecommendationToJson(r));
  json orders = json::array();
  for (const auto& o : view.orders) orders.push_back(io::OrderToJson(o));
  json doc = {{"patient", io::PatientToJson(view.record)},
              {"latest", LatestToJson(view.latest)},
              {"news2", News2ViewToJson(view.news2)},
              {"alerts", std::move(alerts)},
              {"models", view.record.models},
              {"model_state", json::object()},
              {"recommendations", std::move(recommendations)},
              {"orders", std::move(orders)},
              {"refitting", view.refitting}};
  for (const auto& part : view.parts) {
    if (const KindJson* k = FindKindJson(part.kind); k != nullptr && part.view) {
      k->view(*part.view, doc);
    }
  }
  return doc;
}

Result<std::unique_ptr<twin::WhatIfPlan>> ParseWhatIfPlan(const json& body) {
  if (!body.is_object() || !body.contains("model") || !body["model"].is_string()) {
    return InvalidArgument("model", "one of " + twin::WhatIfModelList());
  }
  const std::string model = body["model"];
  const twin::TwinKindEntry* entry = twin::KindAnsweringWhatIf(model);
  const KindJson* k = entry != nullptr ? FindKindJson(entry->name) : nullptr;
  if (k == nullptr || k->plan == nullptr) {
    return InvalidArgument(
        "model", "'" + model.substr(0, 24) + "' is not one of " + twin::WhatIfModelList());
  }
  MEDTWIN_TRY(std::unique_ptr<twin::WhatIfPlan> plan, k->plan(body));
  plan->model = model;
  return plan;
}

json WhatIfOutcomeToJson(const twin::WhatIfOutcome& outcome) {
  const twin::TwinKindEntry* entry = twin::KindAnsweringWhatIf(outcome.model);
  const KindJson* k = entry != nullptr ? FindKindJson(entry->name) : nullptr;
  json out = k != nullptr && k->outcome != nullptr ? k->outcome(outcome) : json::object();
  out["model"] = outcome.model;
  out["refitting"] = outcome.refitting;
  return out;
}

json TrialSummaryToJson(const std::vector<twin::LoopOutcome>& runs) {
  json patients = json::array();
  double sum_tir = 0, sum_low = 0, sum_mean = 0;
  for (const auto& r : runs) {
    const auto& m = r.metrics;
    sum_tir += m.tir_70_180;
    sum_low += m.below_70;
    sum_mean += m.mean_mg_dl;
    const double lead = r.alerts.MeanLeadMin();
    patients.push_back({{"patient", r.patient},
                        {"cohort", r.cohort},
                        {"tir_70_180_pct", m.tir_70_180},
                        {"below_70_pct", m.below_70},
                        {"below_54_pct", m.below_54},
                        {"above_180_pct", m.above_180},
                        {"above_250_pct", m.above_250},
                        {"mean_mg_dl", m.mean_mg_dl},
                        {"cv_pct", m.cv_percent},
                        {"min_mg_dl", m.min_mg_dl},
                        {"max_mg_dl", m.max_mg_dl},
                        {"lbgi", m.lbgi},
                        {"hbgi", m.hbgi},
                        {"basal_u_per_day", r.basal_u_per_day},
                        {"bolus_u_per_day", r.bolus_u_per_day},
                        {"hypo_events", r.alerts.events},
                        {"hypo_events_alerted", r.alerts.detected},
                        // No events alerted: no lead time (null, not NaN, in JSON).
                        {"mean_alert_lead_min", std::isnan(lead) ? json() : json(lead)},
                        {"false_alerts", r.alerts.false_alerts},
                        {"cvga_zone", io::CvgaZone(m.min_mg_dl, m.max_mg_dl)}});
  }
  const double n = std::max<double>(1, static_cast<double>(runs.size()));
  return {{"mean_tir_70_180_pct", sum_tir / n},
          {"mean_below_70_pct", sum_low / n},
          {"mean_glucose_mg_dl", sum_mean / n},
          {"patients", patients}};
}

}  // namespace medtwin::server
