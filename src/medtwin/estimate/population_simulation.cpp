#include "medtwin/estimate/population_simulation.h"

#include <cmath>
#include <random>

namespace medtwin::estimate {

Result<std::vector<SimulatedReplicate>> SimulatePopulation(
    MapEstimator& estimator, const std::vector<sim::Subject>& subjects, int replicates,
    unsigned seed) {
  if (replicates < 1) return InvalidArgument("replicates", "at least 1");
  const PopulationModel& pop = estimator.model();
  const auto draws = SamplePosterior(Eigen::VectorXd::Zero(pop.omega.rows()), pop.omega,
                                     static_cast<int>(subjects.size()) * replicates, seed);
  std::mt19937_64 residual_rng(seed ^ 0x9E3779B97F4A7C15ULL);
  std::normal_distribution<double> z;
  std::vector<SimulatedReplicate> out;
  out.reserve(draws.size());
  std::size_t draw = 0;
  for (std::size_t s = 0; s < subjects.size(); ++s) {
    for (int rep = 1; rep <= replicates; ++rep, ++draw) {
      SimulatedReplicate r{s, rep, draws[draw], {}, {}};
      MEDTWIN_TRY(r.ipred, estimator.Simulate(subjects[s], r.eta), "ID " + subjects[s].id);
      r.dv.resize(r.ipred.size(), std::nan(""));
      for (std::size_t k = 0; k < r.ipred.size(); ++k) {
        if (subjects[s].records[k].evid != sim::Evid::kObservation) continue;
        r.dv[k] = r.ipred[k] + pop.residual.Sd(r.ipred[k]) * z(residual_rng);
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace medtwin::estimate
