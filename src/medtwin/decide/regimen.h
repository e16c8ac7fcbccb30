// decide/regimen.h — precision dosing: exposure of a maintenance regimen at steady state for
// one patient's posterior, probability of target attainment (PTA) over posterior samples, and
// the search over a menu of doses, intervals and infusion times, ranked by PTA.
#pragma once

#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/decide/exposure.h"
#include "medtwin/estimate/map_estimator.h"

namespace medtwin::decide {

// A regimen's exposure at steady state, by the measures targets are written in.
struct Exposure {
  double auc24 = 0;               // mg·h/L over 24 h
  double trough = 0;              // mg/L, lowest before the next dose
  double peak = 0;                // mg/L, highest over the interval (Cmax)
  double time_above_mic_pct = 0;  // % of the interval above the MIC (0 without a MIC)
};

// Target ranges; a regimen attains the target when every given range holds.
struct Target {
  bool has_auc24 = false;
  double auc24_lo = 0, auc24_hi = 0;  // mg·h/L
  bool has_trough = false;
  double trough_lo = 0, trough_hi = 0;  // mg/L
  bool has_peak = false;
  double peak_lo = 0, peak_hi = 0;  // mg/L
  bool has_time_above_mic = false;
  double time_above_mic_lo = 0, time_above_mic_hi = 0;  // % of the dosing interval
  double mic = 0;                                       // mg/L
  [[nodiscard]] bool Attained(const Exposure& exposure) const;
  [[nodiscard]] std::string ToString() const;
};

// Parses "auc24=400:600", "trough=10:20", "peak=0:20" (or "cmax=…"), "time_above_mic=40:100"
// (% of the interval) with "mic=1" (mg/L); one spec each, every given range must hold. Errors
// name the spec.
[[nodiscard]] Result<Target> ParseTargets(const std::vector<std::string>& specs);

struct Regimen {
  double dose_mg = 0;
  double interval_h = 0;
  double infusion_h = 0;  // 0: bolus
};

// Parses a proposed regimen "1000@12" (mg every h) or "1000@12/2" (with a 2-h infusion;
// default infusion `default_infusion_h`).
[[nodiscard]] Result<Regimen> ParseRegimen(const std::string& text, double default_infusion_h);

struct RegimenSearch {
  std::vector<double> intervals_h = {8, 12, 24};
  std::vector<double> infusion_h = {1};
  double dose_step_mg = 250;
  double dose_max_mg = 4000;
  int samples = 500;  // posterior samples for PTA
  unsigned seed = 20261125;
  bool curve_bands = false;  // also the pointwise 5/95 % of the steady-state curve
};

struct RegimenOutcome {
  Regimen regimen;
  double auc24 = 0, trough = 0, cmax = 0;  // at the MAP estimate, steady state
  double time_above_mic_pct = 0;           // with a MIC target
  double pta = 0;                          // fraction of posterior samples on target
  double auc24_p05 = 0, auc24_p50 = 0, auc24_p95 = 0;
  double trough_p05 = 0, trough_p50 = 0, trough_p95 = 0;
  double cmax_p05 = 0, cmax_p50 = 0, cmax_p95 = 0;
  // With RegimenSearch::curve_bands: the posterior's 5th and 95th percentile at each point of
  // the steady-state curve (the forecast band); empty otherwise.
  Curve curve_p05, curve_p95;
};

// Patient context for regimen evaluation: the fitted posterior and the covariate values (in
// PopulationModel::DataColumns() order) to simulate future doses with.
struct PatientPosterior {
  Eigen::VectorXd eta;
  Eigen::MatrixXd covariance;
  std::vector<double> covariates;
};

// The last known value of every covariate column in the subject's records.
std::vector<double> LatestCovariates(const sim::Subject& subject, std::size_t columns);

// Steady-state curve of `regimen` over 24 h from a dose, at η, on a 5-minute grid.
[[nodiscard]] Result<Curve> SteadyStateCurve(estimate::MapEstimator& estimator,
                                             const PatientPosterior& patient,
                                             const Regimen& regimen, const Eigen::VectorXd& eta);

[[nodiscard]] Result<RegimenOutcome> EvaluateRegimen(estimate::MapEstimator& estimator,
                                                     const PatientPosterior& patient,
                                                     const Regimen& regimen, const Target& target,
                                                     const RegimenSearch& search);

// Every regimen on the menu, best first: highest PTA, then AUC24 (or trough) nearest the
// middle of the target, then the smallest daily dose.
[[nodiscard]] Result<std::vector<RegimenOutcome>> RankRegimens(estimate::MapEstimator& estimator,
                                                               const PatientPosterior& patient,
                                                               const Target& target,
                                                               const RegimenSearch& search);

}  // namespace medtwin::decide
