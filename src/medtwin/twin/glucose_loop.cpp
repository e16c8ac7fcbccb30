#include "medtwin/twin/glucose_loop.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "medtwin/estimate/glucose_filter.h"
#include "medtwin/monitor/alerts.h"
#include "medtwin/monitor/hypoglycemia.h"

namespace medtwin::twin {
namespace {

constexpr double kControlMin = 5;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Result<double> ParseNumberText(std::string_view text, const std::string& what) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return InvalidArgument("--meals", what);
  }
  return v;
}

// The run's alerts: the same lifecycle as the live twin's (an AlertBook), with the time of each
// alert raised kept for scoring (the book itself keeps only the latest 50).
class LoopAlerts final : public monitor::AlertSink {
 public:
  explicit LoopAlerts(std::string patient) : book_(std::move(patient)) {}
  void Raise(std::string_view kind, monitor::Severity severity, Instant t,
             std::string message) override {
    const monitor::Alert* a = book_.Raise(kind, severity, t, std::move(message), &NextId);
    if (a != nullptr && a->escalations == 0 && a->raised_at == t) {
      raised_min_.push_back(static_cast<double>(t.us_since_epoch) / 6e7);
    }
  }
  void Resolve(std::string_view kind, Instant t) override { book_.Resolve(kind, t); }
  [[nodiscard]] const std::vector<double>& raised_min() const { return raised_min_; }

 private:
  static std::uint64_t NextId() { return 0; }  // ids are never shown
  monitor::AlertBook book_;
  std::vector<double> raised_min_;
};

// Minutes since the run's start as an instant (the epoch is the start).
Instant AtMinute(double t_min) {
  return Instant{static_cast<std::int64_t>(std::llround(t_min * 6e7))};
}

}  // namespace

Result<std::vector<MealTime>> ParseMealSpec(std::string_view spec) {
  std::vector<MealTime> out;
  if (spec.empty()) return out;
  std::size_t start = 0;
  int item = 0;
  while (start <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string_view part = spec.substr(start, comma - start);
    ++item;
    const std::string where = "item " + std::to_string(item) + " '" + std::string(part) + "'";
    const auto eq = part.find('=');
    const auto colon = part.find(':');
    if (eq == std::string_view::npos || colon == std::string_view::npos || colon > eq) {
      return InvalidArgument("--meals", where + " is not HH:MM=GRAMS, e.g. 07:30=45");
    }
    MEDTWIN_TRY(double hh,
                ParseNumberText(part.substr(0, colon), where + ": hour is not a number"));
    MEDTWIN_TRY(double mm, ParseNumberText(part.substr(colon + 1, eq - colon - 1),
                                           where + ": minute is not a number"));
    MEDTWIN_TRY(double g, ParseNumberText(part.substr(eq + 1), where + ": grams is not a number"));
    if (hh < 0 || hh > 23 || mm < 0 || mm >= 60 || hh != std::floor(hh) || mm != std::floor(mm)) {
      return InvalidArgument("--meals", where + ": time of day must be 00:00..23:59");
    }
    if (!(g > 0)) return InvalidArgument("--meals", where + ": carbohydrate must be > 0 g");
    if (g > 500) return InvalidArgument("--meals", where + ": more than 500 g in one meal");
    const double minute = hh * 60 + mm;
    if (std::fmod(minute, kControlMin) != 0) {
      return InvalidArgument("--meals", where + ": time must be on the 5-min grid");
    }
    for (const auto& m : out) {
      if (m.minute_of_day == minute)
        return InvalidArgument("--meals", where + ": time given twice");
    }
    out.push_back({minute, g});
    if (comma == spec.size()) break;
    start = comma + 1;
  }
  std::sort(out.begin(), out.end(),
            [](const MealTime& a, const MealTime& b) { return a.minute_of_day < b.minute_of_day; });
  return out;
}

