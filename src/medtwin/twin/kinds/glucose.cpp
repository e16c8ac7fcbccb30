#include "medtwin/twin/kinds/glucose.h"

#include <algorithm>
#include <cstdio>

#include "medtwin/core/format.h"
#include "medtwin/decide/glucose_control.h"
#include "medtwin/estimate/glucose_filter.h"
#include "medtwin/models/glucose.h"
#include "medtwin/models/registry.h"
#include "medtwin/monitor/hypoglycemia.h"

namespace medtwin::twin {
namespace {

// What a glucose what-if needs, copied off the twin so it runs on any thread.
struct GlucoseSnapshot {
  const sim::Model* model = nullptr;
  std::vector<double> parameters;
  sim::LiveSimulation::Checkpoint start;
  models::GlucoseInputs inputs;
  double t0_min = 0;
};

Result<std::unique_ptr<WhatIfOutcome>> GlucoseWhatIf(const GlucoseSnapshot& g,
                                                     const GlucoseWhatIfPlan& plan) {
  const double horizon = plan.horizon_min;
  if (!(horizon >= 15 && horizon <= 1440)) return InvalidArgument("horizon_min", "15–1440");
  sim::SimOptions options;
  options.tolerances.rtol = 1e-6;
  options.tolerances.atol = 1e-8;
  MEDTWIN_TRY(sim::LiveSimulation sim,
              sim::LiveSimulation::Create(*g.model, g.parameters, 0, options));
  const double vg = g.parameters[models::uva::kParamVg];
  models::GlucoseInputs proposed = g.inputs;
  if (plan.basal_u_per_h) {
    if (!(*plan.basal_u_per_h >= 0 && *plan.basal_u_per_h <= 40)) {
      return InvalidArgument("basal_u_per_h", "0–40 U/h");
    }
    proposed.basal_u_per_min = *plan.basal_u_per_h / 60;
  }
  // Meals and boluses at their offsets, applied when the simulation reaches them.
  struct Item {
    double at;
    bool meal;
    double amount;
  };
  std::vector<Item> items;
  for (const bool meal : {true, false}) {
    for (const auto& m : meal ? plan.meals : plan.insulin) {
      if (!(m.in_min >= 0 && m.in_min <= horizon && m.amount > 0 &&
            m.amount <= (meal ? 500 : 50))) {
        return InvalidArgument(meal ? "meals" : "insulin",
                               meal ? "each needs in_min (0–horizon) and grams (0–500)"
                                    : "each needs in_min (0–horizon) and units (0–50)");
      }
      items.push_back({m.in_min, meal, m.amount});
    }
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.at < b.at; });
  // BG every 15 min from the twin's mean state under `inputs`, with `plan_items` given on the
  // way (none for the current inputs).
  auto run = [&](models::GlucoseInputs inputs,
                 const std::vector<Item>& plan_items) -> Result<GlucoseWhatIfRun> {
    sim.Restore(g.start);
    const double t0 = g.t0_min;
    GlucoseWhatIfRun out;
    double lo = 1e9, hi = 0;
    std::size_t next = 0;
    for (double dt = 15; dt <= horizon + 1e-9; dt += 15) {
      for (; next < plan_items.size() && plan_items[next].at < dt; ++next) {
        const Item& it = plan_items[next];
        MEDTWIN_RETURN_IF_ERROR(models::AdvanceGlucose(sim, inputs, t0 + it.at));
        if (it.meal) {
          inputs.StartMeal(t0 + it.at, it.amount);
        } else {
          inputs.GiveBolus(t0 + it.at, it.amount);
        }
      }
      MEDTWIN_RETURN_IF_ERROR(models::AdvanceGlucose(sim, inputs, t0 + dt));
      const double bg = sim.state()[models::uva::kGp] / vg;
      lo = std::min(lo, bg);
      hi = std::max(hi, bg);
      out.points.push_back({dt, bg});
    }
    out.lowest_mg_dl = lo;
    out.highest_mg_dl = hi;
    return out;
  };
  auto out = std::make_unique<GlucoseWhatIfOutcome>();
  out->model = "glucose";
  MEDTWIN_TRY(out->current, run(g.inputs, {}));
  MEDTWIN_TRY(out->proposed, run(proposed, items));
  return std::unique_ptr<WhatIfOutcome>(std::move(out));
}

class GlucoseTwin final : public TwinKind {
 public:
  std::string_view name() const override { return "glucose"; }

