#include "medtwin/estimate/population_fit.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <numbers>
#include <set>
#include <thread>

#include "medtwin/estimate/optimize.h"

namespace medtwin::estimate {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Observation {
  std::size_t record;
  double y;
};

// Everything one evaluation of the population objective needs.
class FoceObjective {
 public:
  FoceObjective(const sim::Model& model, const std::vector<sim::Subject>& subjects,
                const PopFitOptions& options, std::vector<sim::Simulator> simulators)
      : model_(model),
        subjects_(subjects),
        options_(options),
        simulators_(std::move(simulators)),
        layout_(model.Info()) {
    for (const auto& name : options.iiv) iiv_index_.push_back(layout_.Find(name));
    base_ = layout_.Defaults();
    std::set<int> fixed;
    for (const auto& [name, v] : options.fixed) {
      base_[static_cast<std::size_t>(layout_.Find(name))] = v;
      fixed.insert(layout_.Find(name));
    }
    for (int k = 0; k < layout_.model_count(); ++k) {
      if (fixed.count(k) == 0) theta_index_.push_back(k);
    }
    for (const auto& s : subjects) {
      std::vector<Observation> obs;
      for (std::size_t r = 0; r < s.records.size(); ++r) {
        if (s.records[r].evid == sim::Evid::kObservation && !std::isnan(s.records[r].dv)) {
          obs.push_back({r, s.records[r].dv});
        }
      }
      observations_.push_back(std::move(obs));
      eta_hat_.push_back(Eigen::VectorXd::Zero(static_cast<Eigen::Index>(iiv_index_.size())));
    }
    anchor_eta_ = eta_hat_;
  }

  [[nodiscard]] int EtaCount() const { return static_cast<int>(iiv_index_.size()); }
  [[nodiscard]] int ThetaCount() const { return static_cast<int>(theta_index_.size()); }
  // Layout indices of the estimated typical values, in x's order.
  [[nodiscard]] const std::vector<int>& ThetaIndex() const { return theta_index_; }
  [[nodiscard]] bool Proportional() const { return options_.error != ResidualKind::kAdditive; }
  // x = [log typical (every parameter not fixed) | Ω parameters | log σ_add | log σ_prop (if
  // used)], with Ω as log ω² (diagonal) or as its Cholesky factor L, row by row, log on the
  // diagonal (full).
  [[nodiscard]] int OmegaParams() const {
    const int n = EtaCount();
    return options_.full_omega ? n * (n + 1) / 2 : n;
  }
  [[nodiscard]] Eigen::Index OmegaIndex() const { return ThetaCount(); }
  [[nodiscard]] Eigen::Index SigmaIndex() const { return ThetaCount() + OmegaParams(); }
  [[nodiscard]] int Size() const {
    return ThetaCount() + OmegaParams() + 1 + (options_.error == ResidualKind::kAdditive ? 0 : 1);
  }
  [[nodiscard]] Eigen::MatrixXd Omega(const Eigen::VectorXd& x) const {
    const int n = EtaCount();
    if (!options_.full_omega) {
      return x.segment(OmegaIndex(), n).array().exp().matrix().asDiagonal();
    }
    Eigen::MatrixXd l = Eigen::MatrixXd::Zero(n, n);
    Eigen::Index k = OmegaIndex();
    for (int r = 0; r < n; ++r) {
      for (int c = 0; c <= r; ++c, ++k) l(r, c) = r == c ? std::exp(x(k)) : x(k);
    }
    return l * l.transpose();
  }

  // Predictions of subject i at its observations for η.
  bool Predict(sim::Simulator& simulator, std::size_t i, const Eigen::VectorXd& theta,
               const Eigen::VectorXd& eta, std::vector<double>& f) {
    std::vector<double> p = base_;
    for (int j = 0; j < ThetaCount(); ++j) {
      p[static_cast<std::size_t>(theta_index_[static_cast<std::size_t>(j)])] = std::exp(theta(j));
    }
    for (int k = 0; k < EtaCount(); ++k) {
      p[static_cast<std::size_t>(iiv_index_[static_cast<std::size_t>(k)])] *= std::exp(eta(k));
    }
    auto r = simulator.Run(subjects_[i], p);
    if (!r.ok()) return false;
    f.clear();
    for (const auto& o : observations_[i]) f.push_back(r->Output(o.record, 0));
    return true;
  }

  [[nodiscard]] double Variance(const Eigen::VectorXd& x, double f) const {
    const double a = std::exp(x(SigmaIndex()));
    ResidualModel res{options_.error, a, Proportional() ? std::exp(x(SigmaIndex() + 1)) : 0.0};
    if (options_.error == ResidualKind::kProportional) res.additive = 0;
    const double sd = res.Sd(f);
    return sd * sd;
  }

