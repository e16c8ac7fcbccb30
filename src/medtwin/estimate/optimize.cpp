#include "medtwin/estimate/optimize.h"

#include <cmath>

namespace medtwin::estimate {
namespace {

Eigen::VectorXd Gradient(const Objective& f, const Eigen::VectorXd& x, double step, long& evals) {
  Eigen::VectorXd g(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double h = step * std::max(1.0, std::abs(x(i)));
    Eigen::VectorXd xp = x, xm = x;
    xp(i) += h;
    xm(i) -= h;
    g(i) = (f(xp) - f(xm)) / (2 * h);
    evals += 2;
  }
  return g;
}

}  // namespace

MinimizeResult MinimizeBfgs(const Objective& f, const Eigen::VectorXd& x0,
                            const Eigen::VectorXd& lower, const Eigen::VectorXd& upper,
                            int max_iterations, double gradient_tolerance, double fd_step,
                            double max_step, const std::function<void()>& on_accept) {
  const Eigen::Index n = x0.size();
  MinimizeResult r;
  r.x = x0.cwiseMax(lower).cwiseMin(upper);
  r.value = f(r.x);
  r.evaluations = 1;
  if (on_accept) on_accept();
  Eigen::MatrixXd h_inv = Eigen::MatrixXd::Identity(n, n);
  Eigen::VectorXd g = Gradient(f, r.x, fd_step, r.evaluations);
  // Projected gradient: components pushing out of the box at an active bound do not count.
  auto projected = [&](const Eigen::VectorXd& x, const Eigen::VectorXd& grad) {
    Eigen::VectorXd pg = grad;
    for (Eigen::Index i = 0; i < n; ++i) {
      if ((x(i) <= lower(i) && grad(i) > 0) || (x(i) >= upper(i) && grad(i) < 0)) pg(i) = 0;
    }
    return pg;
  };
  r.stop = StopReason::kIterationLimit;
  for (r.iterations = 0; r.iterations < max_iterations; ++r.iterations) {
    const Eigen::VectorXd pg = projected(r.x, g);
    if (pg.lpNorm<Eigen::Infinity>() < gradient_tolerance * std::max(1.0, std::abs(r.value))) {
      r.converged = true;
      r.stop = StopReason::kGradient;
      break;
    }
    Eigen::VectorXd d = -h_inv * g;
    if (d.dot(g) >= 0) {  // not a descent direction: restart from steepest descent
      h_inv.setIdentity();
      d = -g;
    }
    const double d_max = d.lpNorm<Eigen::Infinity>();
    double step = d_max > max_step ? max_step / d_max : 1.0;
    Eigen::VectorXd x_new;
    double f_new = 0;
    bool accepted = false;
    for (int k = 0; k < 40; ++k) {
      x_new = (r.x + step * d).cwiseMax(lower).cwiseMin(upper);
      f_new = f(x_new);
      ++r.evaluations;
      if (std::isfinite(f_new) && f_new <= r.value + 1e-4 * g.dot(x_new - r.x)) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (accepted && on_accept) on_accept();  // f's last evaluation was at x_new
    if (!accepted) {
      // No descent possible along d: a minimum to the accuracy the gradient has.
      r.converged = pg.lpNorm<Eigen::Infinity>() <
                    1e3 * gradient_tolerance * std::max(1.0, std::abs(r.value));
      r.stop = StopReason::kNoDescent;
      break;
    }
    Eigen::VectorXd g_new = Gradient(f, x_new, fd_step, r.evaluations);
    Eigen::VectorXd s = x_new - r.x, y = g_new - g;
    const double sy = s.dot(y);
    if (sy > 1e-12) {
      const double rho = 1.0 / sy;
      Eigen::MatrixXd id = Eigen::MatrixXd::Identity(n, n);
      h_inv = (id - rho * s * y.transpose()) * h_inv * (id - rho * y * s.transpose()) +
              rho * s * s.transpose();
    }
    const bool tiny_step = s.lpNorm<Eigen::Infinity>() < 1e-12;
    r.x = x_new;
    r.value = f_new;
    g = g_new;
    if (tiny_step) {
      r.converged = true;
      r.stop = StopReason::kSmallStep;
      break;
    }
  }
  r.gradient = projected(r.x, g);
  return r;
}

Eigen::MatrixXd NumericHessian(const Objective& f, const Eigen::VectorXd& x, double h) {
  const Eigen::Index n = x.size();
  Eigen::MatrixXd hess(n, n);
  const double f0 = f(x);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = i; j < n; ++j) {
      Eigen::VectorXd xpp = x, xpm = x, xmp = x, xmm = x;
      xpp(i) += h;
      xpp(j) += h;
      xpm(i) += h;
      xpm(j) -= h;
      xmp(i) -= h;
      xmp(j) += h;
      xmm(i) -= h;
      xmm(j) -= h;
      double v = 0;
      if (i == j) {
        Eigen::VectorXd xp = x, xm = x;
        xp(i) += h;
        xm(i) -= h;
        v = (f(xp) - 2 * f0 + f(xm)) / (h * h);
      } else {
        v = (f(xpp) - f(xpm) - f(xmp) + f(xmm)) / (4 * h * h);
      }
      hess(i, j) = hess(j, i) = v;
    }
  }
  return hess;
}

}  // namespace medtwin::estimate
