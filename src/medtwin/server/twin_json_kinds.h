// server/twin_json_kinds.h — how each kind of twin appears in the API's JSON: its part of the
// view (its entry under "model_state"), its what-if plan read from a request and its outcome.
// One row per kind in twin_json.cpp; each kind's functions live in twin_json_<kind>.cpp.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string_view>

#include "medtwin/core/result.h"
#include "medtwin/twin/twin_kind.h"

namespace medtwin::server {

struct KindJson {
  std::string_view kind;  // the kind's registry name (twin::TwinKinds())
  // Adds the kind's view to the twin document (doc["model_state"][…]).
  void (*view)(const twin::KindView& view, nlohmann::json& doc);
  // Its what-if plan from the request body (null for a kind that answers none).
  Result<std::unique_ptr<twin::WhatIfPlan>> (*plan)(const nlohmann::json& body);
  nlohmann::json (*outcome)(const twin::WhatIfOutcome& outcome);
};

void GlucoseViewToJson(const twin::KindView& view, nlohmann::json& doc);
Result<std::unique_ptr<twin::WhatIfPlan>> ParseGlucoseWhatIf(const nlohmann::json& body);
nlohmann::json GlucoseWhatIfToJson(const twin::WhatIfOutcome& outcome);

void DrugViewToJson(const twin::KindView& view, nlohmann::json& doc);
Result<std::unique_ptr<twin::WhatIfPlan>> ParseDrugWhatIf(const nlohmann::json& body);
nlohmann::json DrugWhatIfToJson(const twin::WhatIfOutcome& outcome);

// A number member of `body`: `fallback` when absent, NaN when not a number (or `body` is not an
// object), so the twin's range check refuses it naming the field.
[[nodiscard]] double NumberOr(const nlohmann::json& body, const char* key, double fallback);

}  // namespace medtwin::server
