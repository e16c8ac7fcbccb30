// The demo's ward monitor against the NEWS2 chart's bands (RCP 2017): a stable patient stays in
// the bands that score 0; a deteriorating one reaches bands that score 3 within 3 h of onset.
#include "medtwin/models/vitals.h"

#include <gtest/gtest.h>

#include <cmath>

namespace medtwin::models {
namespace {

TEST(WardPatientVitals, StablePatientStaysInTheZeroScoreBands) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 1);
  const WardPatientVitals stable(false, 0);
  int outside = 0;
  for (int k = 0; k < 400; ++k) {
    const auto v = stable.Read(k * 0.25, rng, noise);
    // NEWS2 score 0: RR 12–20, SpO2 ≥ 96 (scale 1), air, SBP 111–219, pulse 51–90, alert,
    // temperature 36.1–38.0.
    outside += !(v.respiration_per_min >= 12 && v.respiration_per_min <= 20) +
               !(v.spo2_percent >= 96) + (v.o2_flow_l_per_min > 0) +
               !(v.systolic_mmhg >= 111 && v.systolic_mmhg <= 219) +
               !(v.heart_rate_per_min >= 51 && v.heart_rate_per_min <= 90) + (v.acvpu != 'A') +
               !(v.temperature_c >= 36.1 && v.temperature_c <= 38.0);
  }
  // Noise may touch a band edge now and then (SpO2 95 % scores 1), never often.
  EXPECT_LT(outside, 400 * 7 / 100);
}

// The NEWS2 chart (RCP 2017, SpO2 scale 1), written out here from the published chart as an
// independent check of the drift.
int ChartScore(const VitalSignsReading& v) {
  auto band = [](double x, std::initializer_list<std::pair<double, int>> upper_bounds) {
    for (const auto& [upper, score] : upper_bounds) {
      if (x <= upper) return score;
    }
    return 3;
  };
  int s = band(v.respiration_per_min, {{8, 3}, {11, 1}, {20, 0}, {24, 2}});
  s += band(-v.spo2_percent, {{-96, 0}, {-94, 1}, {-92, 2}});
  s += v.o2_flow_l_per_min > 0 ? 2 : 0;
  s += band(v.systolic_mmhg, {{90, 3}, {100, 2}, {110, 1}, {219, 0}});
  s += band(v.heart_rate_per_min, {{40, 3}, {50, 1}, {90, 0}, {110, 1}, {130, 2}});
  s += v.acvpu == 'A' ? 0 : 3;
  s += band(v.temperature_c, {{35.0, 3}, {36.0, 1}, {38.0, 0}, {39.0, 1}});
  return s;
}

TEST(WardPatientVitals, DeterioratingPatientReachesHighRiskWithinThreeHours) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 1);
  const WardPatientVitals septic(true, 1.0);
  for (int k = 0; k < 20; ++k) EXPECT_LE(ChartScore(septic.Read(0.5, rng, noise)), 2);
  EXPECT_EQ(septic.Read(0.5, rng, noise).acvpu, 'A');
  int high = 0;
  for (int k = 0; k < 20; ++k) high += ChartScore(septic.Read(1.0 + 3.0, rng, noise)) >= 7;
  EXPECT_EQ(high, 20);  // NEWS2 ≥ 7 (high risk) 3 h after onset, whatever the noise
  const auto late = septic.Read(1.0 + 4.5, rng, noise);
  EXPECT_EQ(late.acvpu, 'C');  // new confusion
  EXPECT_GT(late.o2_flow_l_per_min, 0);
  // Readings are what a monitor shows: whole numbers, temperature to 0.1 °C.
  EXPECT_EQ(late.respiration_per_min, std::round(late.respiration_per_min));
  EXPECT_NEAR(late.temperature_c * 10, std::round(late.temperature_c * 10), 1e-9);
}

}  // namespace
}  // namespace medtwin::models
