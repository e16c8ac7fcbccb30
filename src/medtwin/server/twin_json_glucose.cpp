// The glucose twin in the API's JSON: model_state.glucose, its what-if plan and outcome.
#include "medtwin/core/time.h"
#include "medtwin/io/advice_json.h"
#include "medtwin/server/twin_json_kinds.h"
#include "medtwin/twin/kinds/glucose.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

json RunToJson(const twin::GlucoseWhatIfRun& run) {
  json points = json::array();
  for (const auto& p : run.points) {
    points.push_back({{"minutes_ahead", p.minutes_ahead}, {"bg_mg_dl", p.bg_mg_dl}});
  }
  return {{"points", std::move(points)},
          {"lowest_mg_dl", run.lowest_mg_dl},
          {"highest_mg_dl", run.highest_mg_dl}};
}

}  // namespace

void GlucoseViewToJson(const twin::KindView& part, json& doc) {
  const auto& g = static_cast<const twin::GlucoseView&>(part);
  json params = json::object();
  for (const auto& [name, value] : g.estimated_parameters) params[name] = value;
  json glucose = {{"model", "uva_padova"},
                  {"parameters_from", g.parameters_from},
                  {"time", FormatRfc3339(g.time)},
                  {"bg_estimate_mg_dl", g.bg_estimate_mg_dl},
                  {"estimated_parameters", std::move(params)},
                  {"forecast30_mg_dl", g.forecast30_mg_dl},
                  {"lowest_next_30min_mg_dl", g.lowest_next_30min_mg_dl},
                  {"hypoglycemia_predicted", g.hypoglycemia_predicted},
                  {"closed_loop", g.closed_loop.empty() ? json(nullptr) : json(g.closed_loop)}};
  if (g.last_command) glucose["last_command"] = io::InsulinCommandToJson(*g.last_command);
  if (g.forecast) {
    json bands = json::array();
    for (const auto& b : *g.forecast) {
      bands.push_back({{"time", FormatRfc3339(b.time)},
                       {"minutes_ahead", b.minutes_ahead},
                       {"mean_mg_dl", b.mean_mg_dl},
                       {"p05_mg_dl", b.p05_mg_dl},
                       {"p95_mg_dl", b.p95_mg_dl}});
    }
    glucose["forecast"] = std::move(bands);
  }
  doc["model_state"]["glucose"] = std::move(glucose);
}

// {"model": "glucose", "horizon_min": 240, "basal_u_per_h": 0.8,
//  "meals": [{"in_min": 30, "grams": 60}], "insulin": [{"in_min": 15, "units": 4}]}
Result<std::unique_ptr<twin::WhatIfPlan>> ParseGlucoseWhatIf(const json& body) {
  auto plan = std::make_unique<twin::GlucoseWhatIfPlan>();
  plan->horizon_min = NumberOr(body, "horizon_min", 240);
  if (body.contains("basal_u_per_h")) plan->basal_u_per_h = NumberOr(body, "basal_u_per_h", 0);
  for (const bool meal : {true, false}) {
    const char* key = meal ? "meals" : "insulin";
    if (!body.contains(key)) continue;
    if (!body[key].is_array()) return InvalidArgument(key, "an array");
    auto& items = meal ? plan->meals : plan->insulin;
    for (const auto& m : body[key]) {
      items.push_back({NumberOr(m, "in_min", NAN), NumberOr(m, meal ? "grams" : "units", NAN)});
    }
  }
  return std::unique_ptr<twin::WhatIfPlan>(std::move(plan));
}

json GlucoseWhatIfToJson(const twin::WhatIfOutcome& outcome) {
  const auto& g = static_cast<const twin::GlucoseWhatIfOutcome&>(outcome);
  return {{"current", RunToJson(g.current)}, {"proposed", RunToJson(g.proposed)}};
}

}  // namespace medtwin::server
