// estimate/population_model.h — population PK models as data (data/models/*.json): typical
// values with covariate relations, log-normal inter-individual variability Ω (full covariance
// allowed) and a residual error model. Turns a subject's covariates and η into the structural
// model's parameters, record by record.
#pragma once

#include <Eigen/Dense>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/sim/records.h"

namespace medtwin::estimate {

enum class CovariateKind { kPower, kExponential, kLinear, kCategorical };

// One multiplicative factor on a typical value:
//   power (x/ref)^exponent · exponential exp(coef·(x-ref)) · linear 1+coef·(x-ref) ·
//   categorical factors[level].
struct CovariateEffect {
  std::string covariate;
  CovariateKind kind = CovariateKind::kPower;
  double reference = 1.0;
  double coefficient = 1.0;  // exponent for power
  std::map<int, double> factors;
};

// The factor an effect makes at covariate value x (errors name the covariate: a power of a
// value ≤ 0, a level the model does not know).
[[nodiscard]] Result<double> CovariateFactor(const CovariateEffect& effect, double x);

struct PopulationParameter {
  std::string name;  // structural parameter it sets ("CL", "V1")
  double typical = 0;
  std::vector<CovariateEffect> effects;
  int eta = -1;  // index into η, or -1 without IIV
};

enum class ResidualKind { kAdditive, kProportional, kCombined1, kCombined2 };

struct ResidualModel {
  ResidualKind kind = ResidualKind::kAdditive;
  double additive = 0;      // a, mg/L
  double proportional = 0;  // b, fraction
  // SD at prediction f: a; b·f; a + b·f (combined1); sqrt(a² + (b·f)²) (combined2).
  [[nodiscard]] double Sd(double f) const;
};

// Cockcroft–Gault settings (Cockcroft & Gault, Nephron 1976;16:31): CrCL (mL/min) =
// (140 - age)·WT/(72·SCR) · 0.85 if female, SCR floored at scr_floor when age > floor_above_age,
// capped at cap.
struct CreatinineClearanceRule {
  double cap_ml_min = 150;
  double scr_floor_mg_dl = 0;
  double floor_above_age = 200;
};

// How the drug is given and what its levels should be, as its label and guidelines say: the
// defaults of `medtwin dose` for this model (each can be overridden on the command line).
struct DosingDefaults {
  std::string route;  // "infusion" (IV over infusion_h), "bolus" (IV push) or "oral"
  std::vector<double> intervals_h;
  double infusion_h = 0;
  double dose_step_mg = 0;
  double dose_max_mg = 0;
  std::vector<std::string> targets;  // as `dose --target` takes them, e.g. "auc24=400:600"
  std::string targets_source;        // the guideline behind them
};

struct PopulationModel {
  std::string name;
  std::string description;
  std::string source;
  std::string structural_model;
  std::vector<std::string> covariates;  // as declared (e.g. CRCL, WT, DIAL)
  CreatinineClearanceRule crcl_rule;
  std::vector<PopulationParameter> parameters;
  std::vector<std::string> eta_names;  // parameter each η acts on
  Eigen::MatrixXd omega;
  ResidualModel residual;
  std::optional<DosingDefaults> dosing;  // the file's "dosing" section, when it has one

  // Covariate columns a data file may carry: the declared ones, plus AGE, SEX, SCR when CRCL
  // is declared (CRCL is then computed where it is missing).
  [[nodiscard]] std::vector<std::string> DataColumns() const;
};

[[nodiscard]] Result<PopulationModel> ParsePopulationModel(std::string_view json_text,
                                                           std::string_view source_name);
[[nodiscard]] Result<PopulationModel> LoadPopulationModel(const std::string& path);
// Finds `name` as a file path or as data/models/<name>.json under the data directory
// (MEDTWIN_DATA_DIR, else the source tree's data/).
[[nodiscard]] Result<PopulationModel> FindPopulationModel(const std::string& name);
[[nodiscard]] std::vector<std::string> BuiltInPopulationModels();

// A subject prepared for one population model: per record, the typical (η = 0) value of each
// population parameter from that record's covariates (carried forward, and backward to the
// first record, where missing).
struct PreparedSubject {
  const sim::Subject* subject = nullptr;
  std::vector<std::vector<double>> typical;  // [record][population parameter]
  std::vector<int> structural_index;         // population parameter → ParameterLayout index
};

// Resolves covariates (computing CRCL by Cockcroft–Gault where needed). The records' covariate
// values must be stored in PopulationModel::DataColumns() order (as io::ParseNonmemCsv does
// for a ModelInfo whose covariates are those columns). Errors name the line and covariate.
[[nodiscard]] Result<PreparedSubject> PrepareSubject(const PopulationModel& model,
                                                     const sim::ParameterLayout& layout,
                                                     const sim::Subject& subject);

// Writes structural parameter values for η into `subject_out` (a copy of the prepared subject
// whose records carry parameter updates) and `base` (values before the first record).
void ApplyEta(const PopulationModel& model, const PreparedSubject& prepared,
              const Eigen::VectorXd& eta, sim::Subject& subject_out, std::vector<double>& base);

}  // namespace medtwin::estimate
