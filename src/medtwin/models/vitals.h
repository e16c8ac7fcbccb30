// models/vitals.h — a ward patient's bedside monitor, for the demo and the device simulator:
// vital signs stable around a baseline with measurement noise, or, from an onset time, drifting
// as in early sepsis (respiratory and heart rate and temperature rising, SpO2 and systolic
// pressure falling, new confusion after 4 h, supplemental oxygen once SpO2 falls below 92 %).
// The drift is illustrative, not a fitted model: it takes NEWS2 (RCP 2017) from 0–1 to the
// high-risk band (≥ 7) within about 3 h of onset, which is what the demo needs to show.
// Readings are rounded as a monitor reports them.
#pragma once

#include <random>

namespace medtwin::models {

struct VitalSignsReading {
  double respiration_per_min = 0;
  double spo2_percent = 0;
  double o2_flow_l_per_min = 0;  // 0: room air
  double systolic_mmhg = 0;
  double diastolic_mmhg = 0;
  double heart_rate_per_min = 0;
  double temperature_c = 0;
  char acvpu = 'A';  // A (alert) or C (new confusion)
};

class WardPatientVitals {
 public:
  // `deteriorates`: the drift starts `onset_h` hours into the simulation.
  WardPatientVitals(bool deteriorates, double onset_h)
      : deteriorates_(deteriorates), onset_h_(onset_h) {}
  // The monitor's reading `h` hours into the simulation; five draws from `noise` (standard
  // normal), which the caller keeps for the whole run (a seed then gives one sequence).
  [[nodiscard]] VitalSignsReading Read(double h, std::mt19937_64& rng,
                                       std::normal_distribution<double>& noise) const;

 private:
  bool deteriorates_;
  double onset_h_;
  // Baseline: an adult at rest (NEWS2 0).
  double rr_ = 16, spo2_ = 97, sbp_ = 124, hr_ = 74, temp_ = 36.9;
};

}  // namespace medtwin::models
