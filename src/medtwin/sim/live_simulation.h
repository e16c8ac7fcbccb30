// sim/live_simulation.h — a model advanced step by step while its inputs are decided on the
// way (closed-loop control, live twins, Kalman filters): set the infusion rate into a
// compartment, give a bolus, advance to a time, read or replace the state. Same semantics as
// the record-driven Simulator (input scaling, initial state, the model's input-change hook
// and its own discontinuities), without records.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/sim/model.h"
#include "medtwin/sim/simulator.h"
#include "medtwin/sim/stepper.h"

namespace medtwin::sim {

class LiveSimulation {
 public:
  // `model_params` are the model's own parameters (ParameterCount values, bounds checked);
  // starts at t0 in the model's initial state with no inputs.
  [[nodiscard]] static Result<LiveSimulation> Create(const Model& model,
                                                     std::vector<double> model_params, double t0,
                                                     SimOptions options = {});

  // Rate into compartment cmt (1-based) in dose units per time unit (U/min, g/min, mg/h),
  // from now until changed.
  [[nodiscard]] Status SetRate(int cmt, double rate);
  // An instantaneous dose into compartment cmt (dose units).
  [[nodiscard]] Status AddBolus(int cmt, double amount);
  // Integrates to t >= time().
  [[nodiscard]] Status AdvanceTo(double t);

  [[nodiscard]] double time() const { return t_; }
  [[nodiscard]] std::span<const double> state() const { return x_; }
  // Replaces the state (e.g. a filter's estimate); inputs stay as they are.
  void SetState(std::span<const double> x);
  // Everything that determines the future given the inputs: time, state, the rates in force
  // (and those the model last saw, for its input-change hook). Restore replays a stretch from
  // a saved point (sigma points of a filter, candidate plans of a controller).
  struct Checkpoint {
    double t = 0;
    std::vector<double> x, rates, previous_rates;
  };
  [[nodiscard]] Checkpoint Save() const { return {t_, x_, rates_, previous_rates_}; }
  void Restore(const Checkpoint& c) {
    t_ = c.t;
    x_ = c.x;
    rates_ = c.rates;
    previous_rates_ = c.previous_rates;
    dirty_ = true;
  }
  [[nodiscard]] std::span<const double> params() const { return p_; }
  // Replaces the model parameters (bounds are the caller's business here: filters use it).
  void SetParams(std::span<const double> p);
  [[nodiscard]] double Output(int index) const;
  [[nodiscard]] const Model& model() const { return *model_; }
  [[nodiscard]] long Evaluations() const { return stepper_->Evaluations(); }

 private:
  LiveSimulation(const Model& model, std::unique_ptr<Stepper> stepper, std::vector<double> p,
                 double t0);
  Status Restart();

  const Model* model_;
  std::unique_ptr<Stepper> stepper_;
  std::vector<double> p_;
  std::vector<double> x_, rates_, previous_rates_;
  mutable std::vector<double> out_;
  double t_;
  bool dirty_ = true;  // inputs or state changed since the stepper's last Reset
};

}  // namespace medtwin::sim
