// twin/glucose_loop.h — one virtual patient living under a controller, the glucose twin's
// update loop in miniature: the patient (UVA/Padova with its own parameters) is simulated
// exactly; every 5 min the CGM reads, the controller decides, the pump delivers; the patient's
// twin (a GlucoseFilter) assimilates the same readings and its 30-min forecast drives the
// predictive hypoglycemia alert. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/decide/glucose_control.h"
#include "medtwin/decide/glycemic_metrics.h"
#include "medtwin/estimate/glucose_filter.h"
#include "medtwin/models/glucose.h"
#include "medtwin/models/glucose_devices.h"
#include "medtwin/monitor/hypoglycemia.h"

namespace medtwin::twin {

struct MealTime {
  double minute_of_day = 0;
  double carbs_g = 0;
};

// "07:00=45,12:00=70,18:30=80" (time of day = grams). Times must fall on the 5-min control
// grid; the error names the item and the reason.
[[nodiscard]] Result<std::vector<MealTime>> ParseMealSpec(std::string_view spec);

struct LoopOptions {
  int days = 1;
  decide::ControllerKind controller = decide::ControllerKind::kBasalBolus;
  std::vector<MealTime> meals;
  std::uint64_t seed = 1;
  models::CgmSpec cgm;
  models::PumpSpec pump;
  decide::SafetyLimits limits;
  bool alerts = true;           // run the twin's filter and the predictive hypoglycemia alert
  bool forecast_bands = false;  // also 30/60/120-min forecasts with 5–95 % bands (sigma points)
  bool keep_trace = true;
};

// Every 5 min.
struct LoopTrace {
  std::vector<double> t_min, bg_mg_dl, cgm_mg_dl, basal_u_per_min, bolus_u, meal_g,
      forecast30_mg_dl;  // the twin's forecast made 30 min earlier for this time (NaN: none)
  // With forecast_bands: made at this time for 30, 60 and 120 min ahead (mean, 5 %, 95 %).
  std::vector<estimate::GlucoseForecastPoint> ahead30, ahead60, ahead120;
};

struct LoopOutcome {
  std::string patient;
  std::string cohort;
  decide::GlycemicMetrics metrics;  // of plasma BG every 5 min
  double basal_u_per_day = 0, bolus_u_per_day = 0;
  int suspended_periods = 0;
  monitor::AlertPerformance alerts;
  double forecast30_rmse_mg_dl = 0;  // of the twin's 30-min forecasts (NaN without alerts)
  LoopTrace trace;
};

[[nodiscard]] Result<LoopOutcome> RunGlucoseLoop(const sim::Model& model,
                                                 const models::VirtualPatient& patient,
                                                 const LoopOptions& options);

}  // namespace medtwin::twin