  // Subject i's contribution to −2LL: inner MAP objective at η̂ + ln|Ω| + ln|GᵀR⁻¹G + Ω⁻¹|
  // + n ln 2π. Stores η̂ for subject i.
  double SubjectTerm(std::size_t i, const Eigen::VectorXd& x, const Eigen::VectorXd& theta,
                     const Eigen::MatrixXd& omega, const Eigen::MatrixXd& omega_inv,
                     double log_det_omega, sim::Simulator& simulator) {
    const int n_eta = EtaCount();
    std::vector<double> f, fh;
    const auto& obs = observations_[i];
    const auto n_obs = static_cast<Eigen::Index>(obs.size());
    // Inner problem: η̂ = argmin Σ[(y−f)²/R + ln R] + ηᵀΩ⁻¹η by Gauss–Newton with a
    // backtracking line search, warm-started from the previous η̂. The gradient is exact
    // (including how R depends on f); the Hessian is the first-order GᵀR⁻¹G + Ω⁻¹, which is
    // also the matrix the FOCE-I likelihood needs at the optimum.
    Eigen::VectorXd eta = anchor_eta_[i];
    Eigen::MatrixXd g(n_obs, n_eta);
    Eigen::VectorXd r_inv(n_obs);
    double value = kInf;
    auto inner_value = [&](const Eigen::VectorXd& e, std::vector<double>& fe) {
      if (!Predict(simulator, i, theta, e, fe)) return kInf;
      double v = e.dot(omega_inv * e);
      for (std::size_t j = 0; j < obs.size(); ++j) {
        const double r = Variance(x, fe[j]);
        v += (obs[j].y - fe[j]) * (obs[j].y - fe[j]) / r + std::log(r);
      }
      return v;
    };
    value = inner_value(eta, f);
    if (!std::isfinite(value)) return kInf;
    const Eigen::VectorXd bound = 6 * omega.diagonal().cwiseSqrt();
    bool converged = false;
    bool g_at_eta = false;  // G and R⁻¹ in hand are those at the final η̂
    for (int iter = 0; iter < 60; ++iter) {
      // G = ∂f/∂η by forward differences at η.
      for (int k = 0; k < n_eta; ++k) {
        Eigen::VectorXd e = eta;
        const double h = 1e-7;
        e(k) += h;
        if (!Predict(simulator, i, theta, e, fh)) return kInf;
        for (std::size_t j = 0; j < obs.size(); ++j) {
          g(static_cast<Eigen::Index>(j), k) = (fh[j] - f[j]) / h;
        }
      }
      Eigen::VectorXd w(n_obs);  // ∂(per-observation term)/∂f
      for (std::size_t j = 0; j < obs.size(); ++j) {
        const double r = Variance(x, f[j]);
        const double dr = (Variance(x, f[j] + 1e-6) - Variance(x, f[j] - 1e-6)) / 2e-6;
        const double e = obs[j].y - f[j];
        w(static_cast<Eigen::Index>(j)) = -2 * e / r - e * e * dr / (r * r) + dr / r;
        r_inv(static_cast<Eigen::Index>(j)) = 1.0 / r;
      }
      const Eigen::VectorXd grad = 2 * omega_inv * eta + g.transpose() * w;
      Eigen::MatrixXd h = g.transpose() * r_inv.asDiagonal() * g;
      h += omega_inv;
      const Eigen::VectorXd step = -(2 * h).ldlt().solve(grad);
      if (!step.allFinite()) return kInf;
      // Newton decrement: the predicted improvement is below what the forward-difference G
      // resolves (tighter only adds iterations that chase its noise; typical values and
      // their SEs are unchanged, checked against nlme).
      if (-grad.dot(step) < 1e-10 * std::max(1.0, std::abs(value))) {
        converged = true;
        g_at_eta = true;
        break;
      }
      double alpha = 1;
      bool improved = false;
      Eigen::VectorXd trial;
      for (int k = 0; k < 30; ++k) {
        trial = (eta + alpha * step).cwiseMax(-bound).cwiseMin(bound);
        const double v = inner_value(trial, fh);
        if (v <= value + 1e-4 * alpha * grad.dot(step)) {
          value = v;
          improved = true;
          break;
        }
        alpha *= 0.5;
      }
      if (!improved) break;  // no descent left: at the minimum to rounding
      const double moved = (trial - eta).lpNorm<Eigen::Infinity>();
      eta = trial;
      f.swap(fh);
      if (moved < 1e-10) {
        converged = true;
        break;
      }
    }
    if (!converged) {
      // Gauss–Newton stalled (strong curvature from R(f), a bound): finish with BFGS.
      auto objective = [&](const Eigen::VectorXd& e) { return inner_value(e, fh); };
      MinimizeResult m = MinimizeBfgs(objective, eta, -bound, bound, 200, 1e-10);
      if (!std::isfinite(m.value)) return kInf;
      eta = m.x;
      value = inner_value(eta, f);
    }
    eta_hat_[i] = eta;
    // Laplace term with G at η̂ (recomputed there unless the last Newton step had it).
    if (!g_at_eta) {
      for (int k = 0; k < n_eta; ++k) {
        Eigen::VectorXd e = eta;
        const double step_h = 1e-7;
        e(k) += step_h;
        if (!Predict(simulator, i, theta, e, fh)) return kInf;
        for (std::size_t j = 0; j < obs.size(); ++j) {
          g(static_cast<Eigen::Index>(j), k) = (fh[j] - f[j]) / step_h;
        }
      }
      for (std::size_t j = 0; j < obs.size(); ++j) {
        r_inv(static_cast<Eigen::Index>(j)) = 1.0 / Variance(x, f[j]);
      }
    }
    Eigen::MatrixXd h = g.transpose() * r_inv.asDiagonal() * g;
    h += omega_inv;
    Eigen::LLT<Eigen::MatrixXd> llt(h);
    if (llt.info() != Eigen::Success) return kInf;
    const double log_det_h = 2 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
    return value + log_det_omega + log_det_h +
           static_cast<double>(obs.size()) * std::log(2 * std::numbers::pi);
  }

