// io/advice_json.h — what the twin says, as the API and the live stream show it: alerts, dose
// recommendations, closed-loop insulin commands, draft orders (accepted advice) and NEWS2
// scores.
#pragma once

#include <nlohmann/json.hpp>

#include "medtwin/monitor/news2.h"
#include "medtwin/record/advice.h"
#include "medtwin/record/alert.h"
#include "medtwin/record/event.h"

namespace medtwin::io {

// {"id", "patient", "kind", "severity", "status", "raised_at", "updated_at", "message",
//  "escalations", "acknowledged_by"}
[[nodiscard]] nlohmann::json AlertToJson(const record::Alert& a);
// {"status": "draft", "kind": "dose", "drug", "dose_mg", "interval_h", "infusion_h",
//  "probability_of_target_attainment", "target", "basis", "predicted_…"}; "patient" when set.
[[nodiscard]] nlohmann::json RecommendationToJson(const record::Recommendation& r);
// {"kind": "insulin", "patient", "controller", "time", "cgm_mg_dl", "basal_u_per_h",
//  "bolus_u", "suspended", "limited", "valid_for_min"}
[[nodiscard]] nlohmann::json InsulinCommandToJson(const record::InsulinCommand& c);
// A draft order (an "order" event) as the API shows it.
[[nodiscard]] nlohmann::json OrderToJson(const record::Event& order);
// {"total", "complete", "risk", "parts": {…}}
[[nodiscard]] nlohmann::json News2ToJson(const monitor::News2Score& s);

}  // namespace medtwin::io
