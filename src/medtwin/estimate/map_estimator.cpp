#include "medtwin/estimate/map_estimator.h"

#include <cmath>
#include <limits>
#include <random>

#include "medtwin/estimate/optimize.h"
#include "medtwin/models/registry.h"

namespace medtwin::estimate {

MapEstimator::MapEstimator(PopulationModel model, const sim::Model* structural,
                           sim::Simulator simulator)
    : model_(std::move(model)),
      structural_(structural),
      simulator_(std::move(simulator)),
      data_info_(structural->Info()) {
  data_info_.covariates = model_.DataColumns();
  omega_inv_ = model_.omega.size() > 0 ? Eigen::MatrixXd(model_.omega.inverse()) : model_.omega;
  base_ = simulator_.layout().Defaults();
}

Result<MapEstimator> MapEstimator::Create(PopulationModel model, sim::SimOptions options) {
  MEDTWIN_TRY(const sim::Model* structural, models::FindModel(model.structural_model));
  MEDTWIN_TRY(sim::Simulator simulator, sim::Simulator::Create(*structural, options));
  return MapEstimator(std::move(model), structural, std::move(simulator));
}

Result<double> MapEstimator::Ofv(const PreparedSubject& prepared, const Eigen::VectorXd& eta,
                                 std::vector<double>* ipred) {
  ApplyEta(model_, prepared, eta, scratch_, base_);
  MEDTWIN_TRY(sim::SubjectResult sim_result, simulator_.Run(scratch_, base_));
  double ofv = eta.size() > 0 ? eta.dot(omega_inv_ * eta) : 0.0;
  const auto& records = prepared.subject->records;
  for (std::size_t r = 0; r < records.size(); ++r) {
    const double y = records[r].dv;
    if (records[r].evid != sim::Evid::kObservation || std::isnan(y)) continue;
    const double f = sim_result.Output(r, 0);
    const double sd = model_.residual.Sd(f);
    ofv += (y - f) * (y - f) / (sd * sd) + 2 * std::log(sd);
    if (ipred != nullptr) ipred->push_back(f);
  }
  return ofv;
}

Result<double> MapEstimator::Objective(const sim::Subject& subject, const Eigen::VectorXd& eta) {
  MEDTWIN_TRY(PreparedSubject prepared, PrepareSubject(model_, simulator_.layout(), subject));
  scratch_ = subject;
  return Ofv(prepared, eta, nullptr);
}

std::vector<Eigen::VectorXd> SamplePosterior(const Eigen::VectorXd& mean,
                                             const Eigen::MatrixXd& covariance, int n,
                                             unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  Eigen::LLT<Eigen::MatrixXd> llt(covariance);
  const Eigen::MatrixXd l = llt.matrixL();
  std::vector<Eigen::VectorXd> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    Eigen::VectorXd u(mean.size());
    for (Eigen::Index k = 0; k < u.size(); ++k) u(k) = z(rng);
    out.push_back(mean + l * u);
  }
  return out;
}

Result<std::vector<double>> MapEstimator::Simulate(const sim::Subject& subject,
                                                   const Eigen::VectorXd& eta) {
  MEDTWIN_TRY(PreparedSubject prepared, PrepareSubject(model_, simulator_.layout(), subject));
  scratch_ = subject;
  ApplyEta(model_, prepared, eta, scratch_, base_);
  MEDTWIN_TRY(sim::SubjectResult result, simulator_.Run(scratch_, base_));
  std::vector<double> out;
  for (std::size_t r = 0; r < subject.records.size(); ++r) out.push_back(result.Output(r, 0));
  return out;
}