  // −2 log-likelihood (FOCE-I, Laplace form). Updates the stored η̂ (warm starts).
  double operator()(const Eigen::VectorXd& x) {
    const int n_eta = EtaCount();
    const Eigen::VectorXd theta = x.head(ThetaCount());
    const Eigen::MatrixXd omega = Omega(x);
    Eigen::LLT<Eigen::MatrixXd> omega_llt(omega);
    if (!omega.allFinite() || omega_llt.info() != Eigen::Success) return kInf;
    const Eigen::MatrixXd omega_inv = omega_llt.solve(Eigen::MatrixXd::Identity(n_eta, n_eta));
    const double log_det_omega =
        2 * omega_llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
    // Subjects are independent given the population parameters: split them over two
    // threads, each with its own simulator (η̂ slots are per subject, so nothing is shared).
    std::vector<double> terms(subjects_.size(), kInf);
    auto run = [&](std::size_t first, std::size_t stride, sim::Simulator& simulator) {
      for (std::size_t i = first; i < subjects_.size(); i += stride) {
        terms[i] = SubjectTerm(i, x, theta, omega, omega_inv, log_det_omega, simulator);
      }
    };
    if (simulators_.size() > 1 && subjects_.size() >= 4) {
      std::thread helper(run, 1, 2, std::ref(simulators_[1]));
      run(0, 2, simulators_[0]);
      helper.join();
    } else {
      run(0, 1, simulators_[0]);
    }
    double total = 0;
    for (double t : terms) total += t;
    if (!std::isfinite(total)) return kInf;
    // Warm starts come from the best point so far only, so a wild trial step of the outer
    // search cannot leave η̂ somewhere that changes later evaluations.
    if (total < best_total_) {
      best_total_ = total;
      anchor_eta_ = eta_hat_;
    }
    return total;
  }

  const std::vector<Eigen::VectorXd>& EtaHat() const { return eta_hat_; }
  int ObservationCount() const {
    int n = 0;
    for (const auto& o : observations_) n += static_cast<int>(o.size());
    return n;
  }

 private:
  const sim::Model& model_;
  const std::vector<sim::Subject>& subjects_;
  const PopFitOptions& options_;
  std::vector<sim::Simulator> simulators_;  // one per worker thread
  sim::ParameterLayout layout_;
  std::vector<int> iiv_index_;
  std::vector<int> theta_index_;
  std::vector<double> base_;
  std::vector<std::vector<Observation>> observations_;
  std::vector<Eigen::VectorXd> eta_hat_;
  std::vector<Eigen::VectorXd> anchor_eta_;
  double best_total_ = kInf;
};

}  // namespace

