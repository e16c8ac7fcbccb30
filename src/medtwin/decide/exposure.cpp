#include "medtwin/decide/exposure.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace medtwin::decide {
namespace {

double At(const Curve& c, double t) {
  auto it =
      std::lower_bound(c.begin(), c.end(), t, [](const auto& p, double x) { return p.first < x; });
  if (it == c.begin()) return c.front().second;
  if (it == c.end()) return c.back().second;
  auto prev = std::prev(it);
  if (it->first == prev->first) return it->second;
  const double w = (t - prev->first) / (it->first - prev->first);
  return prev->second + w * (it->second - prev->second);
}

}  // namespace

double Auc(const Curve& curve, double from, double to) {
  if (curve.empty() || to <= from) return 0;
  double auc = 0, t_prev = from, c_prev = At(curve, from);
  for (const auto& [t, c] : curve) {
    if (t <= from) continue;
    if (t >= to) break;
    auc += 0.5 * (c + c_prev) * (t - t_prev);
    t_prev = t;
    c_prev = c;
  }
  auc += 0.5 * (At(curve, to) + c_prev) * (to - t_prev);
  return auc;
}

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

double Cmax(const Curve& curve, double from, double to) {
  double m = -std::numeric_limits<double>::infinity();
  for (const auto& [t, c] : curve) {
    if (t >= from && t <= to) m = std::max(m, c);
  }
  return m;
}

double TimeAbove(const Curve& curve, double threshold, double from, double to) {
  if (curve.empty() || to <= from) return 0;
  double above = 0, t_prev = from, c_prev = At(curve, from);
  auto segment = [&](double t, double c) {
    const double dt = t - t_prev;
    if (c_prev > threshold && c > threshold) {
      above += dt;
    } else if (c_prev > threshold || c > threshold) {
      // One end above: the part on that side of the crossing.
      const double cross = dt * (threshold - c_prev) / (c - c_prev);
      above += c > threshold ? dt - cross : cross;
    }
    t_prev = t;
    c_prev = c;
  };
  for (const auto& [t, c] : curve) {
    if (t <= from) continue;
    if (t >= to) break;
    segment(t, c);
  }
  segment(to, At(curve, to));
  return above;
}

double Cmin(const Curve& curve, double from, double to) {
  double m = std::numeric_limits<double>::infinity();
  for (const auto& [t, c] : curve) {
    if (t >= from && t <= to) m = std::min(m, c);
  }
  return m;
}

}  // namespace medtwin::decide
