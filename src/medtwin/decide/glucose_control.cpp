#include "medtwin/decide/glucose_control.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "medtwin/decide/glycemic_metrics.h"

namespace medtwin::decide {
namespace {

constexpr double kTauIobMin = 55;

// Applies the limits common to all controllers.
InsulinRequest ApplySafety(InsulinRequest r, double cgm, double iob, const SafetyLimits& lim) {
  if (cgm < lim.suspend_below_mg_dl) return {0, 0, true};
  r.basal_u_per_min = std::max(0.0, r.basal_u_per_min);
  r.bolus_u = std::clamp(r.bolus_u, 0.0, lim.max_bolus_u);
  r.bolus_u = std::min(r.bolus_u, std::max(0.0, lim.max_iob_u - iob));
  return r;
}

// A meal bolus that the suspension stopped is given once glucose has recovered (CGM at or
// above 90 mg/dL) if the meal was less than an hour ago, instead of being lost.
class DeferredMealBolus {
 public:
  void Defer(double t_min, double units) {
    t_ = t_min;
    units_ += units;
  }
  double Release(double t_min, double cgm) {
    if (units_ <= 0) return 0;
    if (t_min - t_ > 60) {
      units_ = 0;
      return 0;
    }
    if (cgm < 90) return 0;
    const double u = units_;
    units_ = 0;
    return u;
  }

 private:
  double t_ = 0, units_ = 0;
};

class BasalBolusController final : public GlucoseController {
 public:
  BasalBolusController(const models::VirtualPatient& p, SafetyLimits lim) : p_(p), lim_(lim) {}
  std::string_view Name() const override { return "bb"; }

  Result<InsulinRequest> Decide(const ControllerInput& in) override {
    InsulinRequest r{p_.basal_u_per_min, 0, false};
    const double iob = iob_.At(in.t_min);
    if (in.meal_g > 0) {
      r.bolus_u = in.meal_g / p_.carb_ratio_g_per_u;
      if (in.cgm_mg_dl > kCorrectAbove) {
        r.bolus_u += std::max(0.0, (in.cgm_mg_dl - kTarget) / p_.correction_mg_dl_per_u - iob);
      }
      if (in.cgm_mg_dl < lim_.suspend_below_mg_dl) deferred_.Defer(in.t_min, r.bolus_u);
    } else {
      r.bolus_u = deferred_.Release(in.t_min, in.cgm_mg_dl);
    }
    return ApplySafety(r, in.cgm_mg_dl, iob, lim_);
  }
  void Delivered(double t, const models::PumpDelivery& d) override { iob_.Add(t, d.bolus_u); }

 private:
  static constexpr double kTarget = 140, kCorrectAbove = 150;
  const models::VirtualPatient& p_;
  SafetyLimits lim_;
  InsulinOnBoard iob_;
  DeferredMealBolus deferred_;
};

class PidController final : public GlucoseController {
 public:
  PidController(const models::VirtualPatient& p, SafetyLimits lim) : p_(p), lim_(lim) {
    // A correction factor's worth of insulin per mg/dL, spread over 3 h.
    kp_ = 1.0 / (p.correction_mg_dl_per_u * 180.0);
  }
  std::string_view Name() const override { return "pid"; }

