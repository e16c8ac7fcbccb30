#include "medtwin/estimate/glucose_filter.h"

#include <algorithm>
#include <cmath>

namespace medtwin::estimate {
namespace {

constexpr int kPhys = 13;  // physiological states filtered; the meal-size states ride along

int FindParam(const sim::Model& model, const std::string& name) {
  const auto& specs = model.Info().parameters;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

// Absolute floors of the state noise (the states near zero at basal still move).
constexpr double kStateFloor[kPhys] = {500, 500, 500, 2, 2, 0.2, 2, 2, 2, 0.2, 2, 2, 2};

}  // namespace

GlucoseFilter::GlucoseFilter(sim::LiveSimulation twin, std::vector<double> prior,
                             std::vector<int> index, GlucoseFilterOptions options,
                             UnscentedKalmanFilter ukf, double t0)
    : twin_(std::move(twin)),
      prior_(std::move(prior)),
      index_(std::move(index)),
      options_(std::move(options)),
      ukf_(std::move(ukf)),
      t_(t0) {
  const auto s = twin_.state();
  aux_.assign(s.begin() + kPhys, s.end());
  if (options_.sensor_offset_sd_mg_dl > 0) {
    offset_index_ = static_cast<Eigen::Index>(kPhys + index_.size());
  }
  work_params_ = prior_;
  work_state_.assign(s.begin(), s.end());
  start_ = twin_.Save();
}

Result<GlucoseFilter> GlucoseFilter::Create(const sim::Model& model,
                                            std::vector<double> prior_params, double t0,
                                            GlucoseFilterOptions options) {
  if (model.Info().name != "uva_padova") {
    return InvalidArgument("model",
                           "the glucose filter needs uva_padova, not " + model.Info().name);
  }
  std::vector<int> index;
  for (const auto& name : options.estimated) {
    const int i = FindParam(model, name);
    if (i < 0) return InvalidArgument("estimated", "uva_padova has no parameter '" + name + "'");
    index.push_back(i);
  }
  sim::SimOptions sim_options;
  sim_options.tolerances.rtol = 1e-6;  // the filter's own noise is far larger
  sim_options.tolerances.atol = 1e-8;
  MEDTWIN_TRY(sim::LiveSimulation twin,
              sim::LiveSimulation::Create(model, prior_params, t0, sim_options));
  const bool offset = options.sensor_offset_sd_mg_dl > 0;
  const auto n = static_cast<Eigen::Index>(kPhys + index.size() + (offset ? 1 : 0));
  Eigen::VectorXd x(n);
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(n, n);
  for (int i = 0; i < kPhys; ++i) {
    x(i) = twin.state()[static_cast<std::size_t>(i)];
    const double sd = options.initial_state_rel_sd * std::abs(x(i)) + 0.1 * kStateFloor[i];
    p(i, i) = sd * sd;
  }
  for (Eigen::Index k = kPhys; k < static_cast<Eigen::Index>(kPhys + index.size()); ++k) {
    x(k) = 0;  // log-multiplier
    p(k, k) = options.initial_log_sd * options.initial_log_sd;
  }
  if (offset) {
    x(n - 1) = 0;
    p(n - 1, n - 1) = options.sensor_offset_sd_mg_dl * options.sensor_offset_sd_mg_dl;
  }
  UnscentedKalmanFilter ukf(x, p);
  return GlucoseFilter(std::move(twin), std::move(prior_params), std::move(index),
                       std::move(options), std::move(ukf), t0);
}

void GlucoseFilter::Load(const Eigen::VectorXd& z) {
  twin_.Restore(start_);
  for (int i = 0; i < kPhys; ++i) work_state_[static_cast<std::size_t>(i)] = std::max(0.0, z(i));
  std::copy(aux_.begin(), aux_.end(), work_state_.begin() + kPhys);
  work_params_ = prior_;
  for (std::size_t k = 0; k < index_.size(); ++k) {
    const double m = std::exp(std::clamp(z(kPhys + static_cast<Eigen::Index>(k)), -3.0, 3.0));
    work_params_[static_cast<std::size_t>(index_[k])] *= m;
  }
  twin_.SetParams(work_params_);
  twin_.SetState(work_state_);
}

Eigen::MatrixXd GlucoseFilter::ProcessNoise(double dt_min) const {
  const Eigen::Index n = ukf_.mean().size();
  Eigen::MatrixXd q = Eigen::MatrixXd::Zero(n, n);
  const double scale = dt_min / 5.0;
  for (int i = 0; i < kPhys; ++i) {
    const double sd = options_.state_rel_sd * (std::abs(ukf_.mean()(i)) + kStateFloor[i]);
    q(i, i) = sd * sd * scale;
  }
  for (Eigen::Index k = kPhys; k < n; ++k) {
    q(k, k) = options_.param_walk_sd * options_.param_walk_sd * scale;
  }
  if (offset_index_ >= 0) {
    q(offset_index_, offset_index_) =
        options_.sensor_offset_walk_mg_dl * options_.sensor_offset_walk_mg_dl * scale;
  }
  return q;
}

Status GlucoseFilter::Predict(double t_min) {
  if (!(t_min > t_)) return InvalidArgument("time", "predict needs a later time");
  const double t0 = t_;
  bool first = true;
  std::vector<double> new_aux = aux_;
  sim::LiveSimulation::Checkpoint new_start;
  Status failure = Ok{};
  auto process = [&](Eigen::VectorXd& z) {
    Load(z);
    Status s = models::AdvanceGlucose(twin_, inputs_, t_min);
    if (!s.ok()) {
      failure = s;
      return false;
    }
    const auto x = twin_.state();
    for (int i = 0; i < kPhys; ++i) z(i) = x[static_cast<std::size_t>(i)];
    if (first) {  // the first sigma point is the mean: its meal-size states carry on
      new_aux.assign(x.begin() + kPhys, x.end());
      new_start = twin_.Save();
      first = false;
    }
    return true;
  };
  const Eigen::MatrixXd q = ProcessNoise(t_min - t0);
  Status s = ukf_.Predict(process, q);
  if (!failure.ok()) return failure;
  MEDTWIN_RETURN_IF_ERROR(s);
  aux_ = std::move(new_aux);
  start_ = std::move(new_start);
  t_ = t_min;
  return Ok{};
}

Status GlucoseFilter::Update(double cgm_mg_dl) {
  if (!std::isfinite(cgm_mg_dl) || cgm_mg_dl <= 0) {
    return InvalidArgument("cgm", "reading must be a positive number of mg/dL");
  }
  const double vg = prior_[static_cast<std::size_t>(FindParam(twin_.model(), "Vg"))];
  const Eigen::Index off = offset_index_;
  auto h = [vg, off](const Eigen::VectorXd& z) {
    return z(models::uva::kGs) / vg + (off >= 0 ? z(off) : 0.0);
  };
  MEDTWIN_TRY(double innovation,
              ukf_.Update(cgm_mg_dl, h, options_.cgm_sd_mg_dl * options_.cgm_sd_mg_dl));
  (void)innovation;
  // Keep the states physical: amounts cannot be negative.
  Eigen::VectorXd z = ukf_.mean();
  for (int i = 0; i < kPhys; ++i) z(i) = std::max(0.0, z(i));
  ukf_.SetMean(z);
  return Ok{};
}

Result<std::vector<GlucoseForecastPoint>> GlucoseFilter::Forecast(double horizon_min,
                                                                  double step_min) {
  MEDTWIN_TRY(std::vector<Eigen::VectorXd> points, ukf_.SigmaPoints());
  const int steps = static_cast<int>(std::floor(horizon_min / step_min + 1e-9));
  std::vector<std::vector<double>> bg(points.size(),
                                      std::vector<double>(static_cast<std::size_t>(steps), 0.0));
  const double vg = prior_[static_cast<std::size_t>(FindParam(twin_.model(), "Vg"))];
  for (std::size_t i = 0; i < points.size(); ++i) {
    Load(points[i]);
    for (int k = 0; k < steps; ++k) {
      MEDTWIN_RETURN_IF_ERROR(models::AdvanceGlucose(twin_, inputs_, t_ + (k + 1) * step_min));
      bg[i][static_cast<std::size_t>(k)] = twin_.state()[models::uva::kGp] / vg;
    }
  }
  const auto& wm = ukf_.MeanWeights();
  const auto& wc = ukf_.CovarianceWeights();
  std::vector<GlucoseForecastPoint> out;
  for (int k = 0; k < steps; ++k) {
    double mean = 0;
    for (std::size_t i = 0; i < points.size(); ++i)
      mean += wm[i] * bg[i][static_cast<std::size_t>(k)];
    double var = 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
      const double d = bg[i][static_cast<std::size_t>(k)] - mean;
      var += wc[i] * d * d;
    }
    // Process noise keeps entering over the horizon (the sigma points alone would not show
    // it): add the plasma-glucose share accumulated up to this step.
    const double gp_sd = options_.state_rel_sd *
                         (std::abs(ukf_.mean()(models::uva::kGp)) + kStateFloor[models::uva::kGp]) /
                         vg;
    var += gp_sd * gp_sd * (k + 1) * step_min / 5.0;
    const double sd = std::sqrt(std::max(0.0, var));
    out.push_back(
        {t_ + (k + 1) * step_min, mean, sd, std::max(0.0, mean - 1.645 * sd), mean + 1.645 * sd});
  }
  return out;
}

sim::LiveSimulation::Checkpoint GlucoseFilter::MeanCheckpoint() const {
  sim::LiveSimulation::Checkpoint c = start_;
  c.x = State();
  return c;
}

Result<std::vector<double>> GlucoseFilter::ForecastMean(double horizon_min, double step_min) {
  Load(ukf_.mean());
  const double vg = prior_[static_cast<std::size_t>(FindParam(twin_.model(), "Vg"))];
  std::vector<double> out;
  for (double t = t_ + step_min; t <= t_ + horizon_min + 1e-9; t += step_min) {
    MEDTWIN_RETURN_IF_ERROR(models::AdvanceGlucose(twin_, inputs_, t));
    out.push_back(twin_.state()[models::uva::kGp] / vg);
  }
  return out;
}

double GlucoseFilter::bg_mg_dl() const {
  const double vg = prior_[static_cast<std::size_t>(FindParam(twin_.model(), "Vg"))];
  return ukf_.mean()(models::uva::kGp) / vg;
}

std::vector<double> GlucoseFilter::EstimatedParameters() const {
  std::vector<double> out;
  for (std::size_t k = 0; k < index_.size(); ++k) {
    out.push_back(prior_[static_cast<std::size_t>(index_[k])] *
                  std::exp(ukf_.mean()(kPhys + static_cast<Eigen::Index>(k))));
  }
  return out;
}

std::vector<double> GlucoseFilter::State() const {
  std::vector<double> x(static_cast<std::size_t>(kPhys) + aux_.size());
  for (int i = 0; i < kPhys; ++i) x[static_cast<std::size_t>(i)] = std::max(0.0, ukf_.mean()(i));
  std::copy(aux_.begin(), aux_.end(), x.begin() + kPhys);
  return x;
}

std::vector<double> GlucoseFilter::Parameters() const {
  std::vector<double> p = prior_;
  const auto est = EstimatedParameters();
  for (std::size_t k = 0; k < index_.size(); ++k) p[static_cast<std::size_t>(index_[k])] = est[k];
  return p;
}

}  // namespace medtwin::estimate
