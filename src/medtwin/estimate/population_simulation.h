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

}  // namespace medtwin::estimate
