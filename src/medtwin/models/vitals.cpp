#include "medtwin/models/vitals.h"

#include <algorithm>
#include <cmath>

namespace medtwin::models {

VitalSignsReading WardPatientVitals::Read(double h, std::mt19937_64& rng,
                                          std::normal_distribution<double>& noise) const {
  const double d = deteriorates_ ? std::max(0.0, h - onset_h_) : 0;  // hours since onset
  const double rr = rr_ + 3.5 * d + 0.8 * noise(rng);
  const double spo2 = std::min(100.0, spo2_ - 1.2 * d + 0.6 * noise(rng));
  const double sbp = sbp_ - 9 * d + 3 * noise(rng);
  const double hr = hr_ + 11 * d + 2 * noise(rng);
  const double temp = temp_ + 0.45 * std::min(d, 5.0) + 0.1 * noise(rng);
  const bool oxygen = spo2 < 92;
  VitalSignsReading r;
  r.respiration_per_min = std::max(4.0, std::round(rr));
  // On 2 L/min of oxygen the saturation recovers by about 4 points.
  r.spo2_percent = std::clamp(std::round(spo2 + (oxygen ? 4 : 0)), 60.0, 100.0);
  r.o2_flow_l_per_min = oxygen ? 2.0 : 0.0;
  r.systolic_mmhg = std::max(50.0, std::round(sbp));
  r.diastolic_mmhg = std::max(30.0, std::round(sbp * 0.62));
  r.heart_rate_per_min = std::max(30.0, std::round(hr));
  r.temperature_c = std::round(temp * 10) / 10;
  r.acvpu = d > 4 ? 'C' : 'A';
  return r;
}

}  // namespace medtwin::models