Result<PopFitResult> FitPopulation(const sim::Model& model,
                                   const std::vector<sim::Subject>& subjects,
                                   const PopFitOptions& options) {
  sim::ParameterLayout layout(model.Info());
  if (options.iiv.empty()) return InvalidArgument("--iiv", "name at least one parameter");
  for (const auto& name : options.iiv) {
    if (layout.Find(name) < 0 || layout.Find(name) >= layout.model_count()) {
      return InvalidArgument("--iiv",
                             "model " + model.Info().name + " has no parameter '" + name + "'");
    }
  }
  auto model_parameter = [&](const std::string& name, const char* option) -> Result<int> {
    const int index = layout.Find(name);
    if (index < 0 || index >= layout.model_count()) {
      return InvalidArgument(option,
                             "model " + model.Info().name + " has no parameter '" + name + "'");
    }
    return index;
  };
  std::vector<double> start = layout.Defaults();
  for (const auto& [name, value] : options.fixed) {
    MEDTWIN_TRY(const int index, model_parameter(name, "--fix"));
    (void)index;
    if (!std::isfinite(value)) return InvalidArgument("--fix", name + ": not a number");
  }
  for (const auto& [name, value] : options.initial) {
    MEDTWIN_TRY(const int index, model_parameter(name, "--init"));
    if (!(value > 0) || !std::isfinite(value)) {
      return InvalidArgument("--init", name +
                                           ": a typical value is estimated on the log scale: "
                                           "start above 0");
    }
    start[static_cast<std::size_t>(index)] = value;
  }
  if (subjects.empty()) return InvalidArgument("data", "no subjects");
  std::vector<sim::Simulator> simulators;
  for (int t = 0; t < 2; ++t) {
    MEDTWIN_TRY(sim::Simulator simulator, sim::Simulator::Create(model));
    simulators.push_back(std::move(simulator));
  }
  FoceObjective objective(model, subjects, options, std::move(simulators));
  if (objective.ObservationCount() == 0) return InvalidArgument("DV", "no observations to fit");

  // Start: --init or the model's defaults for typical values, ω² = 0.1, σ from the data's
  // spread.
  const int n_eta = objective.EtaCount();
  const int n_theta = objective.ThetaCount();
  const Eigen::Index omega_index = objective.OmegaIndex();
  Eigen::VectorXd x0(objective.Size());
  for (int j = 0; j < n_theta; ++j) {
    const int index = objective.ThetaIndex()[static_cast<std::size_t>(j)];
    const double v = start[static_cast<std::size_t>(index)];
    if (!(v > 0)) {
      return InvalidArgument("--init", layout.Name(index) +
                                           " starts at 0 and is estimated on the log scale: give "
                                           "--init " +
                                           layout.Name(index) + "=V or --fix it");
    }
    x0(j) = std::log(v);
  }
  for (int k = 0; k < n_eta && !options.full_omega; ++k) x0(omega_index + k) = std::log(0.1);
  double mean_y = 0;
  int count = 0;
  for (const auto& s : subjects) {
    for (const auto& r : s.records) {
      if (r.evid == sim::Evid::kObservation && !std::isnan(r.dv)) {
        mean_y += r.dv;
        ++count;
      }
    }
  }
  mean_y /= count;
  if (options.full_omega) {  // L = sqrt(0.1)·I
    Eigen::Index k = omega_index;
    for (int r = 0; r < n_eta; ++r) {
      for (int c = 0; c <= r; ++c, ++k) x0(k) = r == c ? 0.5 * std::log(0.1) : 0.0;
    }
  }
  const Eigen::Index sigma_index = objective.SigmaIndex();
  x0(sigma_index) = std::log(std::max(0.1 * mean_y, 1e-3));
  if (objective.Proportional()) x0(sigma_index + 1) = std::log(0.1);
  auto f = [&](const Eigen::VectorXd& x) { return objective(x); };
  Eigen::VectorXd lower = Eigen::VectorXd::Constant(x0.size(), -30);
  Eigen::VectorXd upper = Eigen::VectorXd::Constant(x0.size(), 30);
  // The objective holds inner optimizations (η̂), so it is smooth only to ~1e-8: gradients use
  // a 1e-4 step on the log-parameters.
  // Steps are limited to a factor e per iteration on any parameter.
  MinimizeResult m = MinimizeBfgs(f, x0, lower, upper, options.max_iterations, 1e-6, 1e-4, 1.0);
  if (!std::isfinite(m.value)) {
    return Error{ErrorCode::kSolverFailure, "popfit", "the objective could not be evaluated"};
  }
  // Standard errors from the inverse Hessian of the −2LL (covariance = 2·H⁻¹).
  const double final_ofv = objective(m.x);
  Eigen::MatrixXd hess = NumericHessian(f, m.x, 1e-3);
  Eigen::MatrixXd cov = Eigen::MatrixXd::Constant(m.x.size(), m.x.size(), std::nan(""));
  Eigen::LLT<Eigen::MatrixXd> llt(hess);
  if (llt.info() == Eigen::Success)
    cov = 2 * llt.solve(Eigen::MatrixXd::Identity(m.x.size(), m.x.size()));
  (void)objective(m.x);  // restore η̂ at the optimum after the Hessian's probes

  PopFitResult out;
  out.iterations = m.iterations;
  out.converged = m.converged;
  out.observations = objective.ObservationCount();
  out.minus_2ll = final_ofv;
  out.ofv = final_ofv - out.observations * std::log(2 * std::numbers::pi);
  // Every THETA, model order: estimated ones with their SE (delta method), fixed ones as set.
  std::vector<double> typical_all(start);
  for (const auto& [name, value] : options.fixed) {
    typical_all[static_cast<std::size_t>(layout.Find(name))] = value;
  }
  for (int index = 0; index < layout.model_count(); ++index) {
    const auto& estimated = objective.ThetaIndex();
    const auto at = std::find(estimated.begin(), estimated.end(), index);
    out.parameter_names.push_back(layout.Name(index));
    if (at == estimated.end()) {
      out.typical.push_back(typical_all[static_cast<std::size_t>(index)]);
      out.typical_se.push_back(std::nan(""));
      out.fixed.push_back(true);
    } else {
      const auto j = static_cast<Eigen::Index>(at - estimated.begin());
      const double typical = std::exp(m.x(j));
      out.typical.push_back(typical);
      out.typical_se.push_back(typical * std::sqrt(cov(j, j)));
      out.fixed.push_back(false);
    }
  }
  for (int k = 0; k < n_eta; ++k) {
    out.iiv_names.push_back(options.iiv[static_cast<std::size_t>(k)]);
    if (!options.full_omega) {
      const double omega2 = std::exp(m.x(omega_index + k));
      out.omega_se.push_back(omega2 * std::sqrt(cov(omega_index + k, omega_index + k)));
    } else {
      // Delta method through the Cholesky parameters: var(ω²_kk) = ∇ᵀ C ∇.
      const Eigen::Index h = omega_index + objective.OmegaParams();
      Eigen::VectorXd grad(h);
      for (Eigen::Index j = 0; j < h; ++j) {
        Eigen::VectorXd xp = m.x, xm = m.x;
        xp(j) += 1e-6;
        xm(j) -= 1e-6;
        grad(j) = (objective.Omega(xp)(k, k) - objective.Omega(xm)(k, k)) / 2e-6;
      }
      out.omega_se.push_back(std::sqrt(grad.dot(cov.topLeftCorner(h, h) * grad)));
    }
  }
  out.sigma_additive =
      options.error == ResidualKind::kProportional ? 0 : std::exp(m.x(objective.SigmaIndex()));
  if (objective.Proportional()) {
    out.sigma_proportional = std::exp(m.x(objective.SigmaIndex() + 1));
  }
  out.omega_matrix = objective.Omega(m.x);
  for (int k = 0; k < n_eta; ++k) out.omega.push_back(out.omega_matrix(k, k));
  for (const auto& s : subjects) out.subject_ids.push_back(s.id);
  out.etas = objective.EtaHat();
  return out;
}

