// Dormand–Prince 5(4) with FSAL and Hairer's 4th-order continuous extension.
// Coefficients: Dormand & Prince, J Comput Appl Math 1980;6:19; dense output and step-size
// control after Hairer, Nørsett & Wanner, Solving ODEs I, 2nd ed. (1993), §II.4–II.6.
#include <algorithm>
#include <cmath>
#include <vector>

#include "medtwin/sim/stepper.h"

namespace medtwin::sim {
namespace {

constexpr double kC2 = 1.0 / 5, kC3 = 3.0 / 10, kC4 = 4.0 / 5, kC5 = 8.0 / 9;
constexpr double kA21 = 1.0 / 5;
constexpr double kA31 = 3.0 / 40, kA32 = 9.0 / 40;
constexpr double kA41 = 44.0 / 45, kA42 = -56.0 / 15, kA43 = 32.0 / 9;
constexpr double kA51 = 19372.0 / 6561, kA52 = -25360.0 / 2187, kA53 = 64448.0 / 6561,
                 kA54 = -212.0 / 729;
constexpr double kA61 = 9017.0 / 3168, kA62 = -355.0 / 33, kA63 = 46732.0 / 5247, kA64 = 49.0 / 176,
                 kA65 = -5103.0 / 18656;
constexpr double kA71 = 35.0 / 384, kA73 = 500.0 / 1113, kA74 = 125.0 / 192, kA75 = -2187.0 / 6784,
                 kA76 = 11.0 / 84;
// Error estimate: 5th minus 4th order weights.
constexpr double kE1 = 71.0 / 57600, kE3 = -71.0 / 16695, kE4 = 71.0 / 1920,
                 kE5 = -17253.0 / 339200, kE6 = 22.0 / 525, kE7 = -1.0 / 40;
// Continuous extension.
constexpr double kD1 = -12715105075.0 / 11282082432, kD3 = 87487479700.0 / 32700410799,
                 kD4 = -10690763975.0 / 1880347072, kD5 = 701980252875.0 / 199316789632,
                 kD6 = -1453857185.0 / 822651844, kD7 = 69997945.0 / 29380423;

class Dopri5Stepper final : public Stepper {
 public:
  Dopri5Stepper(int n, const Tolerances& tol)
      : n_(static_cast<std::size_t>(n)),
        tol_(tol),
        y_(n_),
        k1_(n_),
        k2_(n_),
        k3_(n_),
        k4_(n_),
        k5_(n_),
        k6_(n_),
        k7_(n_),
        ynew_(n_),
        ytmp_(n_),
        rc1_(n_),
        rc2_(n_),
        rc3_(n_),
        rc4_(n_),
        rc5_(n_) {}

  Status Reset(const OdeSystem& system, double t, std::span<const double> x) override {
    system_ = system;
    t_ = t;
    t_old_ = t;
    has_dense_ = false;
    std::copy(x.begin(), x.end(), y_.begin());
    Eval(t_, y_, k1_);
    // Keep the previous step size as a first guess; the error test corrects it if needed.
    if (h_ <= 0) h_ = InitialStep();
    return Ok{};
  }

  Status AdvanceTo(double t, double stop_t, std::span<double> x_out) override {
    long steps = 0;
    while (t_ < t) {
      if (++steps > tol_.max_steps) {
        return Error{ErrorCode::kSolverFailure, "dopri5",
                     "too many steps before t=" + std::to_string(t)};
      }
      double h = std::min(h_, stop_t - t_);
      // Avoid a sliver step right before the stop time.
      if (stop_t - (t_ + h) < 1e-10 * std::max(1.0, std::abs(stop_t))) h = stop_t - t_;
      MEDTWIN_RETURN_IF_ERROR(Step(h, stop_t, h < h_));
    }
    if (t == t_) {
      std::copy(y_.begin(), y_.end(), x_out.begin());
    } else {
      Interpolate(t, x_out);
    }
    return Ok{};
  }

  long Evaluations() const override { return evaluations_; }

 private:
  void Eval(double t, std::span<const double> y, std::vector<double>& out) {
    system_.Evaluate(t, y, out);
    ++evaluations_;
  }

  double Norm(const std::vector<double>& v, const std::vector<double>& scale_from) const {
    double sum = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      double sk = tol_.atol + tol_.rtol * std::abs(scale_from[i]);
      sum += (v[i] / sk) * (v[i] / sk);
    }
    return std::sqrt(sum / static_cast<double>(n_));
  }

  // Hairer's starting step heuristic (HNW I, §II.4).
  double InitialStep() {
    double d0 = Norm(y_, y_), d1 = Norm(k1_, y_);
    double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    for (std::size_t i = 0; i < n_; ++i) ytmp_[i] = y_[i] + h0 * k1_[i];
    Eval(t_ + h0, ytmp_, k2_);
    for (std::size_t i = 0; i < n_; ++i) ytmp_[i] = k2_[i] - k1_[i];
    double d2 = Norm(ytmp_, y_) / h0;
    double dmax = std::max(d1, d2);
    double h1 = dmax <= 1e-15 ? std::max(1e-6, h0 * 1e-3) : std::pow(0.01 / dmax, 0.2);
    return std::min(100 * h0, h1);
  }