Result<LoopOutcome> RunGlucoseLoop(const sim::Model& model, const models::VirtualPatient& patient,
                                   const LoopOptions& options) {
  if (options.days < 1) return InvalidArgument("--days", "must be at least 1");
  LoopOutcome out;
  out.patient = patient.name;
  out.cohort = patient.cohort;
  MEDTWIN_TRY(sim::LiveSimulation body, sim::LiveSimulation::Create(model, patient.params, 0));
  MEDTWIN_TRY(auto controller,
              decide::MakeController(options.controller, model, patient, options.limits));
  // The twin that watches: the controller's own (MPC) or a filter of its own.
  std::optional<estimate::GlucoseFilter> own_filter;
  estimate::GlucoseFilter* twin = nullptr;
  if (options.alerts) {
    twin = controller->Twin();
    if (twin == nullptr) {
      MEDTWIN_TRY(auto f, estimate::GlucoseFilter::Create(model, patient.params, 0));
      f.inputs().basal_u_per_min = patient.basal_u_per_min;
      own_filter.emplace(std::move(f));
      twin = &*own_filter;
    }
  }
  models::CgmSensor cgm(options.cgm, options.seed);
  const models::InsulinPump pump(options.pump);
  monitor::HypoglycemiaAlert alert;
  LoopAlerts alerts(patient.name);
  models::GlucoseInputs inputs;
  inputs.basal_u_per_min = patient.basal_u_per_min;

  const double end = options.days * 1440.0;
  std::vector<double> t_all, bg_all, forecast_for;  // forecast_for[k]: made for t_all[k]
  double basal_total = 0, bolus_total = 0;
  std::vector<double> pending_forecast;  // ring: forecast made at step k for step k + 6
  for (double t = 0; t < end; t += kControlMin) {
    const double bg = body.Output(0);
    const double reading = cgm.Read(body.Output(1));
    double meal = 0;
    const double tod = std::fmod(t, 1440);
    for (const auto& m : options.meals) {
      if (m.minute_of_day == tod) meal += m.carbs_g;
    }
    if (meal > 0) inputs.StartMeal(t, meal);
    // The watching twin (when it is not the controller's) assimilates before the decision.
    if (own_filter) {
      if (t > own_filter->time()) MEDTWIN_RETURN_IF_ERROR(own_filter->Predict(t));
      MEDTWIN_RETURN_IF_ERROR(own_filter->Update(reading));
      if (meal > 0) own_filter->inputs().StartMeal(t, meal);
    }
    MEDTWIN_TRY(decide::InsulinRequest request, controller->Decide({t, reading, meal}));
    const models::PumpDelivery delivered = pump.Deliver(request.basal_u_per_min, request.bolus_u);
    controller->Delivered(t, delivered);
    if (own_filter) {
      own_filter->inputs().basal_u_per_min = delivered.basal_u_per_min;
      own_filter->inputs().GiveBolus(t, delivered.bolus_u);
    }
    if (request.suspended) ++out.suspended_periods;
    inputs.basal_u_per_min = delivered.basal_u_per_min;
    inputs.GiveBolus(t, delivered.bolus_u);
    basal_total += delivered.basal_u_per_min * kControlMin;
    bolus_total += delivered.bolus_u;

    double forecast30 = kNaN;
    if (twin != nullptr) {
      MEDTWIN_TRY(std::vector<double> path, twin->ForecastMean(30, kControlMin));
      monitor::FeedPredictedHypoglycemia(alert, alerts, AtMinute(t), t, reading, path);
      forecast30 = path.back();
      if (options.forecast_bands && options.keep_trace) {
        MEDTWIN_TRY(auto band, twin->Forecast(120, 30));  // at 30, 60, 90, 120 min
        out.trace.ahead30.push_back(band[0]);
        out.trace.ahead60.push_back(band[1]);
        out.trace.ahead120.push_back(band[3]);
      }
    }
    t_all.push_back(t);
    bg_all.push_back(bg);
    forecast_for.push_back(kNaN);
    pending_forecast.push_back(forecast30);
    if (pending_forecast.size() > 6) {
      forecast_for.back() = pending_forecast[pending_forecast.size() - 7];
    }
    if (options.keep_trace) {
      out.trace.t_min.push_back(t);
      out.trace.bg_mg_dl.push_back(bg);
      out.trace.cgm_mg_dl.push_back(reading);
      out.trace.basal_u_per_min.push_back(delivered.basal_u_per_min);
      out.trace.bolus_u.push_back(delivered.bolus_u);
      out.trace.meal_g.push_back(meal);
      out.trace.forecast30_mg_dl.push_back(forecast_for.back());
    }
    MEDTWIN_RETURN_IF_ERROR(models::AdvanceGlucose(body, inputs, t + kControlMin));
  }
  out.metrics = decide::ComputeGlycemicMetrics(bg_all);
  out.basal_u_per_day = basal_total / options.days;
  out.bolus_u_per_day = bolus_total / options.days;
  out.alerts = monitor::EvaluateHypoAlerts(t_all, bg_all, alerts.raised_min());
  double ss = 0;
  int n = 0;
  for (std::size_t k = 0; k < t_all.size(); ++k) {
    if (std::isnan(forecast_for[k])) continue;
    ss += (forecast_for[k] - bg_all[k]) * (forecast_for[k] - bg_all[k]);
    ++n;
  }
  out.forecast30_rmse_mg_dl = n > 0 ? std::sqrt(ss / n) : kNaN;
  return out;
}

}  // namespace medtwin::twin
