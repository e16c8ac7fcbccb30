#include "medtwin/estimate/population_simulation.h"

#include <boost/math/distributions/normal.hpp>

#include <algorithm>
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

Result<std::vector<std::vector<double>>> ComputeNpde(MapEstimator& estimator,
                                                     const std::vector<sim::Subject>& subjects,
                                                     int samples, unsigned seed) {
  if (samples < 100) return InvalidArgument("samples", "NPDE needs at least 100 simulations");
  MEDTWIN_TRY(auto sims, SimulatePopulation(estimator, subjects, samples, seed));
  const boost::math::normal standard;
  const double floor = 1.0 / (2.0 * samples);
  std::vector<std::vector<double>> out;
  for (std::size_t s = 0; s < subjects.size(); ++s) {
    const auto& records = subjects[s].records;
    out.emplace_back(records.size(), std::nan(""));
    std::vector<std::size_t> rows;
    for (std::size_t k = 0; k < records.size(); ++k) {
      if (records[k].evid == sim::Evid::kObservation && !std::isnan(records[k].dv)) {
        rows.push_back(k);
      }
    }
    if (rows.empty()) continue;
    const auto n = static_cast<Eigen::Index>(rows.size());
    Eigen::MatrixXd y(samples, n);  // the subject's simulations, one per row
    for (int k = 0; k < samples; ++k) {
      const auto& r = sims[s * static_cast<std::size_t>(samples) + static_cast<std::size_t>(k)];
      for (Eigen::Index j = 0; j < n; ++j) y(k, j) = r.dv[rows[static_cast<std::size_t>(j)]];
    }
    const Eigen::RowVectorXd mean = y.colwise().mean();
    const Eigen::MatrixXd centred = y.rowwise() - mean;
    const Eigen::MatrixXd cov = centred.transpose() * centred / (samples - 1);
    Eigen::LLT<Eigen::MatrixXd> llt(cov);
    if (llt.info() != Eigen::Success) continue;  // degenerate simulations: no NPDE
    Eigen::VectorXd observed(n);
    for (Eigen::Index j = 0; j < n; ++j) {
      observed(j) = records[rows[static_cast<std::size_t>(j)]].dv - mean(j);
    }
    const Eigen::VectorXd observed_star = llt.matrixL().solve(observed);
    const Eigen::MatrixXd sims_star = llt.matrixL().solve(centred.transpose());  // n × K
    for (Eigen::Index j = 0; j < n; ++j) {
      double below = 0;
      for (int k = 0; k < samples; ++k) below += sims_star(j, k) < observed_star(j) ? 1 : 0;
      const double pde = std::clamp(below / samples, floor, 1 - floor);
      out[s][rows[static_cast<std::size_t>(j)]] = boost::math::quantile(standard, pde);
    }
  }
  return out;
}

}  // namespace medtwin::estimate
