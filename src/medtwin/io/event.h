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

namespace medtwin::io {

struct Event {
  std::string patient;
  std::string type;   // meal, insulin, basal, dose, ack, order
  double amount = 0;  // g (meal), U (insulin), mg (dose, order; or dose_unit); 0 for basal
  std::string dose_unit = "mg";  // dose: "mg", or a countable unit kept as given
  double interval_h = 0;         // order
  double rate = 0;               // U/h (basal; an insulin order: -1 when it keeps the rate)
  double duration_h = 0;         // dose infusion time (0: bolus)
  std::string drug;              // dose
  // ack (written by the server when a clinician acknowledges an alert, so that it stays
  // acknowledged across restarts): the alert's kind and when it was raised, and by whom.
  std::string alert_kind;
  Instant alert_raised_at;
  std::string by;
  Instant time;
  std::string source;
};

[[nodiscard]] Result<Event> ParseEvent(const nlohmann::json& j, std::string_view patient_from_path,
                                       const ObservationLimits& limits);
[[nodiscard]] nlohmann::json EventToJson(const Event& e);

}  // namespace medtwin::io