  // `truncated`: h was cut short to land on stop_t, so it says nothing about the next step.
  Status Step(double h, double stop_t, bool truncated) {
    for (;;) {
      if (h <= 1e-14 * std::max(1.0, std::abs(t_))) {
        return Error{ErrorCode::kSolverFailure, "dopri5",
                     "step size underflow at t=" + std::to_string(t_)};
      }
      const auto& y = y_;
      for (std::size_t i = 0; i < n_; ++i) ytmp_[i] = y[i] + h * kA21 * k1_[i];
      Eval(t_ + kC2 * h, ytmp_, k2_);
      for (std::size_t i = 0; i < n_; ++i) ytmp_[i] = y[i] + h * (kA31 * k1_[i] + kA32 * k2_[i]);
      Eval(t_ + kC3 * h, ytmp_, k3_);
      for (std::size_t i = 0; i < n_; ++i)
        ytmp_[i] = y[i] + h * (kA41 * k1_[i] + kA42 * k2_[i] + kA43 * k3_[i]);
      Eval(t_ + kC4 * h, ytmp_, k4_);
      for (std::size_t i = 0; i < n_; ++i)
        ytmp_[i] = y[i] + h * (kA51 * k1_[i] + kA52 * k2_[i] + kA53 * k3_[i] + kA54 * k4_[i]);
      Eval(t_ + kC5 * h, ytmp_, k5_);
      for (std::size_t i = 0; i < n_; ++i)
        ytmp_[i] = y[i] + h * (kA61 * k1_[i] + kA62 * k2_[i] + kA63 * k3_[i] + kA64 * k4_[i] +
                               kA65 * k5_[i]);
      const double t_new = (h == stop_t - t_) ? stop_t : t_ + h;
      Eval(t_new, ytmp_, k6_);
      for (std::size_t i = 0; i < n_; ++i)
        ynew_[i] = y[i] + h * (kA71 * k1_[i] + kA73 * k3_[i] + kA74 * k4_[i] + kA75 * k5_[i] +
                               kA76 * k6_[i]);
      Eval(t_new, ynew_, k7_);
      double err = 0;
      for (std::size_t i = 0; i < n_; ++i) {
        double e = h * (kE1 * k1_[i] + kE3 * k3_[i] + kE4 * k4_[i] + kE5 * k5_[i] + kE6 * k6_[i] +
                        kE7 * k7_[i]);
        double sk = tol_.atol + tol_.rtol * std::max(std::abs(y[i]), std::abs(ynew_[i]));
        err += (e / sk) * (e / sk);
      }
      err = std::sqrt(err / static_cast<double>(n_));
      if (!std::isfinite(err)) {
        h *= 0.1;
        truncated = false;
        continue;
      }
      // Step-size factor with safety 0.9, limited to [0.2, 5].
      double factor = err == 0 ? 5.0 : std::clamp(0.9 * std::pow(err, -0.2), 0.2, 5.0);
      if (err > 1.0) {
        h *= std::min(1.0, factor);
        truncated = false;
        continue;
      }
      // Accepted: build the dense-output coefficients for [t_, t_new].
      for (std::size_t i = 0; i < n_; ++i) {
        double ydiff = ynew_[i] - y[i];
        double bspl = h * k1_[i] - ydiff;
        rc1_[i] = y[i];
        rc2_[i] = ydiff;
        rc3_[i] = bspl;
        rc4_[i] = ydiff - h * k7_[i] - bspl;
        rc5_[i] = h * (kD1 * k1_[i] + kD3 * k3_[i] + kD4 * k4_[i] + kD5 * k5_[i] + kD6 * k6_[i] +
                       kD7 * k7_[i]);
      }
      has_dense_ = true;
      t_old_ = t_;
      h_last_ = h;
      t_ = t_new;
      y_.swap(ynew_);
      k1_.swap(k7_);  // FSAL
      // A short step forced by a stop time does not shrink the next guess.
      h_ = truncated ? std::max(h_, h * factor) : h * factor;
      return Ok{};
    }
  }

  void Interpolate(double t, std::span<double> out) const {
    double theta = (t - t_old_) / h_last_;
    double theta1 = 1.0 - theta;
    for (std::size_t i = 0; i < n_; ++i) {
      out[i] =
          rc1_[i] + theta * (rc2_[i] + theta1 * (rc3_[i] + theta * (rc4_[i] + theta1 * rc5_[i])));
    }
  }

  std::size_t n_;
  Tolerances tol_;
  OdeSystem system_;
  double t_ = 0, t_old_ = 0, h_ = 0, h_last_ = 0;
  bool has_dense_ = false;
  long evaluations_ = 0;
  std::vector<double> y_, k1_, k2_, k3_, k4_, k5_, k6_, k7_, ynew_, ytmp_;
  std::vector<double> rc1_, rc2_, rc3_, rc4_, rc5_;
};

}  // namespace

std::unique_ptr<Stepper> MakeDopri5Stepper(int n, const Tolerances& tolerances) {
  return std::make_unique<Dopri5Stepper>(n, tolerances);
}

}  // namespace medtwin::sim
