// Exact propagation for linear models, dx/dt = K x + r with r constant between Resets:
//   x(t+dt) = Φ(dt) x(t) + Γ(dt) r,  Φ = exp(K dt),  Γ = ∫0^dt exp(K s) ds,
// both read off one exponential of the augmented matrix [[K, I], [0, 0]]·dt (Van Loan,
// IEEE Trans Autom Control 1978;23:395), computed by Eigen's scaling-and-squaring Padé method.
// This is the "closed form": sums of exponentials in matrix form, exact to rounding, and valid
// also where eigenvalues coincide (e.g. KA equal to the elimination rate), where the textbook
// formulas divide by zero. When K has well-separated real eigenvalues (the usual case for
// compartment models) the same matrices come cheaper from its eigendecomposition
// K = V Λ V⁻¹: Φ = V e^{Λ·dt} V⁻¹, Γ = V diag(expm1(λ·dt)/λ) V⁻¹ — the textbook sums of
// exponentials; otherwise the Padé exponential is used.
#include <unsupported/Eigen/MatrixFunctions>

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "medtwin/sim/stepper.h"

namespace medtwin::sim {
namespace {

class LinearStepper final : public Stepper {
 public:
  // Every matrix is sized here so that a run allocates nothing in the hot path (population
  // fits call Run hundreds of thousands of times on tiny systems).
  explicit LinearStepper(int n)
      : n_(n),
        k_(n, n),
        x_(n),
        r_(n),
        next_(n),
        k_buffer_(static_cast<std::size_t>(n * n)),
        eigen_(n),
        lu_(n, n),
        lambda_(n),
        exp_l_(n),
        int_l_(n),
        v_(n, n),
        v_inv_(n, n) {
    for (Entry& e : cache_) {
      e.phi.resize(n, n);
      e.gamma.resize(n, n);
    }
  }

  Status Reset(const OdeSystem& system, double t, std::span<const double> x) override {
    system_ = system;
    if (!SameParams(system.params)) {
      params_.assign(system.params.begin(), system.params.end());
      if (!system.model->LinearMatrix(system.params, k_buffer_)) {
        return InvalidArgument("method", "model " + system.model->Info().name +
                                             " is not linear; the closed form does not apply");
      }
      for (int i = 0; i < n_; ++i)
        for (int j = 0; j < n_; ++j)
          k_(i, j) = k_buffer_[static_cast<std::size_t>(i) * static_cast<std::size_t>(n_) +
                               static_cast<std::size_t>(j)];
      for (auto& entry : cache_) entry.dt = -1;  // K changed: every cached propagator is stale
      Decompose();
    }
    for (int i = 0; i < n_; ++i) {
      x_(i) = x[static_cast<std::size_t>(i)];
      r_(i) = system.rates[static_cast<std::size_t>(i)];
    }
    t_ = t;
    return Ok{};
  }

  Status AdvanceTo(double t, double /*stop_t*/, std::span<double> x_out) override {
    const double dt = t - t_;
    if (dt > 0) {
      const Entry& e = Propagator(dt);
      next_.noalias() = e.phi * x_;
      if (r_.any()) next_.noalias() += e.gamma * r_;
      x_.swap(next_);
      t_ = t;
    }
    for (int i = 0; i < n_; ++i) x_out[static_cast<std::size_t>(i)] = x_(i);
    return Ok{};
  }

  long Evaluations() const override { return exponentials_; }

 private:
  struct Entry {
    double dt = -1;
    Eigen::MatrixXd phi;
    Eigen::MatrixXd gamma;
  };

  bool SameParams(std::span<const double> p) const {
    return p.size() == params_.size() && std::equal(p.begin(), p.end(), params_.begin());
  }

  // Regular schedules repeat a handful of step lengths (sampling interval, infusion
  // duration, dosing interval), so a small cache keyed by dt saves most exponentials.
  const Entry& Propagator(double dt) {
    for (const Entry& e : cache_) {
      if (e.dt == dt) return e;
    }
    Entry& e = cache_[next_slot_];
    next_slot_ = (next_slot_ + 1) % cache_.size();
    e.dt = dt;
    ++exponentials_;
    if (spectral_) {
      for (int i = 0; i < n_; ++i) {
        const double l = lambda_(i);
        exp_l_(i) = std::exp(l * dt);
        int_l_(i) = l == 0 ? dt : std::expm1(l * dt) / l;
      }
      // V·diag(·)·V⁻¹ written out: Eigen's expression would allocate a temporary.
      for (int i = 0; i < n_; ++i) {
        for (int j = 0; j < n_; ++j) {
          double phi = 0, gamma = 0;
          for (int k = 0; k < n_; ++k) {
            const double vv = v_(i, k) * v_inv_(k, j);
            phi += vv * exp_l_(k);
            gamma += vv * int_l_(k);
          }
          e.phi(i, j) = phi;
          e.gamma(i, j) = gamma;
        }
      }
      return e;
    }
    Eigen::MatrixXd m = Eigen::MatrixXd::Zero(2 * Eigen::Index{n_}, 2 * Eigen::Index{n_});
    m.topLeftCorner(n_, n_) = k_ * dt;
    m.topRightCorner(n_, n_) = Eigen::MatrixXd::Identity(n_, n_) * dt;
    Eigen::MatrixXd em = m.exp();
    e.phi = em.topLeftCorner(n_, n_);
    e.gamma = em.topRightCorner(n_, n_);
    return e;
  }

  // Eigendecomposition of K when it is safe to use: real eigenvalues, separated by more than
  // 1e-6 relative, and a well-conditioned eigenvector matrix.
  void Decompose() {
    spectral_ = false;
    eigen_.compute(k_);
    if (eigen_.info() != Eigen::Success) return;
    for (int i = 0; i < n_; ++i) {
      if (eigen_.eigenvalues()(i).imag() != 0) return;
      lambda_(i) = eigen_.eigenvalues()(i).real();
    }
    const double scale = std::max(1e-300, lambda_.cwiseAbs().maxCoeff());
    for (int i = 0; i < n_; ++i) {
      for (int j = i + 1; j < n_; ++j) {
        if (std::abs(lambda_(i) - lambda_(j)) < 1e-6 * scale) return;
      }
    }
    // With every eigenvalue real the pseudo-eigenvectors are the eigenvectors.
    v_ = eigen_.pseudoEigenvectors();
    lu_.compute(v_);
    if (!lu_.isInvertible()) return;
    v_inv_ = lu_.inverse();
    // Condition number in the 1-norm (max column sum): ill-conditioned V loses digits.
    const double cond =
        v_.cwiseAbs().colwise().sum().maxCoeff() * v_inv_.cwiseAbs().colwise().sum().maxCoeff();
    if (!(cond < 1e6)) return;
    spectral_ = true;
  }

  int n_;
  OdeSystem system_;
  Eigen::MatrixXd k_;
  Eigen::VectorXd x_, r_, next_;
  std::vector<double> params_;
  std::vector<double> k_buffer_;
  std::array<Entry, 8> cache_;
  bool spectral_ = false;
  Eigen::EigenSolver<Eigen::MatrixXd> eigen_;
  Eigen::FullPivLU<Eigen::MatrixXd> lu_;
  Eigen::VectorXd lambda_, exp_l_, int_l_;
  Eigen::MatrixXd v_, v_inv_;
  std::size_t next_slot_ = 0;
  double t_ = 0;
  long exponentials_ = 0;
};

}  // namespace

std::unique_ptr<Stepper> MakeLinearStepper(int n) { return std::make_unique<LinearStepper>(n); }

}  // namespace medtwin::sim
