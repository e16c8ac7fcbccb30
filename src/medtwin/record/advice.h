// record/advice.h — what a twin proposes: a dose recommendation (a draft for a clinician to
// accept, never an order by itself) and, in a closed loop, an insulin command for the pump.
// io/advice_json.h has their JSON form.
#pragma once

#include <optional>
#include <string>

#include "medtwin/core/time.h"

namespace medtwin::record {

// A drug twin's dose advice: the best regimen of its menu for its target on the patient's
// fitted posterior.
struct Recommendation {
  std::string patient;
  std::string drug;
  double dose_mg = 0;
  double interval_h = 0;
  double infusion_h = 0;
  double probability_of_target_attainment = 0;
  std::string target;  // "AUC24 400-600 mg*h/L", "INR 2-3"
  std::string basis;   // what it was fitted on
  // Predicted at steady state at the MAP estimate: AUC24 and trough (mg/L) for a
  // concentration target; the INR before and after a dose for warfarin.
  std::optional<double> predicted_auc24_mg_h_per_l, predicted_trough_mg_l;
  std::optional<double> predicted_inr_trough, predicted_inr_peak;
};

// A closed loop's command to the insulin pump on one CGM reading: the controller's request
// through the pump's limits. A pump that hears nothing newer within `valid_for_min` falls back
// to its own basal program.
struct InsulinCommand {
  std::string patient;
  std::string controller;  // "bb", "pid", "mpc"
  Instant time;            // of the CGM reading it answers
  double cgm_mg_dl = 0;
  double basal_u_per_h = 0;
  double bolus_u = 0;
  bool suspended = false;  // the controller suspended insulin (low or falling glucose)
  bool limited = false;    // the pump's limits cut the request
  int valid_for_min = 15;
};

}  // namespace medtwin::record
