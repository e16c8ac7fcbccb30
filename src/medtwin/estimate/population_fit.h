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
  // Parameters not estimated keep these values (default: the model's defaults).
  std::vector<std::pair<std::string, double>> fixed;
};

struct PopFitResult {
  std::vector<std::string> parameter_names;  // estimated typical values, model order
  std::vector<double> typical;
  std::vector<double> typical_se;
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

// Estimates every model parameter that has IIV or appears in `estimate` (typical values),
// Ω and the residual error. Subjects need observations (DV) of the first output.
[[nodiscard]] Result<PopFitResult> FitPopulation(const sim::Model& model,
                                                 const std::vector<sim::Subject>& subjects,
                                                 const PopFitOptions& options);

// A population model file's JSON for the fit, usable by `medtwin fit` and `medtwin dose`.
[[nodiscard]] std::string PopulationModelJson(const PopFitResult& fit, const std::string& name,
                                              const std::string& structural_model,
                                              const std::string& source);

}  // namespace medtwin::estimate
