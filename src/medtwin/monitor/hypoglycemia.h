// monitor/hypoglycemia.h — the predictive hypoglycemia alert: raised when the twin's forecast
// falls below 70 mg/dL within the next 30 min while the current reading is not yet below 70
// (below it, the plain hypoglycemia alert speaks), cleared (hysteresis) once the forecast stays
// above 80 mg/dL; and how well such alerts did against what happened: hypoglycemic events
// caught, lead time, false alerts. The one rule: the live twin, the closed-loop runs and the
// trials all feed it.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "medtwin/core/time.h"
#include "medtwin/monitor/alerts.h"

namespace medtwin::monitor {

// The alert the rule raises (severity high), as the live twin lists it.
inline constexpr std::string_view kPredictedHypoglycemiaKind = "hypoglycemia-predicted";

struct HypoAlertOptions {
  double threshold_mg_dl = 70;
  double clear_above_mg_dl = 80;
};

class HypoglycemiaAlert {
 public:
  explicit HypoglycemiaAlert(HypoAlertOptions options = {}) : options_(options) {}
  // Feeds the current reading and the forecast BG path for the next horizon; returns true when
  // an alert is raised now (not while it stays active).
  bool Feed(double t_min, double current_mg_dl, std::span<const double> forecast_bg_mg_dl);
  [[nodiscard]] bool active() const { return active_; }
  [[nodiscard]] const std::vector<double>& raised_at() const { return raised_; }

 private:
  HypoAlertOptions options_;
  bool active_ = false;
  std::vector<double> raised_;
};

// Feeds `rule` with the reading and forecast at `t_min` (`at` as a wall-clock instant) and
// carries its decision into `alerts`: a raise names the lowest forecast; clearing resolves.
// The one path from the rule to an alert, for the live twin and the closed-loop runs alike.
void FeedPredictedHypoglycemia(HypoglycemiaAlert& rule, AlertSink& alerts, Instant at, double t_min,
                               double current_mg_dl, std::span<const double> forecast_bg_mg_dl);

struct AlertPerformance {
  int events = 0;    // BG crossings below the threshold (from at or above)
  int detected = 0;  // events with an alert raised in the hour before
  int alerts = 0;
  int false_alerts = 0;  // alerts with no event in the following hour (and BG not low yet)
  std::vector<double> lead_times_min;  // per detected event: event time − earliest alert
  [[nodiscard]] double MeanLeadMin() const;
};

// `t`, `bg`: the true glucose trace; `alert_times`: when alerts were raised.
AlertPerformance EvaluateHypoAlerts(std::span<const double> t, std::span<const double> bg,
                                    std::span<const double> alert_times,
                                    double threshold_mg_dl = 70, double window_min = 60);

}  // namespace medtwin::monitor
