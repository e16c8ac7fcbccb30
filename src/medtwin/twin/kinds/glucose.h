// twin/kinds/glucose.h — the glucose twin (records whose models include "glucose"): the
// UVA/Padova model (Dalla Man 2007/2014) tracked by a GlucoseFilter from the first CGM reading
// or glucose event, the predictive hypoglycemia alert (monitor::HypoglycemiaAlert, the rule the
// trials score), the closed loop (the record's controller commanding the pump on each CGM
// reading) and what-ifs on meals, boluses and basal rates.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "medtwin/record/advice.h"
#include "medtwin/twin/twin_kind.h"

namespace medtwin::twin {

// The glucose twin's part of the view (model_state.glucose).
struct GlucoseForecastBand {
  Instant time;
  int minutes_ahead = 0;
  double mean_mg_dl = 0, p05_mg_dl = 0, p95_mg_dl = 0;
};
struct GlucoseView final : KindView {
  std::string parameters_from;  // the virtual patient whose parameters are the prior
  Instant time;                 // of the filter's state
  double bg_estimate_mg_dl = 0;
  std::vector<std::pair<std::string, double>> estimated_parameters;  // by the filter's names
  double forecast30_mg_dl = 0;
  double lowest_next_30min_mg_dl = 0;
  bool hypoglycemia_predicted = false;
  std::string closed_loop;  // the controller; empty in open loop
  std::optional<record::InsulinCommand> last_command;
  // 30, 60 and 120 min ahead with 5–95 % bands, when asked for.
  std::optional<std::vector<GlucoseForecastBand>> forecast;
};

// A glucose what-if: BG for `horizon_min` (15–1440) under the current inputs and under the
// plan: meals (grams, 0–500) and boluses (units, 0–50) `in_min` from now (0–horizon), and a new
// basal rate (0–40 U/h). A number the edge could not read is NaN, so the range check names it.
struct GlucoseWhatIfPlan final : WhatIfPlan {
  struct Item {
    double in_min = 0;
    double amount = 0;  // grams for meals, units for boluses
  };
  double horizon_min = 240;
  std::optional<double> basal_u_per_h;
  std::vector<Item> meals;
  std::vector<Item> insulin;
};
struct GlucoseWhatIfRun {
  struct Point {
    double minutes_ahead = 0;
    double bg_mg_dl = 0;
  };
  std::vector<Point> points;  // every 15 min
  double lowest_mg_dl = 0, highest_mg_dl = 0;
};
struct GlucoseWhatIfOutcome final : WhatIfOutcome {
  GlucoseWhatIfRun current;   // the inputs as they are
  GlucoseWhatIfRun proposed;  // with the plan
};

[[nodiscard]] bool WantsGlucoseTwin(const record::PatientRecord& record);
[[nodiscard]] std::unique_ptr<TwinKind> MakeGlucoseTwin(const record::PatientRecord& record);

}  // namespace medtwin::twin
