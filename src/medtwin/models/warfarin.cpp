#include "medtwin/models/warfarin.h"

#include <cmath>
#include <limits>

namespace medtwin::models {
namespace {

using sim::ModelInfo;

// Parameter order.
enum : int { kCL, kV1, kQ, kV2, kKA, kEC50, kGAMMA, kMTT1, kMTT2, kLAMBDA, kINRMAX, kBASE };
// State order: 0 depot, 1 central, 2 peripheral, 3-8 chain 1 (six), 9 chain 2.
constexpr int kChain1 = 3, kChain1Length = 6, kChain2 = 9;

class WarfarinHamberg final : public sim::Model {
 public:
  WarfarinHamberg() {
    info_.name = "warfarin_hamberg2007";
    info_.description =
        "S-warfarin 2-cmt oral PK and INR via two transit chains (Hamberg 2007; dose = racemic mg)";
    info_.time_unit = "h";
    info_.states = {{"depot", "mg"},      {"central", "mg"},    {"peripheral", "mg"},
                    {"activity1_1", "1"}, {"activity1_2", "1"}, {"activity1_3", "1"},
                    {"activity1_4", "1"}, {"activity1_5", "1"}, {"activity1_6", "1"},
                    {"activity2", "1"}};
    const double big = std::numeric_limits<double>::max();
    info_.parameters = {
        {"CL", "L/h", 0.314, 1e-6, big, "S-warfarin apparent oral clearance"},
        {"V1", "L", 13.8, 1e-6, big, "central volume"},
        {"Q", "L/h", 0.131, 0.0, big, "intercompartmental clearance"},
        {"V2", "L", 6.59, 1e-6, big, "peripheral volume"},
        {"KA", "1/h", 2.0, 1e-6, big, "absorption rate constant"},
        {"EC50", "mg/L", 4.61, 1e-9, big, "S-warfarin concentration at half inhibition"},
        {"GAMMA", "1", 0.424, 1e-6, 20, "Hill coefficient"},
        {"MTT1", "h", 11.6, 1e-3, big, "mean transit time of the six-compartment chain"},
        {"MTT2", "h", 120.0, 1e-3, big, "mean transit time of the one-compartment chain"},
        {"LAMBDA", "1", 3.61, 1e-6, 20, "shape of the INR response"},
        {"INRMAX", "1", 20.0, 0.0, big, "maximal INR increase"},
        {"BASE", "1", 1.0, 0.0, 10, "baseline INR"}};
    info_.outputs = {{"INR", "1"}, {"CS", "mg/L"}};
    info_.default_dose_cmt = 1;
  }
  const ModelInfo& Info() const override { return info_; }

  double InputScale(int state0, std::span<const double> /*p*/) const override {
    return state0 == 0 ? 0.5 : 1.0;  // the S-enantiomer: half of racemic warfarin
  }

  void InitialState(std::span<const double> /*p*/, std::span<double> x) const override {
    for (auto& v : x) v = 0;
    for (int i = kChain1; i <= kChain2; ++i) x[static_cast<std::size_t>(i)] = 1.0;  // no effect yet
  }

  void Derivatives(double /*t*/, std::span<const double> x, std::span<const double> p,
                   std::span<double> dxdt) const override {
    const double ka = p[kKA], k10 = p[kCL] / p[kV1], k12 = p[kQ] / p[kV1], k21 = p[kQ] / p[kV2];
    dxdt[0] = -ka * x[0];
    dxdt[1] = ka * x[0] - (k10 + k12) * x[1] + k21 * x[2];
    dxdt[2] = k12 * x[1] - k21 * x[2];
    const double c = std::max(0.0, x[1] / p[kV1]);
    const double cg = std::pow(c, p[kGAMMA]);
    const double inflow = 1.0 - cg / (std::pow(p[kEC50], p[kGAMMA]) + cg);
    const double k1 = kChain1Length / p[kMTT1], k2 = 1.0 / p[kMTT2];
    double upstream = inflow;
    for (int i = kChain1; i < kChain1 + kChain1Length; ++i) {
      const auto s = static_cast<std::size_t>(i);
      dxdt[s] = k1 * (upstream - x[s]);
      upstream = x[s];
    }
    dxdt[kChain2] = k2 * (inflow - x[kChain2]);
  }

  void Outputs(std::span<const double> x, std::span<const double> p,
               std::span<double> out) const override {
    const double activity = x[kChain1 + kChain1Length - 1] * x[kChain2];
    out[0] = p[kBASE] + p[kINRMAX] * std::pow(std::max(0.0, 1.0 - activity), p[kLAMBDA]);
    out[1] = x[1] / p[kV1];
  }

 private:
  ModelInfo info_;
};

}  // namespace

std::unique_ptr<sim::Model> MakeWarfarinHambergModel() {
  return std::make_unique<WarfarinHamberg>();
}

int hamberg::Cyp2c9Code(std::string_view diplotype) {
  for (std::size_t i = 0; i < kCyp2c9Diplotypes.size(); ++i) {
    if (kCyp2c9Diplotypes[i] == diplotype) return static_cast<int>(i);
  }
  return -1;
}

double hamberg::Cyp2c9ClFactor(std::string_view diplotype) {
  const int code = Cyp2c9Code(diplotype);
  return code < 0 ? 0 : kCyp2c9ClKept[static_cast<std::size_t>(code)];
}

}  // namespace medtwin::models
