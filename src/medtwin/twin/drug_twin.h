// twin/drug_twin.h — the drug twins (vancomycin, warfarin): what makes one (DrugTwinSpec), the
// fit of its population model to the patient's doses and levels by MAP with the ranked dose
// advice, what-ifs on the fitted posterior, and the IWPC warfarin starting dose from the record.
//
// FitDrugTwin and DrugWhatIf are pure functions of a snapshot, so the engine runs them off the
// shard thread (a warfarin fit ranks 31 daily doses over 50 posterior draws: ~2.5 s; a what-if
// uses 200 draws) while the shard keeps applying other patients' observations.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/core/time.h"
#include "medtwin/decide/regimen.h"
#include "medtwin/estimate/population_model.h"
#include "medtwin/record/advice.h"
#include "medtwin/record/event.h"
#include "medtwin/record/patient.h"
#include "medtwin/twin/twin_kind.h"

namespace medtwin::twin {

// What makes a drug twin: the record's model name, the drug its doses name, the level that
// refits it, the population model used when the record names none, and the target and regimen
// menu of its advice.
struct DrugTwinSpec {
  std::string_view model;
  std::string_view drug;
  std::string_view level_code;
  std::string_view default_population_model;  // "" : the record must name one
  decide::Target target;
  std::string_view target_text;
  decide::RegimenSearch menu;
  double forecast_h = 72;        // what-if forecasts: default horizon after now
  double forecast_step_h = 0.5;  // and their grid
  // The regimen assumed when the twin knows no order and no dose yet (the what-if's start).
  decide::Regimen default_regimen;
  // The largest single dose a what-if accepts (a typing guard, above any real dose).
  double what_if_max_dose_mg = 6000;
};

// The regimens a what-if accepts (DrugWhatIf refuses others; the twin's view tells clients).
inline constexpr double kWhatIfMinDoseMg = 0.5;
inline constexpr double kWhatIfMinIntervalH = 4;
inline constexpr double kWhatIfMaxIntervalH = 72;

// The spec of the first drug-twin model the record lists, or null.
[[nodiscard]] const DrugTwinSpec* DrugSpecFor(const record::PatientRecord& record);
// The spec of a drug-twin model ("vancomycin", "warfarin"), or null for any other name.
[[nodiscard]] const DrugTwinSpec* DrugSpecNamed(std::string_view model);

// Everything a fit needs, copied from the live twin so it can run on another thread.
struct DrugFitJob {
  record::PatientRecord record;
  const DrugTwinSpec* spec = nullptr;
  std::vector<record::Event> doses;                // by time
  std::vector<std::pair<Instant, double>> levels;  // in arrival order
  bool announce = false;                           // publish the advice when installed
};

// What a successful fit shows: the population model, the individual parameters and η with
// their standard errors, the objective function and the fit at each level.
struct DrugFitPrediction {
  double hours_after_first_dose = 0;
  double observed_mg_l = 0, individual_mg_l = 0, population_mg_l = 0;
};
struct DrugFitSummary {
  std::string population_model;
  std::string drug;
  std::vector<std::string> notes;  // covariates assumed (an unknown genotype)
  std::size_t levels = 0, doses = 0;
  std::vector<std::pair<std::string, double>> eta, parameters, parameter_se;
  double ofv = 0;
  std::vector<DrugFitPrediction> predictions;
  std::string recommendation_error;  // set when the menu could not be ranked
};

// A fit's outcome: `summary` after a successful fit, `error` after a failed one (neither when
// there was nothing to fit); `model` and `posterior` are set only after a successful fit (a
// failed refit keeps the last good ones, with its own error); `recommendation` is empty until
// a regimen could be ranked.
struct DrugFit {
  std::shared_ptr<const estimate::PopulationModel> model;
  decide::PatientPosterior posterior;
  std::optional<DrugFitSummary> summary;
  std::string error;
  std::optional<record::Recommendation> recommendation;
  bool announce = false;
};

// Fits η by MAP to the job's doses and levels (times in hours since the first dose, covariates
// from the record) and ranks the spec's menu for its target. No doses or no levels: an empty
// fit.
[[nodiscard]] DrugFit FitDrugTwin(const DrugFitJob& job);

// The drug's doses and levels as the twin has them now (the fit may be older: a dose without a
// new level does not refit).
struct DrugHistory {
  std::vector<record::Event> doses;                // by time
  std::vector<std::pair<Instant, double>> levels;  // in arrival order
};

// A what-if on a drug twin: regimens (1–20; a number the edge could not read is NaN, so the
// checks name it), the forecast's horizon after now (12–336 h; none: the spec's) and when the
// regimen's first dose is given (0–72 h from now).
struct DrugWhatIfPlan final : WhatIfPlan {
  std::vector<decide::Regimen> regimens;
  std::optional<double> forecast_h;
  double start_in_h = 0;
};

// Per regimen: steady-state exposure with its posterior spread (outcome; its curve bands are
// moved into the curve's points), the 24-h steady-state curve every 30 min with its 5–95 %
// band, and the forecast from 24 h before now.
struct DrugCurvePoint {
  double hours = 0;
  double mg_l = 0;
  std::optional<double> p05_mg_l, p95_mg_l;
};
struct DrugForecastPoint {
  Instant time;
  double hours_from_now = 0;
  double mg_l = 0;
  std::optional<double> p05_mg_l, p95_mg_l;
};
struct DrugRegimenForecast {
  decide::RegimenOutcome outcome;
  std::vector<DrugCurvePoint> steady_state_curve;
  std::vector<DrugForecastPoint> forecast;
};
struct DrugObservedLevel {
  Instant time;
  double hours_from_now = 0;
  double value = 0;
};
struct DrugWhatIfOutcome final : WhatIfOutcome {
  std::string target;  // the spec's target text
  Instant now;
  double forecast_h = 0, start_in_h = 0;
  std::vector<DrugObservedLevel> observed;  // levels from 24 h before now to the horizon
  std::vector<DrugRegimenForecast> regimens;
};

// Predictions for proposed regimens on a fitted posterior: per regimen, steady-state AUC24,
// trough, Cmax, PTA for the spec's target and a 24-h curve (with its posterior 5–95 % band);
// and a forecast from 24 h before `now` to forecast_h after it: the history's doses and then
// the regimen's from now + start_in_h (planned doses from then on are replaced), at η̂ with the
// posterior's 5–95 %.
[[nodiscard]] Result<std::unique_ptr<WhatIfOutcome>> DrugWhatIf(const DrugTwinSpec& spec,
                                                                const DrugFit& fit,
                                                                const DrugHistory& history,
                                                                Instant now,
                                                                const DrugWhatIfPlan& plan);

// A genotype covariate of a population model from the record's calls: CYP2C9 as the code 0-5
// of *1/*1, *1/*2, *1/*3, *2/*2, *2/*3, *3/*3 and VKORC1 as the count of -1639 A alleles; an
// unknown genotype is taken as the most common (*1/*1, G/A) with a note.
[[nodiscard]] double GenotypeCovariate(const record::PatientRecord& record, const std::string& name,
                                       std::vector<std::string>* notes);

// The IWPC pharmacogenetic starting dose from the record (age at `now`, height, weight,
// genotype; inducers and amiodarone among `drugs_given`, lower case), with what it assumed.
struct IwpcStart {
  double weekly_mg = 0, daily_mg = 0;
  std::string cyp2c9, vkorc1;  // empty: unknown
  bool enzyme_inducer = false, amiodarone = false;
  std::string race;  // as recorded; empty: not recorded
  std::vector<std::string> notes;
  std::string_view source;
};
[[nodiscard]] Result<IwpcStart> IwpcStartingDose(const record::PatientRecord& record,
                                                 const std::vector<std::string>& drugs_given,
                                                 Instant now);

}  // namespace medtwin::twin
