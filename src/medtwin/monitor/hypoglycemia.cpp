#include "medtwin/monitor/hypoglycemia.h"

#include <algorithm>

#include "medtwin/core/format.h"

namespace medtwin::monitor {

void FeedPredictedHypoglycemia(HypoglycemiaAlert& rule, AlertSink& alerts, Instant at, double t_min,
                               double current_mg_dl, std::span<const double> forecast) {
  const bool was_active = rule.active();
  if (rule.Feed(t_min, current_mg_dl, forecast)) {
    const double lowest = *std::min_element(forecast.begin(), forecast.end());
    alerts.Raise(kPredictedHypoglycemiaKind, Severity::kHigh, at,
                 FormatPrintf("glucose predicted to fall to %.0f mg/dL within 30 min", lowest));
  } else if (was_active && !rule.active()) {
    alerts.Resolve(kPredictedHypoglycemiaKind, at);
  }
}

bool HypoglycemiaAlert::Feed(double t_min, double current_mg_dl, std::span<const double> forecast) {
  if (forecast.empty()) return false;
  const double lowest = *std::min_element(forecast.begin(), forecast.end());
  if (!active_ && lowest < options_.threshold_mg_dl && current_mg_dl >= options_.threshold_mg_dl) {
    active_ = true;
    raised_.push_back(t_min);
    return true;
  }
  if (active_ && lowest > options_.clear_above_mg_dl) active_ = false;
  return false;
}

double AlertPerformance::MeanLeadMin() const {
  if (lead_times_min.empty()) return 0;
  double s = 0;
  for (double v : lead_times_min) s += v;
  return s / static_cast<double>(lead_times_min.size());
}

AlertPerformance EvaluateHypoAlerts(std::span<const double> t, std::span<const double> bg,
                                    std::span<const double> alert_times, double threshold,
                                    double window) {
  AlertPerformance out;
  std::vector<double> events;
  for (std::size_t i = 1; i < bg.size(); ++i) {
    if (bg[i - 1] >= threshold && bg[i] < threshold) events.push_back(t[i]);
  }
  out.events = static_cast<int>(events.size());
  out.alerts = static_cast<int>(alert_times.size());
  for (double e : events) {
    double earliest = e + 1;
    for (double a : alert_times) {
      if (a <= e && a >= e - window) earliest = std::min(earliest, a);
    }
    if (earliest <= e) {
      ++out.detected;
      out.lead_times_min.push_back(e - earliest);
    }
  }
  for (double a : alert_times) {
    const bool followed = std::any_of(events.begin(), events.end(),
                                      [&](double e) { return e >= a && e <= a + window; });
    // An alert raised while already low is late, not false.
    const auto it = std::upper_bound(t.begin(), t.end(), a);
    const bool low_now =
        it != t.begin() && bg[static_cast<std::size_t>(it - t.begin()) - 1] < threshold;
    if (!followed && !low_now) ++out.false_alerts;
  }
  return out;
}

}  // namespace medtwin::monitor