std::string PopulationModelJson(const PopFitResult& fit, const std::string& name,
                                const std::string& structural_model, const std::string& source) {
  using nlohmann::json;
  json params = json::object();
  for (std::size_t k = 0; k < fit.parameter_names.size(); ++k) {
    const std::string& parameter = fit.parameter_names[k];
    const bool eta =
        std::find(fit.iiv_names.begin(), fit.iiv_names.end(), parameter) != fit.iiv_names.end();
    params[parameter] = {{"typical", fit.typical[k]}, {"eta", eta}};
  }
  json omega = json::array();
  for (Eigen::Index r = 0; r < fit.omega_matrix.rows(); ++r) {
    json row = json::array();
    for (Eigen::Index c = 0; c < fit.omega_matrix.cols(); ++c)
      row.push_back(fit.omega_matrix(r, c));
    omega.push_back(row);
  }
  std::string kind = fit.sigma_proportional > 0
                         ? (fit.sigma_additive > 0 ? "combined2" : "proportional")
                         : "additive";
  json j = {{"name", name},
            {"description", "estimated by medtwin popfit (FOCE-I)"},
            {"source", source},
            {"structural_model", structural_model},
            {"covariates", json::array()},
            {"parameters", params},
            {"etas", fit.iiv_names},
            {"omega", omega},
            {"residual",
             {{"model", kind},
              {"additive", fit.sigma_additive},
              {"proportional", fit.sigma_proportional}}}};
  return j.dump(2) + "\n";
}

}  // namespace medtwin::estimate
