// sim/model.h — what the simulator needs to know about a model.
// A model declares its states (compartments, numbered 1..n as NONMEM's CMT), parameters (name,
// unit, default, bounds), outputs and right-hand side. Linear models may also expose their
// system matrix, which lets the simulator use exact matrix-exponential propagation.
#pragma once

#include <limits>
#include <span>
#include <string>
#include <vector>

namespace medtwin::sim {

struct StateSpec {
  std::string name;  // "depot", "central"
  std::string unit;  // "mg"
};

struct ParameterSpec {
  std::string name;  // as used in data columns and --param: "CL", "V1"
  std::string unit;  // UCUM: "L/h"
  double default_value = 0.0;
  double lower = 0.0;  // inclusive bounds; values outside are rejected
  double upper = 0.0;
  std::string description;
};

struct OutputSpec {
  std::string name;  // "CP", "A1"
  std::string unit;
};

struct ModelInfo {
  std::string name;         // registry key, "pk_2cmt_iv"
  std::string description;  // one line for `medtwin models`
  std::string time_unit;    // "h" for PK models, "min" for glucose
  std::vector<StateSpec> states;
  std::vector<ParameterSpec> parameters;
  std::vector<OutputSpec> outputs;
  int default_dose_cmt = 1;             // CMT used when a dose record leaves CMT empty or 0
  std::vector<std::string> covariates;  // extra data columns the model reads (none for PK)
};

// A model's equations. Implementations are stateless and thread-safe: all per-subject data
// (parameters, state) is passed in. Derivatives exclude dose inputs; by default the simulator
// adds zero-order infusion rates to dx/dt itself (DerivativesWithInputs).
class Model {
 public:
  virtual ~Model() = default;
  [[nodiscard]] virtual const ModelInfo& Info() const = 0;

  virtual void Derivatives(double t, std::span<const double> x, std::span<const double> p,
                           std::span<double> dxdt) const = 0;
  virtual void Outputs(std::span<const double> x, std::span<const double> p,
                       std::span<double> out) const = 0;

  // The right-hand side with dose inputs: `rates` holds the zero-order input into each state,
  // already in state units (see InputScale). The default adds them to Derivatives; a model
  // whose equations depend on an input (UVA/Padova's gastric emptying depends on the meal
  // being eaten) overrides this.
  virtual void DerivativesWithInputs(double t, std::span<const double> x, std::span<const double> p,
                                     std::span<const double> rates, std::span<double> dxdt) const;

  // Dose amounts and rates into state `state0` (0-based) are multiplied by this to give state
  // units: 1 for PK models (mg into mg); UVA/Padova turns g of carbohydrate into mg and U of
  // insulin into pmol/kg.
  [[nodiscard]] virtual double InputScale(int state0, std::span<const double> p) const {
    (void)state0;
    (void)p;
    return 1.0;
  }

  // The state at the first record and after a reset (EVID 3/4): zeros for PK models, the
  // patient's basal steady state for physiological models.
  virtual void InitialState(std::span<const double> p, std::span<double> x) const;

  // Called by the simulator when the input rates change at time t (both in state units), with
  // the state at t, which the model may update: lets a model keep quantities defined by input
  // events (UVA/Padova's meal size D̄ is fixed when a meal starts).
  virtual void OnInputChange(double t, std::span<const double> previous_rates,
                             std::span<const double> rates, std::span<const double> p,
                             std::span<double> x) const {
    (void)t;
    (void)previous_rates;
    (void)rates;
    (void)p;
    (void)x;
  }

  // The first time after t at which the right-hand side jumps although no input changes
  // (UVA/Padova counts the meal per minute); the simulator restarts its integrator there.
  [[nodiscard]] virtual double NextDiscontinuity(double t, std::span<const double> x,
                                                 std::span<const double> rates) const {
    (void)t;
    (void)x;
    (void)rates;
    return std::numeric_limits<double>::infinity();
  }

  // For linear time-invariant models (dx/dt = K x + inputs): fills K, n*n row-major, and
  // returns true. Nonlinear models keep the default and are integrated numerically.
  virtual bool LinearMatrix(std::span<const double> p, std::span<double> k) const {
    (void)p;
    (void)k;
    return false;
  }

  [[nodiscard]] int StateCount() const { return static_cast<int>(Info().states.size()); }
  [[nodiscard]] int ParameterCount() const { return static_cast<int>(Info().parameters.size()); }
  [[nodiscard]] int OutputCount() const { return static_cast<int>(Info().outputs.size()); }
  [[nodiscard]] bool IsLinear() const;
};

}  // namespace medtwin::sim
