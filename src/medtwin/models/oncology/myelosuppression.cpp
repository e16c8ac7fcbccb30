#include "medtwin/models/oncology/myelosuppression.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace medtwin::models {
namespace {

using sim::ModelInfo;

enum : int { kCIRC0, kMTT, kSLOPE, kGAMMA, kCP };
// State order as DDMODEL00000224's compartments: circulating, proliferating, transit 1-3.
enum : int { kCirc, kProl, kT1, kT2, kT3 };

class FribergAncCp final : public sim::Model {
 public:
  FribergAncCp() {
    info_.name = "friberg_anc_cp";
    info_.description =
        "Friberg 2002 neutrophil model, linear drug effect of a concentration column CP (mg/L)";
    info_.time_unit = "h";
    info_.states = {{"circulating", "1e9/L"},
                    {"proliferating", "1e9/L"},
                    {"transit1", "1e9/L"},
                    {"transit2", "1e9/L"},
                    {"transit3", "1e9/L"}};
    const double big = std::numeric_limits<double>::max();
    info_.parameters = {
        {"CIRC0", "1e9/L", kloft2006::kCirc0, 1e-6, big, "baseline neutrophil count"},
        {"MTT", "h", kloft2006::kMtt_h, 1e-3, big, "mean transit time through the marrow"},
        {"SLOPE", "L/mg", kloft2006::kSlope_per_uM / kloft2006::kMolarMass_g_per_mol * 1000, 0.0,
         big, "drug effect per unit concentration"},
        {"GAMMA", "1", kloft2006::kGamma, 0.0, 10, "feedback exponent"},
        {"CP", "mg/L", 0.0, 0.0, big, "drug concentration (a data column)"}};
    info_.outputs = {{"ANC", "1e9/L"}, {"LNANC", "ln(1e9/L)"}};
    info_.default_dose_cmt = 1;
  }
  const ModelInfo& Info() const override { return info_; }

  void InitialState(std::span<const double> p, std::span<double> x) const override {
    std::fill(x.begin(), x.end(), p[kCIRC0]);
  }

  void Derivatives(double /*t*/, std::span<const double> x, std::span<const double> p,
                   std::span<double> dxdt) const override {
    const double ktr = 4 / p[kMTT];
    const double effect = p[kSLOPE] * p[kCP];
    // The feedback needs Circ > 0; a solver's trial step may overshoot below it.
    const double circ = std::max(x[kCirc], 1e-12);
    const double feedback = std::pow(p[kCIRC0] / circ, p[kGAMMA]);
    dxdt[kProl] = ktr * x[kProl] * (1 - effect) * feedback - ktr * x[kProl];
    dxdt[kT1] = ktr * (x[kProl] - x[kT1]);
    dxdt[kT2] = ktr * (x[kT1] - x[kT2]);
    dxdt[kT3] = ktr * (x[kT2] - x[kT3]);
    dxdt[kCirc] = ktr * (x[kT3] - x[kCirc]);
  }

  void Outputs(std::span<const double> x, std::span<const double> /*p*/,
               std::span<double> out) const override {
    out[0] = x[kCirc];
    out[1] = std::log(std::max(x[kCirc], 1e-300));
  }

 private:
  ModelInfo info_;
};

}  // namespace

std::unique_ptr<sim::Model> MakeFribergAncCpModel() { return std::make_unique<FribergAncCp>(); }

}  // namespace medtwin::models
