// estimate/population_fit.h — population estimation ("precision twins"): typical values, Ω
// (diagonal or full) and residual error of a structural model from a multi-subject data set,
// by the first-order conditional estimation method with interaction (FOCE-I; Beal & Sheiner,
// NONMEM Users Guide VII; Wang, J Pharmacokinet Pharmacodyn 2007;34:575). Inner problem: each
// subject's η̂ (MAP); outer: −2 log-likelihood in its Laplace form with the first-order
// (Gauss–Newton) Hessian, minimized by BFGS over log-parameters.
#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/estimate/population_model.h"
#include "medtwin/sim/simulator.h"

namespace medtwin::estimate {

struct PopFitOptions {
  std::vector<std::string> iiv;  // parameters with log-normal IIV (e.g. KA, CL, V)
  ResidualKind error = ResidualKind::kAdditive;
  bool full_omega = false;  // full Ω (Cholesky-parametrized) instead of diagonal
  int max_iterations = 200;
  // Every structural parameter is a fixed effect (THETA) estimated from the data, unless it
  // is fixed here at a value (NONMEM's FIX). Parameters with IIV may be fixed too (their
  // typical value is then not estimated, their η is).
  std::vector<std::pair<std::string, double>> fixed;
  // Where the search starts (default: the model's defaults).
  std::vector<std::pair<std::string, double>> initial;
};

struct PopFitResult {
  // Every structural parameter's typical value (THETA), model order; fixed ones flagged, with
  // no standard error (NaN).
  std::vector<std::string> parameter_names;
  std::vector<double> typical;
  std::vector<double> typical_se;
  std::vector<bool> fixed;
  std::vector<std::string> iiv_names;
  std::vector<double> omega;  // variances (diagonal of omega_matrix)
  Eigen::MatrixXd omega_matrix;
  std::vector<double> omega_se;
  double sigma_additive = 0;  // SD, mg/L
  double sigma_proportional = 0;
  // The objective function value as NONMEM (and nlmixr2) report it: −2 log-likelihood without
  // the constant n·ln(2π), so values compare with theirs; minus_2ll includes it (−2 × R's
  // logLik). Differences between models fitted to the same data are the same either way.
  double ofv = 0;
  double minus_2ll = 0;
  int observations = 0;
  int iterations = 0;
  bool converged = false;
  std::vector<std::string> subject_ids;
  std::vector<Eigen::VectorXd> etas;
};

// Estimates every structural parameter's typical value that is not fixed, Ω of the parameters
// with IIV and the residual error. Subjects need observations (DV) of the first output.
[[nodiscard]] Result<PopFitResult> FitPopulation(const sim::Model& model,
                                                 const std::vector<sim::Subject>& subjects,
                                                 const PopFitOptions& options);

// A population model file's JSON for the fit, usable by `medtwin fit` and `medtwin dose`.
[[nodiscard]] std::string PopulationModelJson(const PopFitResult& fit, const std::string& name,
                                              const std::string& structural_model,
                                              const std::string& source);

}  // namespace medtwin::estimate