Result<std::vector<std::pair<double, double>>> MapEstimator::PredictCurve(
    const sim::Subject& subject, const Eigen::VectorXd& eta, double t_end, double dt) {
  // The subject's own records with a grid of observation records merged in (grid points after
  // records at equal times, so doses there count).
  sim::Subject dense{subject.id, {}};
  std::vector<char> is_grid;
  const double t0 = subject.records.empty() ? 0.0 : subject.records.front().time;
  std::size_t next = 0;
  for (int k = 0;; ++k) {
    const double t = t0 + k * dt;
    if (t > t_end + 1e-9) break;
    while (next < subject.records.size() && subject.records[next].time <= t) {
      dense.records.push_back(subject.records[next++]);
      is_grid.push_back(0);
    }
    sim::Record obs;
    obs.time = t;
    dense.records.push_back(obs);
    is_grid.push_back(1);
  }
  while (next < subject.records.size()) {
    dense.records.push_back(subject.records[next++]);
    is_grid.push_back(0);
  }
  MEDTWIN_TRY(std::vector<double> c, Simulate(dense, eta));
  std::vector<std::pair<double, double>> curve;
  for (std::size_t r = 0; r < dense.records.size(); ++r) {
    if (is_grid[r]) curve.emplace_back(dense.records[r].time, c[r]);
  }
  return curve;
}

Result<MapFit> MapEstimator::Fit(const sim::Subject& subject) {
  MEDTWIN_TRY(PreparedSubject prepared, PrepareSubject(model_, simulator_.layout(), subject));
  scratch_ = subject;
  const auto n = static_cast<Eigen::Index>(model_.eta_names.size());
  MapFit fit;
  fit.id = subject.id;
  for (const auto& r : subject.records) {
    if (r.evid == sim::Evid::kObservation && !std::isnan(r.dv)) ++fit.observation_count;
  }
  Eigen::VectorXd omega_sd = model_.omega.diagonal().cwiseSqrt();
  Eigen::VectorXd best = Eigen::VectorXd::Zero(n);
  MEDTWIN_TRY(double best_value, Ofv(prepared, best, nullptr));
  fit.eta_covariance = model_.omega;
  if (fit.observation_count > 0 && n > 0) {
    auto objective = [&](const Eigen::VectorXd& eta) {
      auto v = Ofv(prepared, eta, nullptr);
      return v.ok() ? *v : std::numeric_limits<double>::infinity();
    };
    const Eigen::VectorXd upper = 5 * omega_sd, lower = -upper;
    // Several starts guard against a local minimum (flip-flop, sparse levels).
    for (double s : {0.0, 0.7, -0.7}) {
      MinimizeResult r = MinimizeBfgs(objective, s * omega_sd, lower, upper);
      if (r.value < best_value) {
        best_value = r.value;
        best = r.x;
      }
    }
    Eigen::MatrixXd hessian = NumericHessian(objective, best);
    Eigen::LLT<Eigen::MatrixXd> llt(0.5 * hessian);
    if (llt.info() == Eigen::Success) {
      fit.eta_covariance = llt.solve(Eigen::MatrixXd::Identity(n, n));
    }
  }
  fit.eta = best;
  fit.ofv = best_value;
  // Predictions at the observations: individual (MAP) and population (η = 0).
  std::vector<double> ipred, pred;
  auto pred_ofv = Ofv(prepared, Eigen::VectorXd::Zero(n), &pred);
  if (!pred_ofv.ok()) return pred_ofv.error();
  auto ipred_ofv = Ofv(prepared, best, &ipred);
  if (!ipred_ofv.ok()) return ipred_ofv.error();
  std::size_t k = 0;
  for (const auto& r : subject.records) {
    if (r.evid != sim::Evid::kObservation || std::isnan(r.dv)) continue;
    fit.predictions.push_back({r.time, r.dv, ipred[k], pred[k]});
    ++k;
  }
  for (std::size_t p = 0; p < model_.parameters.size(); ++p) {
    const auto& param = model_.parameters[p];
    const double value =
        prepared.typical[0][p] * (param.eta >= 0 ? std::exp(best(param.eta)) : 1.0);
    fit.parameter_names.push_back(param.name);
    fit.parameters.push_back(value);
    fit.parameter_se.push_back(
        param.eta >= 0 ? value * std::sqrt(fit.eta_covariance(param.eta, param.eta)) : 0.0);
  }
  return fit;
}

}  // namespace medtwin::estimate
