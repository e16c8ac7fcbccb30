// record/event.h — things done to a patient, as the twin's models see them: meals (g of
// carbohydrate), insulin boluses (U), basal rate changes (U/h), drug doses (mg, optionally
// infused over hours), and, written by the server, "ack" (an alert acknowledged) and "order" (a
// clinician accepted the twin's advice). io/event.h has their JSON form.
#pragma once

#include <string>

#include "medtwin/core/time.h"

namespace medtwin::record {

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

}  // namespace medtwin::record
