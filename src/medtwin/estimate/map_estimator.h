// estimate/map_estimator.h — Bayesian MAP individualization of one subject under a population
// model: minimizes OFV(η) = ηᵀΩ⁻¹η + Σ_j [(y_j − f_j(η))²/σ_j² + ln σ_j²]
// (../shared/models/vancomycin.md) by BFGS from several starts inside |η| ≤ 5ω, and reports
// the Laplace approximation of the posterior covariance, (½·∇²OFV)⁻¹.
#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/estimate/population_model.h"
#include "medtwin/sim/simulator.h"

namespace medtwin::estimate {

struct Prediction {
  double time = 0;
  double dv = 0;     // observed
  double ipred = 0;  // individual prediction at the MAP η
  double pred = 0;   // population prediction (η = 0)
};

// Draws n samples of η from the Laplace posterior N(η̂, Σ) (fixed seed: reproducible).
std::vector<Eigen::VectorXd> SamplePosterior(const Eigen::VectorXd& mean,
                                             const Eigen::MatrixXd& covariance, int n,
                                             unsigned seed);

struct MapFit {
  std::string id;
  Eigen::VectorXd eta;                       // in PopulationModel::eta_names order
  Eigen::MatrixXd eta_covariance;            // Laplace approximation
  std::vector<std::string> parameter_names;  // population parameters
  std::vector<double> parameters;            // individual values at the first record
  std::vector<double> parameter_se;          // delta method: value·sqrt(var η) for IIV parameters
  double ofv = 0;
  int observation_count = 0;  // 0: no levels, the fit is the prior (η = 0)
  std::vector<Prediction> predictions;
};

class MapEstimator {
 public:
  // Fails if the structural model named by `model` is unknown.
  [[nodiscard]] static Result<MapEstimator> Create(PopulationModel model,
                                                   sim::SimOptions options = {});

  [[nodiscard]] Result<MapFit> Fit(const sim::Subject& subject);

  // Concentration (the structural model's first output) every `dt` from the first record to
  // `t_end`, for the subject's doses and covariates at η (η = 0: population prediction).
  [[nodiscard]] Result<std::vector<std::pair<double, double>>> PredictCurve(
      const sim::Subject& subject, const Eigen::VectorXd& eta, double t_end, double dt);

  // The structural model's first output (concentration) at every record of `subject` for η.
  [[nodiscard]] Result<std::vector<double>> Simulate(const sim::Subject& subject,
                                                     const Eigen::VectorXd& eta);

  // OFV(η) for a subject under this population model (for tests and brute-force checks).
  [[nodiscard]] Result<double> Objective(const sim::Subject& subject, const Eigen::VectorXd& eta);

  [[nodiscard]] const PopulationModel& model() const { return model_; }
  [[nodiscard]] const sim::Model& structural() const { return *structural_; }
  // ModelInfo with the population model's data columns as covariates (for the CSV reader).
  [[nodiscard]] const sim::ModelInfo& data_info() const { return data_info_; }

 private:
  MapEstimator(PopulationModel model, const sim::Model* structural, sim::Simulator simulator);
  Result<double> Ofv(const PreparedSubject& prepared, const Eigen::VectorXd& eta,
                     std::vector<double>* ipred);

  PopulationModel model_;
  const sim::Model* structural_;
  sim::Simulator simulator_;
  sim::ModelInfo data_info_;
  Eigen::MatrixXd omega_inv_;
  sim::Subject scratch_;
  std::vector<double> base_;
};

}  // namespace medtwin::estimate
