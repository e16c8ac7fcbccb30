#include "medtwin/estimate/population_fit.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <numbers>
#include <set>
#include <thread>

#include "medtwin/core/format.h"
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
                const PopFitOptions& options, std::vector<sim::Simulator> simulators, int output)
      : model_(model),
        subjects_(subjects),
        options_(options),
        simulators_(std::move(simulators)),
        layout_(model.Info()),
        output_(output) {
    for (const auto& name : options.iiv) iiv_index_.push_back(layout_.Find(name));
    base_ = layout_.Defaults();
    std::set<int> fixed;
    for (const auto& [name, v] : options.fixed) {
      base_[static_cast<std::size_t>(layout_.Find(name))] = v;
      fixed.insert(layout_.Find(name));
    }
    // A parameter records set is a data item (a concentration column), not a THETA.
    for (const auto& s : subjects) {
      for (const auto& r : s.records) {
        for (std::size_t k = 0; k < r.parameter_updates.size(); ++k) {
          if (!std::isnan(r.parameter_updates[k])) from_data_.insert(static_cast<int>(k));
        }
      }
    }
    for (int k = 0; k < layout_.model_count(); ++k) {
      if (fixed.count(k) == 0 && from_data_.count(k) == 0) theta_index_.push_back(k);
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

  [[nodiscard]] const std::set<int>& FromData() const { return from_data_; }
  [[nodiscard]] int EtaCount() const { return static_cast<int>(iiv_index_.size()); }
  [[nodiscard]] int ThetaCount() const { return static_cast<int>(theta_index_.size()); }
  // Layout indices of the estimated typical values, in x's order.
  [[nodiscard]] const std::vector<int>& ThetaIndex() const { return theta_index_; }
  [[nodiscard]] bool Proportional() const { return options_.error != ResidualKind::kAdditive; }
  [[nodiscard]] bool Additive() const { return options_.error != ResidualKind::kProportional; }
  // x = [log typical (every parameter not fixed) | Ω parameters | log σ_add (if used) |
  // log σ_prop (if used)], with Ω as log ω² (diagonal) or as its Cholesky factor L, row by
  // row, log on the diagonal (full). No coordinate is unused: an unused one would make the
  // Hessian singular and lose every SE.
  [[nodiscard]] int OmegaParams() const {
    const int n = EtaCount();
    return options_.full_omega ? n * (n + 1) / 2 : n;
  }
  // Covariate coefficients follow the log typical values in x (raw scale: an exponent or slope
  // may be negative); "theta" below is both.
  [[nodiscard]] int CovariateCount() const { return static_cast<int>(covariates_.size()); }
  [[nodiscard]] int FixedEffectCount() const { return ThetaCount() + CovariateCount(); }
  [[nodiscard]] Eigen::Index OmegaIndex() const { return FixedEffectCount(); }
  [[nodiscard]] Eigen::Index SigmaIndex() const { return OmegaIndex() + OmegaParams(); }
  [[nodiscard]] int Size() const {
    return FixedEffectCount() + OmegaParams() + (Additive() ? 1 : 0) + (Proportional() ? 1 : 0);
  }
  // Covariate effects on parameters (layout index) with each subject's baseline values.
  void SetCovariates(std::vector<std::pair<int, CovariateEffect>> effects,
                     std::vector<std::vector<double>> baselines) {
    covariates_ = std::move(effects);
    baselines_ = std::move(baselines);
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
    for (int c = 0; c < CovariateCount(); ++c) {
      auto [index, effect] = covariates_[static_cast<std::size_t>(c)];
      effect.coefficient = theta(ThetaCount() + c);
      const auto factor = CovariateFactor(effect, baselines_[i][static_cast<std::size_t>(c)]);
      if (!factor.ok() || !(*factor > 0)) return false;
      p[static_cast<std::size_t>(index)] *= *factor;
    }
    for (int k = 0; k < EtaCount(); ++k) {
      p[static_cast<std::size_t>(iiv_index_[static_cast<std::size_t>(k)])] *= std::exp(eta(k));
    }
    auto r = simulator.Run(subjects_[i], p);
    if (!r.ok()) return false;
    f.clear();
    for (const auto& o : observations_[i]) f.push_back(r->Output(o.record, output_));
    return true;
  }

  // G = ∂f/∂η of subject i at η by forward differences, f being the predictions at η.
  bool Jacobian(sim::Simulator& simulator, std::size_t i, const Eigen::VectorXd& theta,
                const Eigen::VectorXd& eta, const std::vector<double>& f, Eigen::MatrixXd& g,
                std::vector<double>& scratch) {
    constexpr double kStep = 1e-7;
    g.resize(static_cast<Eigen::Index>(f.size()), EtaCount());
    for (int k = 0; k < EtaCount(); ++k) {
      Eigen::VectorXd e = eta;
      e(k) += kStep;
      if (!Predict(simulator, i, theta, e, scratch)) return false;
      for (std::size_t j = 0; j < f.size(); ++j) {
        g(static_cast<Eigen::Index>(j), k) = (scratch[j] - f[j]) / kStep;
      }
    }
    return true;
  }

  // Per-observation diagnostics at x (with the stored η̂): NONMEM's PRED, IPRED, RES, WRES,
  // IWRES and CWRES. WRES decorrelates y − f(η=0) by the first-order covariance at η = 0,
  // GΩGᵀ + R (Beal & Sheiner); CWRES does so for y − f(η̂) + Gη̂ with G and R at η̂ (Hooker AC,
  // Staatz CE, Karlsson MO. Pharm Res 2007;24:2187). Both use the Cholesky factor L of the
  // covariance (C = LLᵀ, residuals L⁻¹r), as PsN's CWRES does.
  std::vector<ObservationDiagnostics> Diagnostics(const Eigen::VectorXd& x) {
    std::vector<ObservationDiagnostics> out;
    const Eigen::VectorXd theta = x.head(FixedEffectCount());
    const Eigen::MatrixXd omega = Omega(x);
    std::vector<double> f0, fhat, scratch;
    Eigen::MatrixXd g0, ghat;
    auto decorrelated = [&](const Eigen::MatrixXd& g, const std::vector<double>& f,
                            const Eigen::VectorXd& r) {
      Eigen::MatrixXd c = g * omega * g.transpose();
      for (std::size_t j = 0; j < f.size(); ++j) {
        const auto jj = static_cast<Eigen::Index>(j);
        c(jj, jj) += Variance(x, f[j]);
      }
      Eigen::LLT<Eigen::MatrixXd> llt(c);
      if (llt.info() != Eigen::Success) {
        return Eigen::VectorXd::Constant(r.size(), std::nan("")).eval();
      }
      return llt.matrixL().solve(r).eval();
    };
    for (std::size_t i = 0; i < subjects_.size(); ++i) {
      const Eigen::VectorXd zero = Eigen::VectorXd::Zero(EtaCount());
      const Eigen::VectorXd& eta = eta_hat_[i];
      if (!Predict(simulators_[0], i, theta, zero, f0) ||
          !Jacobian(simulators_[0], i, theta, zero, f0, g0, scratch) ||
          !Predict(simulators_[0], i, theta, eta, fhat) ||
          !Jacobian(simulators_[0], i, theta, eta, fhat, ghat, scratch)) {
        continue;
      }
      const auto& obs = observations_[i];
      const auto n = static_cast<Eigen::Index>(obs.size());
      Eigen::VectorXd res(n), conditional(n);
      for (Eigen::Index j = 0; j < n; ++j) {
        res(j) = obs[static_cast<std::size_t>(j)].y - f0[static_cast<std::size_t>(j)];
        conditional(j) = obs[static_cast<std::size_t>(j)].y - fhat[static_cast<std::size_t>(j)];
      }
      const Eigen::VectorXd wres = decorrelated(g0, f0, res);
      const Eigen::VectorXd cwres = decorrelated(ghat, fhat, conditional + ghat * eta);
      for (Eigen::Index j = 0; j < n; ++j) {
        const auto jj = static_cast<std::size_t>(j);
        const sim::Record& rec = subjects_[i].records[obs[jj].record];
        out.push_back({i, obs[jj].record, rec.time, obs[jj].y, f0[jj], fhat[jj], res(j), wres(j),
                       conditional(j) / std::sqrt(Variance(x, fhat[jj])), cwres(j)});
      }
    }
    return out;
  }

  [[nodiscard]] double SigmaAdditive(const Eigen::VectorXd& x) const {
    return Additive() ? std::exp(x(SigmaIndex())) : 0.0;
  }
  [[nodiscard]] double SigmaProportional(const Eigen::VectorXd& x) const {
    return Proportional() ? std::exp(x(SigmaIndex() + (Additive() ? 1 : 0))) : 0.0;
  }

  // Observations whose typical prediction (η = 0) at x is exactly 0, as (subject, record).
  std::vector<std::pair<std::size_t, std::size_t>> ZeroPredictions(const Eigen::VectorXd& x) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    std::vector<double> f;
    const Eigen::VectorXd theta = x.head(FixedEffectCount());
    const Eigen::VectorXd eta = Eigen::VectorXd::Zero(EtaCount());
    for (std::size_t i = 0; i < subjects_.size(); ++i) {
      if (!Predict(simulators_[0], i, theta, eta, f)) continue;
      for (std::size_t j = 0; j < f.size(); ++j) {
        if (f[j] == 0.0) out.emplace_back(i, observations_[i][j].record);
      }
    }
    return out;
  }

  [[nodiscard]] double Variance(const Eigen::VectorXd& x, double f) const {
    const ResidualModel res{options_.error, SigmaAdditive(x), SigmaProportional(x)};
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
      if (!Jacobian(simulator, i, theta, eta, f, g, fh)) return kInf;
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
      if (!Jacobian(simulator, i, theta, eta, f, g, fh)) return kInf;
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
    const Eigen::VectorXd theta = x.head(FixedEffectCount());
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
    return total;
  }

  // Warm starts of the inner problems come from the η̂ of the last point the outer search
  // moved to (AnchorAtLastEvaluation, called when it accepts a step), never from a probe: so
  // the gradient's and the Hessian's probes around a point all start alike, and the objective
  // is the same function of x for each of them (probes that moved the start used to add noise
  // of ~1e-4 to values differenced over steps of 1e-4).
  void AnchorAtLastEvaluation() { anchor_eta_ = eta_hat_; }

  // The estimates on their natural scale (PopFitResult::estimate_names' order) and their names.
  [[nodiscard]] Eigen::VectorXd Natural(const Eigen::VectorXd& x) const {
    std::vector<double> v;
    for (int j = 0; j < ThetaCount(); ++j) v.push_back(std::exp(x(j)));
    for (int c = 0; c < CovariateCount(); ++c) v.push_back(x(ThetaCount() + c));
    const Eigen::MatrixXd omega = Omega(x);
    for (int r = 0; r < EtaCount(); ++r) {
      for (int c = options_.full_omega ? 0 : r; c <= r; ++c) v.push_back(omega(r, c));
    }
    if (Additive()) v.push_back(SigmaAdditive(x));
    if (Proportional()) v.push_back(SigmaProportional(x));
    return Eigen::Map<Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
  }
  [[nodiscard]] std::vector<std::string> NaturalNames() const {
    std::vector<std::string> names;
    for (int index : theta_index_) names.push_back(layout_.Name(index));
    for (const auto& [index, effect] : covariates_) {
      names.push_back(layout_.Name(index) + "~" + effect.covariate);
    }
    for (int r = 0; r < EtaCount(); ++r) {
      const std::string& row = options_.iiv[static_cast<std::size_t>(r)];
      for (int c = options_.full_omega ? 0 : r; c <= r; ++c) {
        names.push_back(c == r ? "omega_" + row
                               : "omega_" + row + "_" + options_.iiv[static_cast<std::size_t>(c)]);
      }
    }
    if (Additive()) names.emplace_back("sigma_additive");
    if (Proportional()) names.emplace_back("sigma_proportional");
    return names;
  }
  // Where the natural estimate of Ω's diagonal element k sits in Natural().
  [[nodiscard]] Eigen::Index NaturalOmegaDiagonal(int k) const {
    return FixedEffectCount() + (options_.full_omega ? k * (k + 1) / 2 + k : k);
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
  int output_;
  std::vector<std::pair<int, CovariateEffect>> covariates_;
  std::vector<std::vector<double>> baselines_;  // [subject][covariate effect]
  std::vector<int> theta_index_;
  std::set<int> from_data_;
  std::vector<double> base_;
  std::vector<std::vector<Observation>> observations_;
  std::vector<Eigen::VectorXd> eta_hat_;
  std::vector<Eigen::VectorXd> anchor_eta_;
};

}  // namespace

