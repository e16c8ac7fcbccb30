// server/twin_json.h — the twin's typed values as the API's JSON: the twin view (GET
// /api/v1/patients/{id}/twin), what-if plans read from a request and their outcomes, NEWS2, and
// a trial's summary (the API's trial results and the CLI's trial.json). Each kind of twin has
// one row in the kind table (twin_json.cpp) and its formatting in its own file
// (twin_json_<kind>.cpp); docs/twins.md says how to add one.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/twin/glucose_loop.h"
#include "medtwin/twin/twin_view.h"

namespace medtwin::server {

[[nodiscard]] nlohmann::json TwinViewToJson(const twin::TwinView& view);
[[nodiscard]] nlohmann::json News2ViewToJson(const twin::News2View& news2);

// A what-if request body as the plan of the kind that answers its "model"; errors name the
// field ("model" when it is missing or answered by no kind).
[[nodiscard]] Result<std::unique_ptr<twin::WhatIfPlan>> ParseWhatIfPlan(const nlohmann::json& body);
[[nodiscard]] nlohmann::json WhatIfOutcomeToJson(const twin::WhatIfOutcome& outcome);

// Per-patient metrics (TIR, hypoglycaemia, insulin, alerts, CVGA zone) and cohort means:
// {"mean_tir_70_180_pct", …, "patients": […]}.
[[nodiscard]] nlohmann::json TrialSummaryToJson(const std::vector<twin::LoopOutcome>& runs);

}  // namespace medtwin::server
