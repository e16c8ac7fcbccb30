// estimate/glucose_filter.h — keeps a UVA/Padova twin in sync with its patient: an unscented
// Kalman filter over the 13 physiological states and the log-multipliers of a few
// patient-specific parameters (default: Vmx, insulin action on glucose utilization, i.e.
// insulin sensitivity; and kabs, meal absorption), assimilating one CGM reading at a time
// with the insulin and meals actually given. Forecasts BG at any horizon with a 5–95 % band.
#pragma once

#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/estimate/ukf.h"
#include "medtwin/models/glucose.h"
#include "medtwin/sim/live_simulation.h"

namespace medtwin::estimate {

struct GlucoseFilterOptions {
  std::vector<std::string> estimated = {"Vmx", "kabs"};  // parameters with a log-multiplier
  double initial_log_sd = 0.5;                           // prior SD of each log-multiplier
  double param_walk_sd = 0.005;  // random walk of each log-multiplier per 5 min
  double state_rel_sd = 0.01;    // process noise per 5 min, relative to each state
  double initial_state_rel_sd = 0.05;
  double cgm_sd_mg_dl = 12;  // measurement noise (the default sensor: about 12)
  // The sensor's calibration offset as a filter state (prior SD, random walk per 5 min; SD 0
  // leaves it out): it cannot be told apart from glucose for certain, and saying so keeps the
  // forecast bands honest when the sensor is off.
  double sensor_offset_sd_mg_dl = 5;
  double sensor_offset_walk_mg_dl = 0.1;
};

struct GlucoseForecastPoint {
  double t_min = 0;
  double mean_mg_dl = 0;
  double sd_mg_dl = 0;
  double p05_mg_dl = 0;
  double p95_mg_dl = 0;
};

class GlucoseFilter {
 public:
  // `prior_params`: the model parameters the twin starts from (e.g. a population or a wrong
  // guess); the state starts at their basal steady state at t0.
  [[nodiscard]] static Result<GlucoseFilter> Create(const sim::Model& model,
                                                    std::vector<double> prior_params, double t0,
                                                    GlucoseFilterOptions options = {});

  // Inputs from now on (what the pump delivered, meals as eaten).
  [[nodiscard]] models::GlucoseInputs& inputs() { return inputs_; }
  // Propagates the estimate to t (> time()) under the inputs.
  [[nodiscard]] Status Predict(double t_min);
  // Assimilates a CGM reading taken at time().
  [[nodiscard]] Status Update(double cgm_mg_dl);

  // Forecast of BG every `step_min` up to `horizon_min`, with the inputs held as they are
  // (meals and boluses already started run their course).
  [[nodiscard]] Result<std::vector<GlucoseForecastPoint>> Forecast(double horizon_min,
                                                                   double step_min = 5);

  [[nodiscard]] double time() const { return t_; }
  [[nodiscard]] double bg_mg_dl() const;  // current estimate
  // Current parameter estimates (multiplier applied), in `options.estimated` order.
  [[nodiscard]] std::vector<double> EstimatedParameters() const;
  [[nodiscard]] const std::vector<std::string>& estimated_names() const {
    return options_.estimated;
  }
  // The twin's full model state (for planning from the current estimate) and parameters.
  [[nodiscard]] std::vector<double> State() const;
  [[nodiscard]] std::vector<double> Parameters() const;
  // The twin at time() along the estimate's mean, to replay candidate plans from (with a
  // LiveSimulation holding Parameters()).
  [[nodiscard]] sim::LiveSimulation::Checkpoint MeanCheckpoint() const;
  // BG along the mean estimate every `step_min` up to `horizon_min` with the inputs held
  // (one simulation; Forecast adds the band from all sigma points).
  [[nodiscard]] Result<std::vector<double>> ForecastMean(double horizon_min, double step_min = 5);

 private:
  GlucoseFilter(sim::LiveSimulation twin, std::vector<double> prior, std::vector<int> index,
                GlucoseFilterOptions options, UnscentedKalmanFilter ukf, double t0);
  void Load(const Eigen::VectorXd& z);  // sigma point → twin state and parameters
  [[nodiscard]] Eigen::MatrixXd ProcessNoise(double dt_min) const;

  sim::LiveSimulation twin_;
  std::vector<double> prior_;
  std::vector<int> index_;          // model-parameter index of each estimated parameter
  Eigen::Index offset_index_ = -1;  // the sensor-offset state, if filtered
  GlucoseFilterOptions options_;
  UnscentedKalmanFilter ukf_;
  std::vector<double> aux_;  // meal-size states, carried along outside the filter
  models::GlucoseInputs inputs_;
  double t_;
  std::vector<double> work_params_, work_state_;
  sim::LiveSimulation::Checkpoint start_;  // the twin at time() along the mean
};

}  // namespace medtwin::estimate
