// estimate/optimize.h — small dense minimizers for estimation: BFGS with central-difference
// gradients and a backtracking (Armijo) line search inside a box, and a finite-difference
// Hessian. Sized for a handful of parameters (η of one patient).
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <limits>

namespace medtwin::estimate {

using Objective = std::function<double(const Eigen::VectorXd&)>;

// Why a minimization stopped.
enum class StopReason {
  kGradient,        // the projected gradient fell below the tolerance
  kSmallStep,       // an accepted step moved no coordinate by more than 1e-12
  kNoDescent,       // no step along the search direction lowered f
  kIterationLimit,  // max_iterations reached
};

struct MinimizeResult {
  Eigen::VectorXd x;
  double value = 0;
  int iterations = 0;
  long evaluations = 0;
  bool converged = false;
  StopReason stop = StopReason::kIterationLimit;
  // The projected gradient at x (components pushing out of the box at an active bound are 0).
  Eigen::VectorXd gradient;
};

// Minimizes f over the box [lower, upper] starting from x0 (clamped into the box). Converged
// when the projected gradient is below gradient_tolerance·max(1, |f|); gradients are central
// differences with step fd_step·max(1, |x_i|) (larger for objectives with inner solves); no
// step moves any coordinate by more than max_step. `on_accept` (optional) is called right after
// f was evaluated at a point the search moves to (the start, each accepted step), before any
// gradient probe around it: an objective with inner solves can warm-start them from there.
MinimizeResult MinimizeBfgs(const Objective& f, const Eigen::VectorXd& x0,
                            const Eigen::VectorXd& lower, const Eigen::VectorXd& upper,
                            int max_iterations = 200, double gradient_tolerance = 1e-7,
                            double fd_step = 1e-6,
                            double max_step = std::numeric_limits<double>::infinity(),
                            const std::function<void()>& on_accept = {});

// Central-difference Hessian with step h per coordinate.
Eigen::MatrixXd NumericHessian(const Objective& f, const Eigen::VectorXd& x, double h = 1e-4);

}  // namespace medtwin::estimate
