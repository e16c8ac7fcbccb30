#include "medtwin/estimate/population_fit.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <numbers>

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
                const PopFitOptions& options, sim::Simulator simulator)
      : model_(model),
        subjects_(subjects),
        options_(options),
        simulator_(std::move(simulator)),
        layout_(model.Info()) {
    for (const auto& name : options.iiv) iiv_index_.push_back(layout_.Find(name));
    base_ = layout_.Defaults();
    for (const auto& [name, v] : options.fixed)
      base_[static_cast<std::size_t>(layout_.Find(name))] = v;
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
  }

  [[nodiscard]] int EtaCount() const { return static_cast<int>(iiv_index_.size()); }
  [[nodiscard]] bool Proportional() const { return options_.error != ResidualKind::kAdditive; }
  // x = [log typical (IIV params) | log ω² | log σ_add | log σ_prop (if used)]
  [[nodiscard]] int Size() const {
    return 2 * EtaCount() + 1 + (options_.error == ResidualKind::kAdditive ? 0 : 1);
  }

  // Predictions of subject i at its observations for η.
  bool Predict(std::size_t i, const Eigen::VectorXd& theta, const Eigen::VectorXd& eta,
               std::vector<double>& f) {
    std::vector<double> p = base_;
    for (int k = 0; k < EtaCount(); ++k) {
      p[static_cast<std::size_t>(iiv_index_[static_cast<std::size_t>(k)])] =
          std::exp(theta(k) + eta(k));
    }
    auto r = simulator_.Run(subjects_[i], p);
    if (!r.ok()) return false;
    f.clear();
    for (const auto& o : observations_[i]) f.push_back(r->Output(o.record, 0));
    return true;
  }

  [[nodiscard]] double Variance(const Eigen::VectorXd& x, double f) const {
    const double a = std::exp(x(2 * EtaCount()));
    ResidualModel res{options_.error, a, Proportional() ? std::exp(x(2 * EtaCount() + 1)) : 0.0};
    if (options_.error == ResidualKind::kProportional) res.additive = 0;
    const double sd = res.Sd(f);
    return sd * sd;
  }

  // −2 log-likelihood (FOCE-I, Laplace form). Updates the stored η̂ (warm starts).
  double operator()(const Eigen::VectorXd& x) {
    const int n_eta = EtaCount();
    const Eigen::VectorXd theta = x.head(n_eta);
    const Eigen::VectorXd omega = x.segment(n_eta, n_eta).array().exp();
    if (!omega.allFinite() || (omega.array() <= 0).any()) return kInf;
    const Eigen::VectorXd omega_inv = omega.cwiseInverse();
    const double log_det_omega = omega.array().log().sum();
    double total = 0;
    std::vector<double> f, fh;
    for (std::size_t i = 0; i < subjects_.size(); ++i) {
      const auto& obs = observations_[i];
      auto inner = [&](const Eigen::VectorXd& eta) {
        if (!Predict(i, theta, eta, f)) return kInf;
        double v = (eta.array().square() * omega_inv.array()).sum();
        for (std::size_t j = 0; j < obs.size(); ++j) {
          const double r = Variance(x, f[j]);
          v += (obs[j].y - f[j]) * (obs[j].y - f[j]) / r + std::log(r);
        }
        return v;
      };
      const Eigen::VectorXd bound = 6 * omega.cwiseSqrt();
      MinimizeResult m = MinimizeBfgs(inner, eta_hat_[i], -bound, bound, 100, 1e-9);
      if (!std::isfinite(m.value)) return kInf;
      eta_hat_[i] = m.x;
      // First-order Hessian of the inner objective / 2: GᵀR⁻¹G + Ω⁻¹, G = ∂f/∂η at η̂.
      if (!Predict(i, theta, m.x, f)) return kInf;
      Eigen::MatrixXd g(static_cast<Eigen::Index>(obs.size()), n_eta);
      for (int k = 0; k < n_eta; ++k) {
        Eigen::VectorXd e = m.x;
        const double h = 1e-6;
        e(k) += h;
        if (!Predict(i, theta, e, fh)) return kInf;
        for (std::size_t j = 0; j < obs.size(); ++j) {
          g(static_cast<Eigen::Index>(j), k) = (fh[j] - f[j]) / h;
        }
      }
      Eigen::VectorXd r_inv(static_cast<Eigen::Index>(obs.size()));
      for (std::size_t j = 0; j < obs.size(); ++j) {
        r_inv(static_cast<Eigen::Index>(j)) = 1.0 / Variance(x, f[j]);
      }
      Eigen::MatrixXd h = g.transpose() * r_inv.asDiagonal() * g;
      h.diagonal() += omega_inv;
      Eigen::LLT<Eigen::MatrixXd> llt(h);
      if (llt.info() != Eigen::Success) return kInf;
      const double log_det_h = 2 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
      total += m.value + log_det_omega + log_det_h +
               static_cast<double>(obs.size()) * std::log(2 * std::numbers::pi);
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
  sim::Simulator simulator_;
  sim::ParameterLayout layout_;
  std::vector<int> iiv_index_;
  std::vector<double> base_;
  std::vector<std::vector<Observation>> observations_;
  std::vector<Eigen::VectorXd> eta_hat_;
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
  if (subjects.empty()) return InvalidArgument("data", "no subjects");
  MEDTWIN_TRY(sim::Simulator simulator, sim::Simulator::Create(model));
  FoceObjective objective(model, subjects, options, std::move(simulator));
  if (objective.ObservationCount() == 0) return InvalidArgument("DV", "no observations to fit");

  // Start: model defaults for typical values, ω² = 0.1, σ from the data's spread.
  const int n_eta = objective.EtaCount();
  Eigen::VectorXd x0(objective.Size());
  const auto defaults = layout.Defaults();
  for (int k = 0; k < n_eta; ++k) {
    x0(k) = std::log(
        defaults[static_cast<std::size_t>(layout.Find(options.iiv[static_cast<std::size_t>(k)]))]);
    x0(n_eta + k) = std::log(0.1);
  }
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
  x0(2 * n_eta) = std::log(std::max(0.1 * mean_y, 1e-3));
  if (objective.Proportional()) x0(2 * n_eta + 1) = std::log(0.1);
  auto f = [&](const Eigen::VectorXd& x) { return objective(x); };
  Eigen::VectorXd lower = Eigen::VectorXd::Constant(x0.size(), -30);
  Eigen::VectorXd upper = Eigen::VectorXd::Constant(x0.size(), 30);
  // The objective holds inner optimizations (η̂), so it is smooth only to ~1e-8: gradients use
  // a 1e-4 step on the log-parameters.
  MinimizeResult m = MinimizeBfgs(f, x0, lower, upper, options.max_iterations, 1e-6, 1e-4);
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
  out.ofv = final_ofv;
  out.iterations = m.iterations;
  out.converged = m.converged;
  out.observations = objective.ObservationCount();
  for (int k = 0; k < n_eta; ++k) {
    const double typical = std::exp(m.x(k));
    out.parameter_names.push_back(options.iiv[static_cast<std::size_t>(k)]);
    out.typical.push_back(typical);
    out.typical_se.push_back(typical * std::sqrt(cov(k, k)));  // delta method
    out.iiv_names.push_back(options.iiv[static_cast<std::size_t>(k)]);
    const double omega2 = std::exp(m.x(n_eta + k));
    out.omega.push_back(omega2);
    out.omega_se.push_back(omega2 * std::sqrt(cov(n_eta + k, n_eta + k)));
  }
  out.sigma_additive = options.error == ResidualKind::kProportional ? 0 : std::exp(m.x(2 * n_eta));
  if (objective.Proportional()) out.sigma_proportional = std::exp(m.x(2 * n_eta + 1));
  for (const auto& s : subjects) out.subject_ids.push_back(s.id);
  out.etas = objective.EtaHat();
  return out;
}

std::string PopulationModelJson(const PopFitResult& fit, const std::string& name,
                                const std::string& structural_model, const std::string& source) {
  using nlohmann::json;
  json params = json::object();
  for (std::size_t k = 0; k < fit.parameter_names.size(); ++k) {
    params[fit.parameter_names[k]] = {{"typical", fit.typical[k]}, {"eta", true}};
  }
  json omega = json::array();
  for (std::size_t r = 0; r < fit.omega.size(); ++r) {
    json row = json::array();
    for (std::size_t c = 0; c < fit.omega.size(); ++c) row.push_back(r == c ? fit.omega[r] : 0.0);
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
