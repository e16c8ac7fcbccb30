#include "medtwin/sim/live_simulation.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace medtwin::sim {

LiveSimulation::LiveSimulation(const Model& model, std::unique_ptr<Stepper> stepper,
                               std::vector<double> p, double t0)
    : model_(&model),
      stepper_(std::move(stepper)),
      p_(std::move(p)),
      x_(static_cast<std::size_t>(model.StateCount()), 0.0),
      rates_(x_.size(), 0.0),
      previous_rates_(x_.size(), 0.0),
      out_(static_cast<std::size_t>(model.OutputCount()), 0.0),
      t_(t0) {
  model_->InitialState(p_, x_);
}

Result<LiveSimulation> LiveSimulation::Create(const Model& model, std::vector<double> model_params,
                                              double t0, SimOptions options) {
  if (model_params.size() != static_cast<std::size_t>(model.ParameterCount())) {
    return InvalidArgument("params", "expected " + std::to_string(model.ParameterCount()) +
                                         " model parameters, got " +
                                         std::to_string(model_params.size()));
  }
  const auto& specs = model.Info().parameters;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const double v = model_params[i];
    if (!(v >= specs[i].lower && v <= specs[i].upper)) {
      return InvalidArgument(specs[i].name, "value " + std::to_string(v) + " outside [" +
                                                std::to_string(specs[i].lower) + ", " +
                                                std::to_string(specs[i].upper) + "]");
    }
  }
  Method method = options.method;
  if (method == Method::kAuto) method = model.IsLinear() ? Method::kClosedForm : Method::kDopri5;
  MEDTWIN_TRY(auto stepper, MakeStepper(model, method, options.tolerances));
  return LiveSimulation(model, std::move(stepper), std::move(model_params), t0);
}

Status LiveSimulation::SetRate(int cmt, double rate) {
  if (cmt < 1 || cmt > model_->StateCount()) {
    return InvalidArgument("CMT", "compartment " + std::to_string(cmt) + " does not exist");
  }
  if (!(rate >= 0) || !std::isfinite(rate)) {
    return InvalidArgument("RATE", "rate must be a finite number >= 0");
  }
  const auto i = static_cast<std::size_t>(cmt - 1);
  const double scaled = rate * model_->InputScale(cmt - 1, p_);
  if (scaled != rates_[i]) {
    rates_[i] = scaled;
    dirty_ = true;
  }
  return Ok{};
}

Status LiveSimulation::AddBolus(int cmt, double amount) {
  if (cmt < 1 || cmt > model_->StateCount()) {
    return InvalidArgument("CMT", "compartment " + std::to_string(cmt) + " does not exist");
  }
  if (!(amount >= 0) || !std::isfinite(amount)) {
    return InvalidArgument("AMT", "amount must be a finite number >= 0");
  }
  x_[static_cast<std::size_t>(cmt - 1)] += amount * model_->InputScale(cmt - 1, p_);
  dirty_ = true;
  return Ok{};
}

void LiveSimulation::SetState(std::span<const double> x) {
  std::copy(x.begin(), x.end(), x_.begin());
  dirty_ = true;
}

void LiveSimulation::SetParams(std::span<const double> p) {
  std::copy(p.begin(), p.end(), p_.begin());
  dirty_ = true;
}

Status LiveSimulation::Restart() {
  if (rates_ != previous_rates_) {
    model_->OnInputChange(t_, previous_rates_, rates_, p_, x_);
    previous_rates_ = rates_;
  }
  dirty_ = false;
  return stepper_->Reset(OdeSystem{model_, p_, rates_}, t_, x_);
}

Status LiveSimulation::AdvanceTo(double t) {
  if (t < t_) return InvalidArgument("TIME", "cannot go back in time");
  if (dirty_) MEDTWIN_RETURN_IF_ERROR(Restart());
  double jump = model_->NextDiscontinuity(t_, x_, rates_);
  while (jump < t) {
    MEDTWIN_RETURN_IF_ERROR(stepper_->AdvanceTo(jump, jump, x_));
    t_ = jump;
    MEDTWIN_RETURN_IF_ERROR(Restart());
    jump = model_->NextDiscontinuity(t_, x_, rates_);
  }
  // The stepper may not integrate past the next change we know of; later inputs are unknown,
  // so stop exactly at t.
  if (t > t_) MEDTWIN_RETURN_IF_ERROR(stepper_->AdvanceTo(t, t, x_));
  t_ = t;
  // The next call continues from here; a new Reset is needed only if inputs change, but the
  // stepper was told not to pass t, so restart it cleanly.
  dirty_ = true;
  return Ok{};
}

double LiveSimulation::Output(int index) const {
  model_->Outputs(x_, p_, out_);
  return out_[static_cast<std::size_t>(index)];
}

}  // namespace medtwin::sim
