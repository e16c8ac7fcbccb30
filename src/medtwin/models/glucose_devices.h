// models/glucose_devices.h — the devices around the glucose twin: a continuous glucose monitor
// (reads subcutaneous glucose every 5 min with calibration error and autocorrelated noise,
// seedable) and an insulin pump (basal in fixed increments, quantized boluses, maximum
// rates). Both are deterministic given their seed, so trials are reproducible.
#pragma once

#include <cstdint>
#include <random>

namespace medtwin::models {

// Sensor error model after Breton & Kovatchev, J Diabetes Sci Technol 2008;2:853: the
// noise is an AR(1) standard-normal sequence (partial autocorrelation 0.7 at the sampling
// interval) mapped through a Johnson SU transform ξ + λ·sinh((e − γ)/δ), with their
// parameters; plus a per-sensor calibration error (gain and offset, drawn once; the sizes are
// medtwin's assumption, about ±5 % and ±5 mg/dL as 1 SD). Readings are clipped to the sensor's
// range and rounded to 1 mg/dL.
struct CgmSpec {
  double sample_min = 5;
  double pacf = 0.7;
  double johnson_xi = -5.47;
  double johnson_lambda = 15.9574;
  double johnson_delta = 1.6898;
  double johnson_gamma = -0.5444;
  double gain_sd = 0.05;
  double offset_sd_mg_dl = 5;
  double min_mg_dl = 40;
  double max_mg_dl = 400;
  bool noise = true;  // false: an ideal sensor (reads Gsub exactly), for tests and baselines
};

class CgmSensor {
 public:
  CgmSensor(const CgmSpec& spec, std::uint64_t seed);
  // The reading for interstitial glucose `gsub_mg_dl`; call once per sample, in time order.
  double Read(double gsub_mg_dl);
  [[nodiscard]] const CgmSpec& spec() const { return spec_; }
  [[nodiscard]] double gain() const { return gain_; }
  [[nodiscard]] double offset_mg_dl() const { return offset_; }

 private:
  CgmSpec spec_;
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  double gain_ = 0, offset_ = 0;
  double e_ = 0;
  bool started_ = false;
};

// Insulin pump limits (defaults: a patch pump of the Insulet Omnipod kind, as simglucose).
struct PumpSpec {
  double basal_step_u_per_h = 0.05;
  double bolus_step_u = 0.05;
  double max_basal_u_per_h = 30;
  double max_bolus_u = 30;
};

struct PumpDelivery {
  double basal_u_per_min = 0;  // what the pump actually infuses
  double bolus_u = 0;
  bool limited = false;  // a request was cut by a maximum
};

class InsulinPump {
 public:
  explicit InsulinPump(const PumpSpec& spec) : spec_(spec) {}
  // Rounds the requested basal down to the basal increment and the bolus down to the bolus
  // increment, after capping both; negative requests deliver nothing.
  [[nodiscard]] PumpDelivery Deliver(double basal_u_per_min, double bolus_u) const;
  [[nodiscard]] const PumpSpec& spec() const { return spec_; }

 private:
  PumpSpec spec_;
};

}  // namespace medtwin::models
