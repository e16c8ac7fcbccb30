// sim/simulator.h — runs a model through one subject's records (NONMEM event semantics:
// EVID 0–4, AMT, RATE incl. -1/-2, CMT, II, ADDL, SS 0/1/2, F/ALAG/R/D per compartment,
// overlapping infusions, time-varying parameters) and reports the model's outputs at every
// record. The rules, including how ties are ordered, are in docs/dosing_records.md.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/sim/model.h"
#include "medtwin/sim/records.h"
#include "medtwin/sim/stepper.h"

namespace medtwin::sim {

// When a value a record sets (a parameter column, a covariate-driven parameter) takes effect.
enum class TimeVarying {
  // Over the interval that ends at the record, as NONMEM's PREDPP does for ADVAN and $DES
  // models ("next observation carried backward", also mrgsolve's default): the value on
  // record i governs (t[i-1], t[i]] and the prediction at record i.
  kNocb,
  // From the record on ("last observation carried forward"): the value on record i governs
  // the prediction at record i and [t[i], t[i+1]).
  kLocf,
};

struct SimOptions {
  Method method = Method::kAuto;
  Tolerances tolerances;
  TimeVarying time_varying = TimeVarying::kNocb;
};

struct SubjectResult {
  int output_count = 0;
  std::vector<double> times;    // one per record
  std::vector<double> outputs;  // records × outputs, row-major, in the model's output order
  [[nodiscard]] double Output(std::size_t row, int column) const {
    return outputs[row * static_cast<std::size_t>(output_count) + static_cast<std::size_t>(column)];
  }
};

// Not thread-safe (owns an integrator); use one Simulator per thread.
class Simulator {
 public:
  // Fails when `method` does not apply to `model` (closed form for a nonlinear model).
  [[nodiscard]] static Result<Simulator> Create(const Model& model, SimOptions options = {});

  // `base_params` follows ParameterLayout(model.Info()) and holds the values in force before
  // the first record (defaults with --param overrides). Records may change them.
  [[nodiscard]] Result<SubjectResult> Run(const Subject& subject,
                                          std::span<const double> base_params);

  [[nodiscard]] const ParameterLayout& layout() const { return layout_; }
  [[nodiscard]] Method method() const { return method_; }
  [[nodiscard]] long Evaluations() const { return stepper_->Evaluations(); }

 private:
  Simulator(const Model& model, SimOptions options, std::unique_ptr<Stepper> stepper,
            Method method);

  const Model* model_;
  SimOptions options_;
  ParameterLayout layout_;
  std::unique_ptr<Stepper> stepper_;
  Method method_;
};

}  // namespace medtwin::sim
