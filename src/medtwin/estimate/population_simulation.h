// estimate/population_simulation.h — simulating a data set's design under a population model
// (NONMEM's $SIMULATION, mrgsolve with idata replicates): each subject `replicates` times with
// η drawn from N(0, Ω) and the model's residual error added on observation records. One random
// stream for η and one for ε, both from the seed, so a seed gives the same simulation.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/estimate/map_estimator.h"

namespace medtwin::estimate {

struct SimulatedReplicate {
  std::size_t subject = 0;  // index into the subjects given
  int replicate = 0;        // 1-based
  Eigen::VectorXd eta;
  std::vector<double> ipred;  // the observed output at every record
  std::vector<double> dv;     // ipred + ε on observation records, NaN elsewhere
};

// Replicates subject by subject (all of subject 0's, then subject 1's, ...). The subjects'
// records carry covariates in the estimator's data-column order.
[[nodiscard]] Result<std::vector<SimulatedReplicate>> SimulatePopulation(
    MapEstimator& estimator, const std::vector<sim::Subject>& subjects, int replicates,
    unsigned seed);

// Normalised prediction distribution errors (Brendel et al., Pharm Res 2006;23:2036; Comets,
// Brendel & Mentré, Comput Methods Programs Biomed 2008;90:154) of every measured observation:
// each subject's observations and `samples` simulations of them are decorrelated by the
// Cholesky factor of the simulations' covariance, pde is the fraction of simulated values
// below the observed one (kept within [1/2K, 1 − 1/2K]) and npde = Φ⁻¹(pde). Under the model
// they are N(0, 1). Result: [subject][record], NaN where a record has no measured level.
[[nodiscard]] Result<std::vector<std::vector<double>>> ComputeNpde(
    MapEstimator& estimator, const std::vector<sim::Subject>& subjects, int samples, unsigned seed);

}  // namespace medtwin::estimate
