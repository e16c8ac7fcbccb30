#include "medtwin/estimate/ukf.h"

#include <cmath>

namespace medtwin::estimate {

UnscentedKalmanFilter::UnscentedKalmanFilter(Eigen::VectorXd x, Eigen::MatrixXd p, double alpha,
                                             double beta, double kappa)
    : x_(std::move(x)), p_(std::move(p)) {
  const auto n = static_cast<double>(x_.size());
  lambda_ = alpha * alpha * (n + kappa) - n;
  const std::size_t count = 2 * static_cast<std::size_t>(x_.size()) + 1;
  wm_.assign(count, 1.0 / (2 * (n + lambda_)));
  wc_ = wm_;
  wm_[0] = lambda_ / (n + lambda_);
  wc_[0] = wm_[0] + (1 - alpha * alpha + beta);
}

Result<std::vector<Eigen::VectorXd>> UnscentedKalmanFilter::SigmaPoints() const {
  const Eigen::Index n = x_.size();
  Eigen::MatrixXd scaled = (static_cast<double>(n) + lambda_) * p_;
  scaled = 0.5 * (scaled + scaled.transpose());
  Eigen::LLT<Eigen::MatrixXd> llt(scaled);
  Eigen::MatrixXd root;
  if (llt.info() == Eigen::Success) {
    root = llt.matrixL();
  } else {
    // Rounding made P slightly indefinite: use the symmetric square root of its positive part.
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(scaled);
    if (eig.info() != Eigen::Success) {
      return Error{ErrorCode::kSolverFailure, "ukf", "covariance has no square root"};
    }
    root = eig.eigenvectors() * eig.eigenvalues().cwiseMax(0).cwiseSqrt().asDiagonal();
  }
  std::vector<Eigen::VectorXd> pts;
  pts.reserve(static_cast<std::size_t>(2 * n + 1));
  pts.push_back(x_);
  for (Eigen::Index i = 0; i < n; ++i) pts.push_back(x_ + root.col(i));
  for (Eigen::Index i = 0; i < n; ++i) pts.push_back(x_ - root.col(i));
  return pts;
}

Status UnscentedKalmanFilter::Predict(const std::function<bool(Eigen::VectorXd&)>& process,
                                      const Eigen::MatrixXd& q) {
  MEDTWIN_TRY(std::vector<Eigen::VectorXd> points, SigmaPoints());
  for (auto& pt : points) {
    if (!process(pt)) {
      return Error{ErrorCode::kSolverFailure, "ukf", "a sigma point could not be propagated"};
    }
  }
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(x_.size());
  for (std::size_t i = 0; i < points.size(); ++i) mean += wm_[i] * points[i];
  Eigen::MatrixXd cov = q;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Eigen::VectorXd d = points[i] - mean;
    cov.noalias() += wc_[i] * d * d.transpose();
  }
  x_ = mean;
  p_ = 0.5 * (cov + cov.transpose());
  return Ok{};
}

Result<double> UnscentedKalmanFilter::Update(double z,
                                             const std::function<double(const Eigen::VectorXd&)>& h,
                                             double r) {
  // Sigma points of the predicted distribution (redrawn so that q is represented too).
  MEDTWIN_TRY(std::vector<Eigen::VectorXd> pts, SigmaPoints());
  std::vector<double> zs(pts.size());
  double z_hat = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    zs[i] = h(pts[i]);
    z_hat += wm_[i] * zs[i];
  }
  double s = r;
  Eigen::VectorXd cross = Eigen::VectorXd::Zero(x_.size());
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const double dz = zs[i] - z_hat;
    s += wc_[i] * dz * dz;
    cross += wc_[i] * dz * (pts[i] - x_);
  }
  if (!(s > 0)) return Error{ErrorCode::kSolverFailure, "ukf", "innovation variance not positive"};
  const Eigen::VectorXd gain = cross / s;
  const double innovation = z - z_hat;
  x_ += gain * innovation;
  p_ -= s * gain * gain.transpose();
  p_ = 0.5 * (p_ + p_.transpose());
  return innovation;
}

}  // namespace medtwin::estimate