  Result<InsulinRequest> Decide(const ControllerInput& in) override {
    const double e = in.cgm_mg_dl - kTarget;
    if (have_last_) {
      const double dt = in.t_min - last_t_;
      integral_ += e * dt;
      // Anti-windup: the integral term stays within [−basal, +3·basal].
      const double limit_hi = 3 * p_.basal_u_per_min * kTi / kp_;
      const double limit_lo = -p_.basal_u_per_min * kTi / kp_;
      integral_ = std::clamp(integral_, limit_lo, limit_hi);
    }
    // Derivative over the last 15 min of readings: CGM noise makes a 5-min slope useless.
    history_.push_back({in.t_min, in.cgm_mg_dl});
    while (history_.size() > 1 && history_.front().first < in.t_min - 15) {
      history_.erase(history_.begin());
    }
    double slope = 0;
    if (history_.size() > 1 && in.t_min > history_.front().first) {
      slope = (in.cgm_mg_dl - history_.front().second) / (in.t_min - history_.front().first);
    }
    last_t_ = in.t_min;
    have_last_ = true;
    const double u = kp_ * (e + integral_ / kTi + kTd * slope);
    const double iob = iob_.At(in.t_min);
    // Insulin feedback, simplified: while a bolus is still acting (> 0.5 U on board) the PID
    // may lower the basal but not add to it, so the meal's rise is not dosed twice.
    const double ceiling = iob > 0.5 ? p_.basal_u_per_min : 5 * p_.basal_u_per_min;
    InsulinRequest r{std::clamp(p_.basal_u_per_min + u, 0.0, ceiling), 0, false};
    if (in.meal_g > 0) {
      r.bolus_u = std::max(0.0, in.meal_g / p_.carb_ratio_g_per_u - iob);
      if (in.cgm_mg_dl < lim_.suspend_below_mg_dl) deferred_.Defer(in.t_min, r.bolus_u);
    } else {
      r.bolus_u = deferred_.Release(in.t_min, in.cgm_mg_dl);
    }
    return ApplySafety(r, in.cgm_mg_dl, iob, lim_);
  }
  void Delivered(double t, const models::PumpDelivery& d) override { iob_.Add(t, d.bolus_u); }

 private:
  static constexpr double kTarget = 120, kTi = 450, kTd = 66;
  const models::VirtualPatient& p_;
  SafetyLimits lim_;
  double kp_;
  double integral_ = 0, last_t_ = 0;
  bool have_last_ = false;
  std::vector<std::pair<double, double>> history_;
  InsulinOnBoard iob_;
  DeferredMealBolus deferred_;
};

class MpcController final : public GlucoseController {
 public:
  MpcController(const models::VirtualPatient& p, SafetyLimits lim, estimate::GlucoseFilter filter,
                sim::LiveSimulation plan)
      : p_(p), lim_(lim), filter_(std::move(filter)), plan_(std::move(plan)) {}
  std::string_view Name() const override { return "mpc"; }
  estimate::GlucoseFilter* Twin() override { return &filter_; }

  Result<InsulinRequest> Decide(const ControllerInput& in) override {
    if (in.t_min > filter_.time()) MEDTWIN_RETURN_IF_ERROR(filter_.Predict(in.t_min));
    MEDTWIN_RETURN_IF_ERROR(filter_.Update(in.cgm_mg_dl));
    if (in.meal_g > 0) filter_.inputs().StartMeal(in.t_min, in.meal_g);
    const double iob = iob_.At(in.t_min);
    if (in.cgm_mg_dl < lim_.suspend_below_mg_dl) return InsulinRequest{0, 0, true};

    std::vector<double> boluses{0};
    if (in.meal_g > 0) {
      const double full = in.meal_g / p_.carb_ratio_g_per_u;
      boluses = {0.6 * full, 0.8 * full, full, 1.2 * full};
    } else if (filter_.bg_mg_dl() > 180) {
      const double corr = (filter_.bg_mg_dl() - 140) / p_.correction_mg_dl_per_u;
      boluses = {0, 0.5 * corr, corr};
    }
    const double basal = p_.basal_u_per_min;
    static constexpr double kMultipliers[] = {0, 0.5, 1, 1.5, 2, 3};
    plan_.SetParams(filter_.Parameters());
    const auto start = filter_.MeanCheckpoint();
    double best_cost = std::numeric_limits<double>::infinity();
    InsulinRequest best{basal, 0, false};
    for (double bolus : boluses) {
      const double allowed =
          std::min({bolus, lim_.max_bolus_u, std::max(0.0, lim_.max_iob_u - iob)});
      for (double m : kMultipliers) {
        MEDTWIN_TRY(double cost, PlanCost(start, in.t_min, allowed, m * basal));
        if (cost < best_cost) {
          best_cost = cost;
          best = {m * basal, allowed, false};
        }
      }
    }
    return ApplySafety(best, in.cgm_mg_dl, iob, lim_);
  }

