// estimate/ukf.h — the unscented Kalman filter (Julier & Uhlmann 1997; Wan & van der Merwe,
// IEEE AS-SPCC 2000) for a nonlinear process observed through one scalar measurement at a
// time: propagate 2n+1 sigma points through the process, add process noise, then correct with
// the measurement. The process is a callback that moves one sigma point in place, so any
// simulator can drive it.
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <vector>

#include "medtwin/core/result.h"

namespace medtwin::estimate {

class UnscentedKalmanFilter {
 public:
  // alpha, beta, kappa: the usual spread parameters; alpha = 1, kappa = 0 puts the sigma
  // points at ±sqrt(n)·σ with non-negative weights, robust for stiff, clipped models.
  UnscentedKalmanFilter(Eigen::VectorXd x, Eigen::MatrixXd p, double alpha = 1.0, double beta = 2.0,
                        double kappa = 0.0);

  // Moves every sigma point through `process` (false: that point could not be propagated),
  // then sets the mean and covariance from them plus q.
  [[nodiscard]] Status Predict(const std::function<bool(Eigen::VectorXd&)>& process,
                               const Eigen::MatrixXd& q);
  // Corrects with measurement z = h(x) + v, var(v) = r. Returns the innovation z − ẑ.
  [[nodiscard]] Result<double> Update(double z,
                                      const std::function<double(const Eigen::VectorXd&)>& h,
                                      double r);

  [[nodiscard]] const Eigen::VectorXd& mean() const { return x_; }
  [[nodiscard]] const Eigen::MatrixXd& covariance() const { return p_; }
  void SetMean(const Eigen::VectorXd& x) { x_ = x; }
  // Sigma points of the current estimate and their mean weights (for forecasts).
  [[nodiscard]] Result<std::vector<Eigen::VectorXd>> SigmaPoints() const;
  [[nodiscard]] const std::vector<double>& MeanWeights() const { return wm_; }
  [[nodiscard]] const std::vector<double>& CovarianceWeights() const { return wc_; }

 private:
  Eigen::VectorXd x_;
  Eigen::MatrixXd p_;
  double lambda_;
  std::vector<double> wm_, wc_;
};

}  // namespace medtwin::estimate
