// decide/exposure.h — exposure metrics from a concentration–time curve: AUC over a window
// (linear trapezoids on the curve's points), Cmax, Cmin. Curves come from the simulator on a
// fine grid, so the trapezoid error is small (checked against closed-form AUCs in tests).
#pragma once

#include <utility>
#include <vector>

namespace medtwin::decide {

using Curve = std::vector<std::pair<double, double>>;  // (time h, concentration mg/L), sorted

// ∫ C dt over [from, to] (mg·h/L), interpolating linearly at the window's ends.
double Auc(const Curve& curve, double from, double to);
// Largest and smallest concentration among the curve's points inside [from, to].
double Cmax(const Curve& curve, double from, double to);
double Cmin(const Curve& curve, double from, double to);
// Time (h) within [from, to] the curve spends above `threshold`, crossings placed by linear
// interpolation between points (the fT>MIC of time-dependent antibiotics).
double TimeAbove(const Curve& curve, double threshold, double from, double to);

// The q-quantile (0..1) of values, linear between order statistics (R's type 7).
double Quantile(std::vector<double> values, double q);

}  // namespace medtwin::decide