  void Delivered(double t, const models::PumpDelivery& d) override {
    iob_.Add(t, d.bolus_u);
    filter_.inputs().basal_u_per_min = d.basal_u_per_min;
    filter_.inputs().GiveBolus(t, d.bolus_u);
  }

 private:
  static constexpr double kHorizonMin = 240, kHoldMin = 30, kSampleMin = 15;

  // Kovatchev risk over the horizon (asymmetric: a fall to 70 costs like a rise to ~280), a
  // hard penalty for any predicted value below 70, and a little for insulin beyond basal.
  Result<double> PlanCost(const sim::LiveSimulation::Checkpoint& start, double t0, double bolus_u,
                          double basal_u_per_min) {
    plan_.Restore(start);
    models::GlucoseInputs inputs = filter_.inputs();
    inputs.GiveBolus(t0, bolus_u);
    inputs.basal_u_per_min = basal_u_per_min;
    double cost = 0;
    const double vg = plan_.params()[models::uva::kParamVg];
    for (double t = t0 + kSampleMin; t <= t0 + kHorizonMin + 1e-9; t += kSampleMin) {
      if (t > t0 + kHoldMin) inputs.basal_u_per_min = p_.basal_u_per_min;
      MEDTWIN_RETURN_IF_ERROR(models::AdvanceGlucose(plan_, inputs, t));
      const double bg = plan_.state()[models::uva::kGp] / vg;
      const double f = GlucoseRiskScale(bg);
      cost += 10 * f * f;
      if (bg < 70) cost += 1000;
    }
    const double extra_u = bolus_u + (basal_u_per_min - p_.basal_u_per_min) * kHoldMin;
    return cost + 0.1 * extra_u * extra_u;
  }

  const models::VirtualPatient& p_;
  SafetyLimits lim_;
  estimate::GlucoseFilter filter_;
  sim::LiveSimulation plan_;
  InsulinOnBoard iob_;
};

}  // namespace

void InsulinOnBoard::Add(double t_min, double units) {
  if (units > 0) doses_.push_back({t_min, units});
  // Doses older than 8 h have < 0.1 % left.
  std::erase_if(doses_, [t_min](const Dose& d) { return t_min - d.t > 480; });
}

double InsulinOnBoard::At(double t_min) const {
  double total = 0;
  for (const Dose& d : doses_) {
    const double s = std::max(0.0, t_min - d.t) / kTauIobMin;
    total += d.units * (1 + s) * std::exp(-s);
  }
  return total;
}

Result<ControllerKind> ParseControllerKind(std::string_view text) {
  if (text == "bb") return ControllerKind::kBasalBolus;
  if (text == "pid") return ControllerKind::kPid;
  if (text == "mpc") return ControllerKind::kMpc;
  return InvalidArgument("--controller",
                         "unknown controller '" + std::string(text) + "' (choose bb, pid or mpc)");
}

Result<std::unique_ptr<GlucoseController>> MakeController(ControllerKind kind,
                                                          const sim::Model& model,
                                                          const models::VirtualPatient& patient,
                                                          const SafetyLimits& limits) {
  switch (kind) {
    case ControllerKind::kBasalBolus:
      return std::unique_ptr<GlucoseController>(new BasalBolusController(patient, limits));
    case ControllerKind::kPid:
      return std::unique_ptr<GlucoseController>(new PidController(patient, limits));
    case ControllerKind::kMpc: {
      MEDTWIN_TRY(auto filter, estimate::GlucoseFilter::Create(model, patient.params, 0));
      filter.inputs().basal_u_per_min = patient.basal_u_per_min;
      sim::SimOptions options;
      options.tolerances.rtol = 1e-6;
      options.tolerances.atol = 1e-8;
      MEDTWIN_TRY(auto plan, sim::LiveSimulation::Create(model, patient.params, 0, options));
      return std::unique_ptr<GlucoseController>(
          new MpcController(patient, limits, std::move(filter), std::move(plan)));
    }
  }
  return InvalidArgument("--controller", "unknown controller");
}

}  // namespace medtwin::decide
