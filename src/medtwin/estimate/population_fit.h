// estimate/population_fit.h — population estimation ("precision twins"): typical values, Ω
// (diagonal or full) and residual error of a structural model from a multi-subject data set,
// by the first-order conditional estimation method with interaction (FOCE-I; Beal & Sheiner,
// NONMEM Users Guide VII; Wang, J Pharmacokinet Pharmacodyn 2007;34:575). Inner problem: each
// subject's η̂ (MAP); outer: −2 log-likelihood in its Laplace form with the first-order
// (Gauss–Newton) Hessian, minimized by BFGS over log-parameters.
#pragma once

#include <Eigen/Dense>
#include <limits>
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
  // Outer iterations; 0 evaluates the OFV at the initial estimates (NONMEM's MAXEVAL=0), η̂
  // still estimated per subject.
  int max_iterations = 200;
  // The output the DV are observations of (default: the model's first).
  std::string output;
  // Every structural parameter is a fixed effect (THETA) estimated from the data, unless it
  // is fixed here at a value (NONMEM's FIX). Parameters with IIV may be fixed too (their
  // typical value is then not estimated, their η is).
  std::vector<std::pair<std::string, double>> fixed;
  // Where the search starts (default: the model's defaults): typical values by parameter
  // name, ω² as OMEGA_<parameter> (default 0.1), σ as SIGMA_ADDITIVE (default a tenth of the
  // mean DV) and SIGMA_PROPORTIONAL (default 0.1).
  std::vector<std::pair<std::string, double>> initial;
  // Covariate effects estimated with the rest (`--covariate CL~WT:power`): the coefficient of
  // each continuous effect (power, linear, exponential) is a THETA, starting at 0 (no effect);
  // the subject's baseline value (its first non-missing one) is used; reference NaN: the
  // median of the subjects' baselines. Column names index the records' covariates.
  struct Covariate {
    std::string parameter;
    CovariateEffect effect;
  };
  std::vector<Covariate> covariates;
  std::vector<std::string> covariate_columns;  // the records' covariate order
  // When values records set take effect (NONMEM's rule by default).
  sim::TimeVarying time_varying = sim::TimeVarying::kNocb;
};

// One observation's diagnostics, as NONMEM's $TABLE gives them (units of DV).
struct ObservationDiagnostics {
  std::size_t subject = 0;  // index into PopFitResult::subject_ids
  std::size_t record = 0;   // index into that subject's records
  double time = 0;
  double dv = 0;
  double pred = 0;   // population prediction (η = 0)
  double ipred = 0;  // individual prediction (η̂)
  double res = 0;    // DV − PRED
  double wres = 0;   // weighted residual, first-order at η = 0
  double iwres = 0;  // (DV − IPRED) / SD(IPRED)
  double cwres = 0;  // conditional weighted residual (FOCE, at η̂)
};

struct PopFitResult {
  // Every structural parameter's typical value (THETA), model order; fixed ones flagged, with
  // no standard error (NaN).
  std::vector<std::string> parameter_names;
  std::vector<double> typical;
  std::vector<double> typical_se;
  std::vector<bool> fixed;
  // Parameters the records set (data columns such as a concentration CP): data, not THETAs.
  std::vector<std::string> from_data;
  // The covariate effects as estimated (reference filled in, coefficient estimated), with SE.
  std::vector<PopFitOptions::Covariate> covariate_effects;
  std::vector<double> covariate_se;
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
  // Converged only when the search stopped on its own criterion and a Newton step from the
  // estimates would lower the OFV by less than 0.01 (NONMEM's "minimization successful" asks
  // for three significant digits; 0.01 in OFV is far below what any test of a model can see).
  bool converged = false;
  std::string convergence_reason;  // why the search stopped, in words
  double max_gradient = 0;         // largest |∂OFV/∂x| at the estimates (x: estimation scale)
  double expected_decrease = std::numeric_limits<double>::quiet_NaN();  // by a Newton step
  // Covariance step: the Hessian of the OFV at the estimates, inverted (R⁻¹ in NONMEM's terms,
  // covariance = 2·H⁻¹). When it is not positive definite the SEs are missing and
  // covariance_reason says which estimates the data do not determine.
  bool covariance_ok = false;
  std::string covariance_reason;
  // Every estimated quantity on its natural scale, in the order of `covariance`: THETAs not
  // fixed, Ω (omega_X, or the lower triangle omega_X_Y when full), sigma_additive,
  // sigma_proportional; SE by the delta method from the estimation scale.
  std::vector<std::string> estimate_names;
  std::vector<double> estimates;
  std::vector<double> estimate_se;  // NaN when the covariance step failed
  Eigen::MatrixXd covariance;       // NaN when the covariance step failed
  Eigen::MatrixXd correlation;
  // Largest over smallest eigenvalue of the correlation matrix, as NONMEM prints it (above
  // ~1000 the estimates are strongly correlated: the model may be over-parametrized).
  double condition_number = std::numeric_limits<double>::quiet_NaN();
  // Shrinkage (Savic & Karlsson, AAPS J 2009;11:558): η-shrinkage 1 − SD(η̂)/ω per IIV
  // parameter, ε-shrinkage 1 − SD(IWRES). Above ~0.3 the individual estimates (and plots
  // built on them) lean on the prior more than on the data.
  std::vector<double> eta_shrinkage;
  double epsilon_shrinkage = std::numeric_limits<double>::quiet_NaN();
  // What a reader of the estimates should know: a variance near 0, an estimate with a relative
  // standard error above 50 %, a high shrinkage.
  std::vector<std::string> warnings;
  std::vector<std::string> subject_ids;
  std::vector<Eigen::VectorXd> etas;
  std::vector<ObservationDiagnostics> diagnostics;  // every observation, subject by subject
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
