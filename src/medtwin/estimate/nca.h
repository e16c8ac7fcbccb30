// estimate/nca.h — noncompartmental analysis of one single-dose concentration–time profile, by
// the rules of PKNCA (Denney W, Duvvuri S, Buckeridge C. PKNCA, CRAN) and Gabrielsson &
// Weiner (Pharmacokinetic and Pharmacodynamic Data Analysis, 5th ed., ch. 2):
//   Cmax, Tmax (first time of the maximum); Tlast, Clast (last positive concentration);
//   AUClast by linear-up/log-down trapezoids (or linear); λz by log-linear least squares on
//   the last n ≥ 3 positive points after Tmax, n chosen by the best adjusted R² (within 1e-4 of
//   the best, the most points); t½ = ln 2/λz; AUCinf = AUClast + Clast/λz; CL/F = dose/AUCinf,
//   Vz/F = dose/(λz·AUCinf).
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "medtwin/core/result.h"

namespace medtwin::estimate {

enum class AucMethod {
  kLinearUpLogDown,  // log trapezoids where the concentration falls (PKNCA's default)
  kLinear,
};

struct NcaOptions {
  AucMethod auc_method = AucMethod::kLinearUpLogDown;
  int min_lambda_z_points = 3;
  double adj_r_squared_factor = 1e-4;  // PKNCA's: prefer more points within this of the best
};

struct NcaResult {
  static constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  double dose = kNan;
  double cmax = kNan, tmax = kNan;
  double clast = kNan, tlast = kNan;
  double auclast = kNan;
  // Terminal phase; NaN (with lambda_z_note) when no fit qualifies.
  double lambda_z = kNan, half_life = kNan, r_squared = kNan, adj_r_squared = kNan;
  int lambda_z_points = 0;
  double lambda_z_from = kNan, lambda_z_to = kNan;  // time of the first and last point used
  std::string lambda_z_note;
  double aucinf = kNan, auc_extrapolated_pct = kNan;
  double cl_f = kNan, vz_f = kNan;  // per dose unit (NaN without a dose)
};

// One profile: times after the dose (increasing) and concentrations (≥ 0; NaN: missing,
// skipped). Errors name what is wrong with the profile.
[[nodiscard]] Result<NcaResult> AnalyseProfile(const std::vector<double>& time,
                                               const std::vector<double>& conc, double dose,
                                               const NcaOptions& options = {});

}  // namespace medtwin::estimate