  void Observe(const record::Observation& o, TwinContext& ctx) override {
    if (o.code != record::loinc::kCgmGlucose) return;
    State* g = Start(ctx.record, o.time);
    if (g == nullptr) return;
    const double t = Minutes(*g, o.time);
    bool ok = t >= g->filter.time();
    if (ok && t > g->filter.time()) ok = g->filter.Predict(t).ok();
    if (ok) ok = g->filter.Update(o.value).ok();
    if (!ok) return;
    auto path = g->filter.ForecastMean(30, 5);
    if (path.ok() && !path->empty()) {
      g->forecast30_mg_dl = path->back();
      g->lowest30_mg_dl = *std::min_element(path->begin(), path->end());
      // The rule and its path to an alert that the closed-loop runs and trials score
      // (docs/glucose.md).
      monitor::FeedPredictedHypoglycemia(g->hypo_alert, ctx, o.time, t, o.value, *path);
      g->predicted_hypo = g->hypo_alert.active();
    }
    if (!ctx.record.closed_loop.empty()) ctx.update.command = CloseTheLoop(*g, ctx.record, t, o);
  }

  void OnEvent(const record::Event& e, TwinContext& ctx) override {
    if (e.type != "meal" && e.type != "insulin" && e.type != "basal") return;
    State* g = Start(ctx.record, e.time);
    if (g == nullptr) return;
    const double t = Minutes(*g, e.time);
    if (t < g->filter.time()) return;  // the filter has moved past it
    if (t > g->filter.time() && !g->filter.Predict(t).ok()) return;
    auto& in = g->filter.inputs();
    if (e.type == "meal") {
      in.StartMeal(t, e.amount);
      if (!ctx.record.closed_loop.empty()) g->announced_meal_g += e.amount;
    }
    if (e.type == "insulin") in.GiveBolus(t, e.amount);
    if (e.type == "basal") in.basal_u_per_min = e.rate / 60.0;
  }

  std::shared_ptr<const KindView> View(const TwinFacts& ctx, bool forecast_bands) override {
    if (!state_) return nullptr;
    auto& g = *state_;
    auto view = std::make_shared<GlucoseView>();
    const auto est = g.filter.EstimatedParameters();
    const auto& names = g.filter.estimated_names();
    for (std::size_t k = 0; k < est.size(); ++k) {
      view->estimated_parameters.emplace_back(names[k], est[k]);
    }
    const auto at = [&](double minutes) {
      return Instant{g.origin.us_since_epoch + static_cast<std::int64_t>(minutes * 6e7)};
    };
    view->parameters_from = g.virtual_patient;
    view->time = at(g.filter.time());
    view->bg_estimate_mg_dl = g.filter.bg_mg_dl();
    view->forecast30_mg_dl = g.forecast30_mg_dl;
    view->lowest_next_30min_mg_dl = g.lowest30_mg_dl;
    view->hypoglycemia_predicted = g.predicted_hypo;
    view->closed_loop = ctx.record.closed_loop;
    view->last_command = g.last_command;
    if (forecast_bands) {
      auto& bands = view->forecast.emplace();
      auto f = g.filter.Forecast(120, 30);
      if (f.ok()) {
        // Steps at 30, 60, 90 and 120 min: report 30, 60 and 120 (by index: the filter's
        // clock is in fractional minutes, so comparing times would be fragile).
        for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
          if (k >= f->size()) break;
          const auto& p = (*f)[k];
          bands.push_back({at(p.t_min), static_cast<int>(30 * (k + 1)), p.mean_mg_dl, p.p05_mg_dl,
                           p.p95_mg_dl});
        }
      }
    }
    return view;
  }

  bool AnswersWhatIf(const TwinFacts&, std::string_view model) const override {
    return model == "glucose";
  }

  Result<WhatIfTask> PrepareWhatIf(const TwinFacts&, const WhatIfPlan& asked, Instant) override {
    const auto* plan = dynamic_cast<const GlucoseWhatIfPlan*>(&asked);
    if (plan == nullptr) return InvalidArgument("model", "not a glucose what-if");
    if (!state_) return InvalidArgument("model", "the glucose twin has no data yet");
    auto uva = models::FindModel("uva_padova");
    if (!uva.ok()) return uva.error();
    GlucoseSnapshot snap{*uva, state_->filter.Parameters(), state_->filter.MeanCheckpoint(),
                         state_->filter.inputs(), state_->filter.time()};
    return WhatIfTask([snap = std::move(snap), plan = *plan] { return GlucoseWhatIf(snap, plan); });
  }

