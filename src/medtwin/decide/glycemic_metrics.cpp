#include "medtwin/decide/glycemic_metrics.h"

#include <algorithm>
#include <cmath>

namespace medtwin::decide {

double GlucoseRiskScale(double bg_mg_dl) {
  const double bg = std::max(bg_mg_dl, 1.0);  // the log needs a positive value
  return 1.509 * (std::pow(std::log(bg), 1.084) - 5.381);
}

GlycemicMetrics ComputeGlycemicMetrics(std::span<const double> bg) {
  GlycemicMetrics m;
  m.samples = static_cast<int>(bg.size());
  if (bg.empty()) return m;
  double sum = 0, low = 0, high = 0;
  int in_range = 0, lt70 = 0, lt54 = 0, gt180 = 0, gt250 = 0;
  m.min_mg_dl = bg[0];
  m.max_mg_dl = bg[0];
  for (double g : bg) {
    sum += g;
    m.min_mg_dl = std::min(m.min_mg_dl, g);
    m.max_mg_dl = std::max(m.max_mg_dl, g);
    if (g >= 70 && g <= 180) ++in_range;
    if (g < 70) ++lt70;
    if (g < 54) ++lt54;
    if (g > 180) ++gt180;
    if (g > 250) ++gt250;
    const double f = GlucoseRiskScale(g);
    const double risk = 10 * f * f;
    (f < 0 ? low : high) += risk;
  }
  const double n = static_cast<double>(bg.size());
  m.mean_mg_dl = sum / n;
  double ss = 0;
  for (double g : bg) ss += (g - m.mean_mg_dl) * (g - m.mean_mg_dl);
  m.cv_percent = 100 * std::sqrt(ss / n) / m.mean_mg_dl;
  m.tir_70_180 = 100 * in_range / n;
  m.below_70 = 100 * lt70 / n;
  m.below_54 = 100 * lt54 / n;
  m.above_180 = 100 * gt180 / n;
  m.above_250 = 100 * gt250 / n;
  m.lbgi = low / n;
  m.hbgi = high / n;
  return m;
}

}  // namespace medtwin::decide