Result<PopFitResult> FitPopulation(const sim::Model& model,
                                   const std::vector<sim::Subject>& subjects,
                                   const PopFitOptions& options) {
  sim::ParameterLayout layout(model.Info());
  if (options.iiv.empty()) return InvalidArgument("--iiv", "name at least one parameter");
  auto model_parameter = [&](const std::string& name, const char* option) -> Result<int> {
    const int index = layout.Find(name);
    if (index < 0 || index >= layout.model_count()) {
      return InvalidArgument(option,
                             "model " + model.Info().name + " has no parameter '" + name + "'");
    }
    return index;
  };
  for (const auto& name : options.iiv) {
    MEDTWIN_TRY(const int index, model_parameter(name, "--iiv"));
    (void)index;
  }
  int output = 0;
  if (!options.output.empty()) {
    const auto& outputs = model.Info().outputs;
    std::string known;
    output = -1;
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      if (outputs[k].name == options.output) output = static_cast<int>(k);
      known += (known.empty() ? "" : ", ") + outputs[k].name;
    }
    if (output < 0) {
      return InvalidArgument("--output", "model " + model.Info().name + " has no output '" +
                                             options.output + "' (outputs: " + known + ")");
    }
  }
  if (options.max_iterations < 0) return InvalidArgument("--max-iterations", "must be >= 0");
  std::vector<double> start = layout.Defaults();
  for (const auto& [name, value] : options.fixed) {
    MEDTWIN_TRY(const int index, model_parameter(name, "--fix"));
    (void)index;
    if (!std::isfinite(value)) return InvalidArgument("--fix", name + ": not a number");
  }
  // Initial ω² by IIV parameter and σ, when given.
  std::vector<double> omega_start(options.iiv.size(), 0.1);
  double sigma_additive_start = std::nan(""), sigma_proportional_start = 0.1;
  for (const auto& [name, value] : options.initial) {
    const bool variance = name.starts_with("OMEGA_") || name.starts_with("SIGMA_");
    if (variance && !(value > 0 && std::isfinite(value))) {
      return InvalidArgument("--init", name + ": a variance or SD starts above 0");
    }
    if (name.starts_with("OMEGA_")) {
      const auto at = std::find(options.iiv.begin(), options.iiv.end(), name.substr(6));
      if (at == options.iiv.end()) {
        return InvalidArgument("--init", name + ": " + name.substr(6) + " has no IIV (--iiv)");
      }
      omega_start[static_cast<std::size_t>(at - options.iiv.begin())] = value;
      continue;
    }
    if (name == "SIGMA_ADDITIVE" || name == "SIGMA_PROPORTIONAL") {
      (name == "SIGMA_ADDITIVE" ? sigma_additive_start : sigma_proportional_start) = value;
      continue;
    }
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
  sim::SimOptions sim_options;
  sim_options.time_varying = options.time_varying;
  for (int t = 0; t < 2; ++t) {
    MEDTWIN_TRY(sim::Simulator simulator, sim::Simulator::Create(model, sim_options));
    simulators.push_back(std::move(simulator));
  }
  FoceObjective objective(model, subjects, options, std::move(simulators), output);
  if (objective.ObservationCount() == 0) return InvalidArgument("DV", "no observations to fit");

  // Start: --init or the model's defaults for typical values, ω² = 0.1, σ from the data's
  // spread.
  const int n_eta = objective.EtaCount();
  const int n_theta = objective.ThetaCount();
  // Covariate effects: the parameter, the column, each subject's baseline, the reference.
  std::vector<std::pair<int, CovariateEffect>> effects;
  std::vector<std::vector<double>> baselines(subjects.size());
  for (const auto& c : options.covariates) {
    MEDTWIN_TRY(const int index, model_parameter(c.parameter, "--covariate"));
    const auto column = std::find(options.covariate_columns.begin(),
                                  options.covariate_columns.end(), c.effect.covariate);
    if (column == options.covariate_columns.end()) {
      return InvalidArgument("--covariate", "no column " + c.effect.covariate + " in the data");
    }
    if (c.effect.kind == CovariateKind::kCategorical) {
      return InvalidArgument("--covariate", c.parameter + "~" + c.effect.covariate +
                                                ": categorical effects are not estimated yet "
                                                "(power, linear, exponential are)");
    }
    const auto col = static_cast<std::size_t>(column - options.covariate_columns.begin());
    std::vector<double> values;
    for (std::size_t i = 0; i < subjects.size(); ++i) {
      double v = std::nan("");
      for (const auto& r : subjects[i].records) {
        if (col < r.covariates.size() && !std::isnan(r.covariates[col])) {
          v = r.covariates[col];
          break;
        }
      }
      if (std::isnan(v)) {
        return InvalidArgument(c.effect.covariate, "no value for ID " + subjects[i].id);
      }
      if (c.effect.kind == CovariateKind::kPower && !(v > 0)) {
        return InvalidArgument(c.effect.covariate,
                               "a power effect needs values > 0 (ID " + subjects[i].id + ")");
      }
      baselines[i].push_back(v);
      values.push_back(v);
    }
    CovariateEffect effect = c.effect;
    if (std::isnan(effect.reference)) {  // the median baseline
      std::sort(values.begin(), values.end());
      const std::size_t n = values.size();
      effect.reference = n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }
    effect.coefficient = 0;
    effects.emplace_back(index, effect);
  }
  objective.SetCovariates(effects, baselines);
  const Eigen::Index omega_index = objective.OmegaIndex();
  Eigen::VectorXd x0 = Eigen::VectorXd::Zero(objective.Size());
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
  for (int k = 0; k < n_eta && !options.full_omega; ++k) {
    x0(omega_index + k) = std::log(omega_start[static_cast<std::size_t>(k)]);
  }
  double mean_y = 0;
  int count = 0;
  for (const auto& s : subjects) {
    for (const auto& r : s.records) {
      if (r.evid == sim::Evid::kObservation && !std::isnan(r.dv)) {
        mean_y += std::abs(r.dv);
        ++count;
      }
    }
  }
  mean_y /= count;
  if (options.full_omega) {  // L = diag(ω), uncorrelated
    Eigen::Index k = omega_index;
    for (int r = 0; r < n_eta; ++r) {
      for (int c = 0; c <= r; ++c, ++k) {
        x0(k) = r == c ? 0.5 * std::log(omega_start[static_cast<std::size_t>(r)]) : 0.0;
      }
    }
  }
  const Eigen::Index sigma_index = objective.SigmaIndex();
  if (objective.Additive()) {
    x0(sigma_index) = std::log(std::isnan(sigma_additive_start) ? std::max(0.1 * mean_y, 1e-3)
                                                                : sigma_additive_start);
  }
  if (objective.Proportional()) x0(objective.Size() - 1) = std::log(sigma_proportional_start);
  if (options.error == ResidualKind::kProportional) {
    // A record predicted to be 0 whatever the parameters (a sample before the first dose)
    // has variance 0 under a purely proportional error: its likelihood does not exist, and
    // a floor on the variance would only swamp the fit (NONMEM stops on it too).
    const auto zeros = objective.ZeroPredictions(x0);
    if (!zeros.empty()) {
      const auto& [subject, record] = zeros.front();
      const sim::Record& r = subjects[subject].records[record];
      return InvalidArgument(
          "DV", "line " + std::to_string(r.source_line) + " (ID " + subjects[subject].id +
                    ", TIME " + FormatNumber(r.time) + ")" +
                    (zeros.size() > 1 ? " and " + std::to_string(zeros.size() - 1) + " more" : "") +
                    ": the model predicts 0 there, and a proportional error has variance 0 at "
                    "a prediction of 0, so the record has no likelihood. Use --error combined, "
                    "or set MDV=1 on such records (or drop them) as NONMEM users do");
    }
  }
  auto f = [&](const Eigen::VectorXd& x) { return objective(x); };
  Eigen::VectorXd lower = Eigen::VectorXd::Constant(x0.size(), -30);
  Eigen::VectorXd upper = Eigen::VectorXd::Constant(x0.size(), 30);
  // The objective holds inner optimizations (η̂), so it is smooth only to ~1e-8: gradients use
  // a 1e-4 step on the log-parameters.
  // Steps are limited to a factor e per iteration on any parameter.
  const auto anchor = [&objective] { objective.AnchorAtLastEvaluation(); };
  MinimizeResult m =
      MinimizeBfgs(f, x0, lower, upper, options.max_iterations, 1e-6, 1e-4, 1.0, anchor);
  // A BFGS search whose line search fails has usually built a poor inverse-Hessian model
  // (a variance heading to 0 makes the problem ill-conditioned): restart it from where it
  // stopped with a fresh one, while that still lowers the OFV.
  for (int restart = 0; restart < 3 && m.stop == StopReason::kNoDescent; ++restart) {
    const int left = options.max_iterations - m.iterations;
    if (left <= 0) break;
    MinimizeResult again = MinimizeBfgs(f, m.x, lower, upper, left, 1e-6, 1e-4, 1.0, anchor);
    again.iterations += m.iterations;
    again.evaluations += m.evaluations;
    const bool better = again.value < m.value - 1e-6;
    m = std::move(again);
    if (!better) break;
  }
  if (!std::isfinite(m.value)) {
    return Error{ErrorCode::kSolverFailure, "popfit", "the objective could not be evaluated"};
  }
  const double final_ofv = objective(m.x);
  PopFitResult out;
  out.iterations = m.iterations;
  out.observations = objective.ObservationCount();
  out.minus_2ll = final_ofv;
  out.ofv = final_ofv - out.observations * std::log(2 * std::numbers::pi);
  out.estimate_names = objective.NaturalNames();
  const Eigen::VectorXd natural = objective.Natural(m.x);
  out.estimates.assign(natural.data(), natural.data() + natural.size());
  const Eigen::Index n_x = m.x.size();

  // Covariance step: the Hessian of the −2LL on the estimation scale.
  const Eigen::MatrixXd hess = NumericHessian(f, m.x, 1e-3);
  (void)objective(m.x);  // restore η̂ at the optimum after the Hessian's probes
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig;
  if (hess.allFinite()) eig.compute(hess);
  const bool hessian_ok = hess.allFinite() && eig.info() == Eigen::Success;
  const double lambda_min = hessian_ok ? eig.eigenvalues()(0) : std::nan("");
  const double lambda_max = hessian_ok ? eig.eigenvalues()(n_x - 1) : std::nan("");
  out.covariance_ok = hessian_ok && lambda_min > 1e-10 * std::max(1.0, lambda_max);
  const auto& names = out.estimate_names;
  if (!out.covariance_ok) {
    // Say which estimates the data leave undetermined: one at a bound, a variance gone to 0,
    // or the direction along which the OFV is flat or curves downward.
    std::string why;
    for (Eigen::Index k = 0; k < n_x && why.empty(); ++k) {
      if (m.x(k) <= lower(k) + 1e-6 || m.x(k) >= upper(k) - 1e-6) {
        why = names[static_cast<std::size_t>(k)] + " went to a bound of the search (" +
              FormatNumber(natural(k)) + ")";
      }
    }
    for (int k = 0; k < n_eta && why.empty(); ++k) {
      const double omega2 = natural(objective.NaturalOmegaDiagonal(k));
      if (omega2 < 1e-6) {
        why = "omega_" + options.iiv[static_cast<std::size_t>(k)] + " fell to " +
              FormatNumber(omega2) + ": the data hold no variability in " +
              options.iiv[static_cast<std::size_t>(k)] +
              " beyond the residual error; remove its IIV";
      }
    }
    if (why.empty() && hessian_ok) {
      const Eigen::VectorXd v = eig.eigenvectors().col(0);
      std::vector<std::pair<double, std::size_t>> parts;
      for (Eigen::Index k = 0; k < n_x; ++k) {
        if (std::abs(v(k)) >= 0.3) parts.emplace_back(std::abs(v(k)), static_cast<std::size_t>(k));
      }
      std::sort(parts.rbegin(), parts.rend());
      std::string along;
      for (const auto& [weight, k] : parts) {
        along += (along.empty() ? "" : ", ") + names[k];
      }
      why = "the OFV is " + std::string(lambda_min > 0 ? "almost flat" : "curved downward") +
            " along a direction made mostly of " + along + " (Hessian eigenvalue " +
            FormatNumber(lambda_min) + ", largest " + FormatNumber(lambda_max) +
            "): the data do not determine " + (parts.size() > 1 ? "these" : "it") +
            "; fix a parameter (--fix) or remove an IIV";
    }
    if (why.empty()) why = "the Hessian of the OFV could not be evaluated at the estimates";
    out.covariance_reason = "covariance step failed: " + why;
  }
  // Natural-scale covariance by the delta method: J·(2H⁻¹)·Jᵀ, J = ∂natural/∂x.
  out.covariance = Eigen::MatrixXd::Constant(natural.size(), natural.size(), std::nan(""));
  out.correlation = out.covariance;
  out.estimate_se.assign(static_cast<std::size_t>(natural.size()), std::nan(""));
  if (out.covariance_ok) {
    const Eigen::MatrixXd cov_x = 2 * eig.eigenvectors() *
                                  eig.eigenvalues().cwiseInverse().asDiagonal() *
                                  eig.eigenvectors().transpose();
    Eigen::MatrixXd jac(natural.size(), n_x);
    for (Eigen::Index k = 0; k < n_x; ++k) {
      Eigen::VectorXd xp = m.x, xm = m.x;
      const double h = 1e-6 * std::max(1.0, std::abs(m.x(k)));
      xp(k) += h;
      xm(k) -= h;
      jac.col(k) = (objective.Natural(xp) - objective.Natural(xm)) / (2 * h);
    }
    out.covariance = jac * cov_x * jac.transpose();
    const Eigen::VectorXd sd = out.covariance.diagonal().cwiseMax(0).cwiseSqrt();
    for (Eigen::Index k = 0; k < sd.size(); ++k)
      out.estimate_se[static_cast<std::size_t>(k)] = sd(k);
    out.correlation = out.covariance.array() / (sd * sd.transpose()).array();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> corr_eig(out.correlation,
                                                            Eigen::EigenvaluesOnly);
    if (corr_eig.info() == Eigen::Success && corr_eig.eigenvalues()(0) > 0) {
      out.condition_number =
          corr_eig.eigenvalues()(corr_eig.eigenvalues().size() - 1) / corr_eig.eigenvalues()(0);
    }
    out.expected_decrease = 0.5 * m.gradient.dot(cov_x * m.gradient) / 2;  // ½gᵀH⁻¹g
  }

  // Convergence, judged here rather than taken from the search: the OFV must be at a
  // minimum to within 0.01 (or, without a usable Hessian, have a gradient that small).
  out.max_gradient = m.gradient.lpNorm<Eigen::Infinity>();
  Eigen::Index steepest = 0;
  m.gradient.cwiseAbs().maxCoeff(&steepest);
  switch (m.stop) {
    case StopReason::kGradient:
      out.convergence_reason = "the search met its gradient criterion";
      break;
    case StopReason::kSmallStep:
      out.convergence_reason = "the search's steps fell below 1e-12";
      break;
    case StopReason::kNoDescent:
      out.convergence_reason = "no step along the search direction lowered the OFV";
      break;
    case StopReason::kIterationLimit:
      out.convergence_reason =
          options.max_iterations == 0
              ? "evaluation only (--max-iterations 0, NONMEM's MAXEVAL=0): the OFV at the "
                "initial estimates, with each subject's η̂"
              : "the iteration limit (" + std::to_string(options.max_iterations) +
                    ") was reached; raise --max-iterations";
      break;
  }
  out.convergence_reason +=
      " after " + std::to_string(m.iterations) + " iterations; largest gradient component " +
      FormatNumber(out.max_gradient) + " (" + names[static_cast<std::size_t>(steepest)] + ")";
  if (out.covariance_ok) {
    out.converged = m.stop != StopReason::kIterationLimit && out.expected_decrease < 0.01;
    out.convergence_reason += "; a Newton step would lower the OFV by " +
                              FormatNumber(out.expected_decrease) +
                              (out.converged ? "" : ": not at a minimum");
  } else {
    out.converged = m.stop != StopReason::kIterationLimit && out.max_gradient < 0.01;
    out.convergence_reason +=
        "; without a covariance step the minimum is judged by the "
        "gradient alone";
  }

  // Every THETA, model order: estimated ones with their SE, fixed ones as set.
  std::vector<double> typical_all(start);
  for (const auto& [name, value] : options.fixed) {
    typical_all[static_cast<std::size_t>(layout.Find(name))] = value;
  }
  for (int index : objective.FromData()) out.from_data.push_back(layout.Name(index));
  for (std::size_t c = 0; c < effects.size(); ++c) {
    const auto at = static_cast<std::size_t>(n_theta) + c;
    PopFitOptions::Covariate estimated{layout.Name(effects[c].first), effects[c].second};
    estimated.effect.coefficient = out.estimates[at];
    out.covariate_effects.push_back(estimated);
    out.covariate_se.push_back(out.estimate_se[at]);
  }
  for (int index = 0; index < layout.model_count(); ++index) {
    if (objective.FromData().count(index) > 0) continue;
    const auto& estimated = objective.ThetaIndex();
    const auto at = std::find(estimated.begin(), estimated.end(), index);
    out.parameter_names.push_back(layout.Name(index));
    if (at == estimated.end()) {
      out.typical.push_back(typical_all[static_cast<std::size_t>(index)]);
      out.typical_se.push_back(std::nan(""));
      out.fixed.push_back(true);
    } else {
      const auto j = static_cast<std::size_t>(at - estimated.begin());
      out.typical.push_back(out.estimates[j]);
      out.typical_se.push_back(out.estimate_se[j]);
      out.fixed.push_back(false);
    }
  }
  for (int k = 0; k < n_eta; ++k) {
    out.iiv_names.push_back(options.iiv[static_cast<std::size_t>(k)]);
    out.omega_se.push_back(
        out.estimate_se[static_cast<std::size_t>(objective.NaturalOmegaDiagonal(k))]);
  }
  // Shrinkage, and warnings a pharmacometrician would look for.
  auto sample_sd = [](const std::vector<double>& v) {
    if (v.size() < 2) return std::nan("");
    double mean = 0, sq = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    for (double x : v) sq += (x - mean) * (x - mean);
    return std::sqrt(sq / static_cast<double>(v.size() - 1));
  };
  for (int k = 0; k < n_eta; ++k) {
    std::vector<double> etas;
    for (const auto& e : objective.EtaHat()) etas.push_back(e(k));
    const double omega2 = natural(objective.NaturalOmegaDiagonal(k));
    out.eta_shrinkage.push_back(1 - sample_sd(etas) / std::sqrt(omega2));
  }
  // The per-observation table at the estimates; its IWRES give the ε-shrinkage.
  out.diagnostics = objective.Diagnostics(m.x);
  std::vector<double> iwres;
  for (const auto& d : out.diagnostics) iwres.push_back(d.iwres);
  out.epsilon_shrinkage = 1 - sample_sd(iwres);
  for (int k = 0; k < n_eta; ++k) {
    const std::string& name = options.iiv[static_cast<std::size_t>(k)];
    const double omega2 = natural(objective.NaturalOmegaDiagonal(k));
    if (omega2 < 1e-3) {
      out.warnings.push_back("omega_" + name + " is " + FormatNumber(omega2) +
                             " (a CV under 3 %): the data hold little variability in " + name +
                             " beyond the residual error; consider removing its IIV");
    } else if (out.eta_shrinkage[static_cast<std::size_t>(k)] > 0.3) {
      out.warnings.push_back(
          "eta-shrinkage of " + name + " is " +
          FormatNumber(std::round(100 * out.eta_shrinkage[static_cast<std::size_t>(k)])) +
          " %: individual " + name +
          " estimates lean on the prior (EBE-based plots mislead above ~30 %)");
    }
  }
  for (std::size_t k = 0; k < out.estimates.size() && out.covariance_ok; ++k) {
    const double rse = out.estimate_se[k] / std::abs(out.estimates[k]);
    if (rse > 0.5) {
      out.warnings.push_back(out.estimate_names[k] + " has a relative standard error of " +
                             FormatNumber(std::round(100 * rse)) +
                             " %: the data hardly determine it");
    }
  }
  out.sigma_additive = objective.SigmaAdditive(m.x);
  out.sigma_proportional = objective.SigmaProportional(m.x);
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
  // Estimated covariate effects, in the form fit and dose read.
  json covariates = json::array();
  for (const auto& c : fit.covariate_effects) {
    const auto& e = c.effect;
    json effect = {{"name", e.covariate}, {"reference", e.reference}};
    if (e.kind == CovariateKind::kPower) {
      effect["kind"] = "power";
      effect["exponent"] = e.coefficient;
    } else {
      effect["kind"] = e.kind == CovariateKind::kLinear ? "linear" : "exponential";
      effect["coefficient"] = e.coefficient;
    }
    if (!params.contains(c.parameter)) continue;
    params[c.parameter]["covariates"].push_back(effect);
    if (std::find(covariates.begin(), covariates.end(), e.covariate) == covariates.end()) {
      covariates.push_back(e.covariate);
    }
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
            {"covariates", covariates},
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
