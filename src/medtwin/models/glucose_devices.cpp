#include "medtwin/models/glucose_devices.h"

#include <algorithm>
#include <cmath>

namespace medtwin::models {

CgmSensor::CgmSensor(const CgmSpec& spec, std::uint64_t seed) : spec_(spec), rng_(seed) {
  if (spec_.noise) {
    gain_ = spec_.gain_sd * normal_(rng_);
    offset_ = spec_.offset_sd_mg_dl * normal_(rng_);
  }
}

double CgmSensor::Read(double gsub_mg_dl) {
  double value = gsub_mg_dl;
  if (spec_.noise) {
    // Stationary AR(1): e_k = φ e_{k−1} + sqrt(1 − φ²) w_k keeps unit variance.
    const double w = normal_(rng_);
    e_ = started_ ? spec_.pacf * e_ + std::sqrt(1 - spec_.pacf * spec_.pacf) * w : w;
    started_ = true;
    const double noise =
        spec_.johnson_xi +
        spec_.johnson_lambda * std::sinh((e_ - spec_.johnson_gamma) / spec_.johnson_delta);
    value = (1 + gain_) * gsub_mg_dl + offset_ + noise;
  }
  value = std::clamp(value, spec_.min_mg_dl, spec_.max_mg_dl);
  return spec_.noise ? std::round(value) : value;
}

PumpDelivery InsulinPump::Deliver(double basal_u_per_min, double bolus_u) const {
  PumpDelivery out;
  double basal_u_per_h = std::max(0.0, basal_u_per_min * 60);
  if (basal_u_per_h > spec_.max_basal_u_per_h) {
    basal_u_per_h = spec_.max_basal_u_per_h;
    out.limited = true;
  }
  // Round down with a hair of slack so 0.15 U/h stays 0.15 and not 0.10 after division.
  basal_u_per_h =
      std::floor(basal_u_per_h / spec_.basal_step_u_per_h + 1e-9) * spec_.basal_step_u_per_h;
  double bolus = std::max(0.0, bolus_u);
  if (bolus > spec_.max_bolus_u) {
    bolus = spec_.max_bolus_u;
    out.limited = true;
  }
  bolus = std::floor(bolus / spec_.bolus_step_u + 1e-9) * spec_.bolus_step_u;
  out.basal_u_per_min = basal_u_per_h / 60;
  out.bolus_u = bolus;
  return out;
}

}  // namespace medtwin::models
