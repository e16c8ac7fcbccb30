// io/event.h — things done to a patient, as the twin's models see them: meals (g of
// carbohydrate, eaten at 5 g/min), insulin boluses (U), basal insulin rate changes (U/h) and
// drug doses (mg, optionally infused over hours). JSON in and out with field-named errors:
//   {"type": "meal", "amount": 60, "unit": "g", "time": …, "source": …}
//   {"type": "insulin", "amount": 4, "unit": "U", "time": …}
//   {"type": "basal", "rate": 0.9, "unit": "U/h", "time": …}
//   {"type": "dose", "drug": "vancomycin", "amount": 1000, "unit": "mg", "duration_h": 1, "time":
//   …}  (mass units become mg; a countable unit such as "patch" or "{tbl}" is kept as given, but
//   drug twins only use doses in mg)
// and, written by the server only, "ack" (an alert acknowledged) and "order" (a clinician
// accepted the twin's dose recommendation: a draft order of `amount` mg every `interval_h`
// infused over `duration_h`, by `by`).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

#include "medtwin/core/result.h"
#include "medtwin/core/time.h"
#include "medtwin/io/observation.h"
#include "medtwin/record/event.h"

namespace medtwin::io {

using record::Event;

[[nodiscard]] Result<Event> ParseEvent(const nlohmann::json& j, std::string_view patient_from_path,
                                       const ObservationLimits& limits);
[[nodiscard]] nlohmann::json EventToJson(const Event& e);
// The limits an order is held to, whether ParseEvent read it or the server built it from
// accepted advice: a drug order's dose (mg), interval and infusion time; an insulin order's
// bolus (U; 0: none) and basal rate (U/h; negative: unchanged); who ordered. Errors name the
// event's fields (amount, rate, interval_h, duration_h, by), with ParseEvent's messages.
[[nodiscard]] Status ValidateOrder(const Event& e);

}  // namespace medtwin::io
