// decide/glycemic_metrics.h — outcome measures of glucose control from a glucose trace sampled
// on a regular grid: time in ranges (international consensus, Battelino et al., Diabetes Care
// 2019;42:1593), mean, coefficient of variation, and the low/high blood glucose indices
// (Kovatchev et al., Diabetes Care 1997;20:1655 / 1998;21:1870).
#pragma once

#include <span>

namespace medtwin::decide {

struct GlycemicMetrics {
  int samples = 0;
  double mean_mg_dl = 0;
  double cv_percent = 0;  // SD / mean · 100 (population SD)
  double min_mg_dl = 0, max_mg_dl = 0;
  // Percent of samples: 70–180 inclusive, < 70, < 54, > 180, > 250.
  double tir_70_180 = 0, below_70 = 0, below_54 = 0, above_180 = 0, above_250 = 0;
  double lbgi = 0, hbgi = 0;
};

// Kovatchev's symmetrized risk of one reading: f = 1.509·((ln BG)^1.084 − 5.381), risk 10·f².
// Returns f (negative below 112.5 mg/dL).
double GlucoseRiskScale(double bg_mg_dl);

GlycemicMetrics ComputeGlycemicMetrics(std::span<const double> bg_mg_dl);

}  // namespace medtwin::decide
