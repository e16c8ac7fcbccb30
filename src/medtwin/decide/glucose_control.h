// decide/glucose_control.h — insulin controllers for the glucose twin, called every control
// period (5 min) with the latest CGM reading and any meal announced now, returning the basal
// rate and bolus the pump should deliver until the next call:
//   BasalBolusController  the patient's basal rate; at meals carbs/CR plus a correction
//                         (CGM − target)/CF above 150 mg/dL, less insulin on board
//                         (standard therapy, as simglucose's BBController);
//   PidController         basal modulated by PID on CGM (Steil et al., Diabetes 2006;55:3344:
//                         TI 450 min, TD 66 min; gain from the correction factor; no extra
//                         insulin while a bolus acts), plus the carb-counted meal bolus
//                         (hybrid closed loop);
//   MpcController         model predictive control on the patient's own twin: a
//                         GlucoseFilter keeps the twin's state and insulin sensitivity in sync
//                         with the CGM; each period candidate plans (bolus at meals, a basal
//                         multiplier for 30 min) are simulated over 2.5 h on the twin and the
//                         one with the lowest risk-weighted cost is taken.
// Every controller honours the same hard safety limits: maximum bolus, maximum insulin on
// board, and suspension of all insulin below a CGM threshold (a meal bolus stopped by it is
// given once CGM is back at 90 mg/dL, within the hour).
#pragma once

#include <memory>
#include <string_view>

#include "medtwin/core/result.h"
#include "medtwin/estimate/glucose_filter.h"
#include "medtwin/models/glucose.h"
#include "medtwin/models/glucose_devices.h"

namespace medtwin::decide {

struct ControllerInput {
  double t_min = 0;
  double cgm_mg_dl = 0;
  double meal_g = 0;  // carbohydrate announced now, eaten from now at 5 g/min
};

struct InsulinRequest {
  double basal_u_per_min = 0;
  double bolus_u = 0;
  bool suspended = false;  // the safety layer stopped insulin
};

struct SafetyLimits {
  double max_bolus_u = 15;
  double max_iob_u = 12;            // boluses are cut so insulin on board stays below this
  double suspend_below_mg_dl = 70;  // no insulin at all while CGM is below
};

// Insulin on board from boluses (and basal above the scheduled rate), with the two-compartment
// absorption curve: the fraction of a dose still to act t minutes later is (1 + t/τ)·e^(−t/τ),
// τ = 55 min (peak action ≈ 55 min, ~4 h duration).
class InsulinOnBoard {
 public:
  void Add(double t_min, double units);
  [[nodiscard]] double At(double t_min) const;

 private:
  struct Dose {
    double t, units;
  };
  std::vector<Dose> doses_;
};

class GlucoseController {
 public:
  virtual ~GlucoseController() = default;
  [[nodiscard]] virtual std::string_view Name() const = 0;
  [[nodiscard]] virtual Result<InsulinRequest> Decide(const ControllerInput& in) = 0;
  // What the pump delivered for the last request (after quantization and caps).
  virtual void Delivered(double t_min, const models::PumpDelivery& delivery) = 0;
  // The controller's twin, if it has one (MPC); nullptr otherwise.
  [[nodiscard]] virtual estimate::GlucoseFilter* Twin() { return nullptr; }
};

enum class ControllerKind { kBasalBolus, kPid, kMpc };
// "bb", "pid", "mpc"; the error names the choices.
[[nodiscard]] Result<ControllerKind> ParseControllerKind(std::string_view text);

// A controller for `patient`. MPC's twin starts from the patient's parameters with insulin
// sensitivity (Vmx) and meal absorption (kabs) estimated online.
[[nodiscard]] Result<std::unique_ptr<GlucoseController>> MakeController(
    ControllerKind kind, const sim::Model& model, const models::VirtualPatient& patient,
    const SafetyLimits& limits = {});

}  // namespace medtwin::decide