  std::size_t ApproxBytes() const override { return sizeof(*this) + (state_ ? sizeof(State) : 0); }

 private:
  struct State {
    Instant origin;
    estimate::GlucoseFilter filter;
    double forecast30_mg_dl = 0;
    double lowest30_mg_dl = 0;
    bool predicted_hypo = false;
    std::string virtual_patient;
    // Closed loop (record.closed_loop): the controller, carbohydrate announced since its last
    // decision, and its last command.
    std::unique_ptr<decide::GlucoseController> controller;
    double announced_meal_g = 0;
    std::optional<record::InsulinCommand> last_command;
    monitor::HypoglycemiaAlert hypo_alert;  // the same rule the trials score
  };

  static double Minutes(const State& g, Instant t) {
    return static_cast<double>(t.us_since_epoch - g.origin.us_since_epoch) / 6e7;
  }

  // Started at the first CGM reading or glucose event, with the patient's own parameters when
  // a virtual patient is named (demo, trials); otherwise adult#001's as the prior, insulin
  // sensitivity and meal absorption estimated online. Null if the model cannot be made.
  State* Start(const record::PatientRecord& record, Instant t) {
    if (state_) return state_.get();
    const std::string name =
        record.virtual_patient.empty() ? std::string("adult#001") : record.virtual_patient;
    auto vp = models::FindVirtualPatient(name);
    auto model = models::FindModel("uva_padova");
    if (!vp.ok() || !model.ok()) return nullptr;
    auto filter = estimate::GlucoseFilter::Create(**model, (*vp)->params, 0);
    if (!filter.ok()) return nullptr;
    filter->inputs().basal_u_per_min = (*vp)->basal_u_per_min;
    state_ = std::make_unique<State>(State{t, std::move(*filter), 0, 0, false, name, nullptr, 0,
                                           std::nullopt, monitor::HypoglycemiaAlert()});
    return state_.get();
  }

  // One control decision on a CGM reading: the controller's request through the pump's limits,
  // applied to the twin's inputs (the pump is assumed to deliver what it is commanded) and
  // returned as the command to send.
  static std::optional<record::InsulinCommand> CloseTheLoop(State& g,
                                                            const record::PatientRecord& record,
                                                            double t_min,
                                                            const record::Observation& cgm) {
    if (!g.controller) {
      auto kind = decide::ParseControllerKind(record.closed_loop);
      auto vp = models::FindVirtualPatient(g.virtual_patient);
      auto model = models::FindModel("uva_padova");
      if (!kind.ok() || !vp.ok() || !model.ok()) return std::nullopt;
      auto c = decide::MakeController(*kind, **model, **vp);
      if (!c.ok()) return std::nullopt;
      g.controller = std::move(*c);
    }
    decide::ControllerInput in;
    in.t_min = t_min;
    in.cgm_mg_dl = cgm.value;
    in.meal_g = std::exchange(g.announced_meal_g, 0.0);
    auto request = g.controller->Decide(in);
    if (!request.ok()) return std::nullopt;
    const models::InsulinPump pump{models::PumpSpec{}};
    const models::PumpDelivery delivery = pump.Deliver(request->basal_u_per_min, request->bolus_u);
    g.controller->Delivered(t_min, delivery);
    auto& inputs = g.filter.inputs();
    inputs.basal_u_per_min = delivery.basal_u_per_min;
    if (delivery.bolus_u > 0) inputs.GiveBolus(t_min, delivery.bolus_u);
    record::InsulinCommand c;
    c.patient = record.id;
    c.controller = std::string(g.controller->Name());
    c.time = cgm.time;
    c.cgm_mg_dl = cgm.value;
    c.basal_u_per_h = delivery.basal_u_per_min * 60.0;
    c.bolus_u = delivery.bolus_u;
    c.suspended = request->suspended;
    c.limited = delivery.limited;
    g.last_command = c;
    return c;
  }

  std::unique_ptr<State> state_;
};

}  // namespace

bool WantsGlucoseTwin(const record::PatientRecord& record) {
  return std::find(record.models.begin(), record.models.end(), "glucose") != record.models.end();
}

std::unique_ptr<TwinKind> MakeGlucoseTwin(const record::PatientRecord&) {
  return std::make_unique<GlucoseTwin>();
}

}  // namespace medtwin::twin
