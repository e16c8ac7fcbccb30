#include "medtwin/models/pk.h"

#include <functional>
#include <string>

namespace medtwin::models {
namespace {

using sim::ModelInfo;
using sim::ParameterSpec;
using sim::StateSpec;

constexpr double kBig = 1e6;

// Parameter definitions shared by the family. Defaults are generic adult values for a
// moderately cleared drug, meant for demos; real use sets them from data or --param.
ParameterSpec Cl() { return {"CL", "L/h", 5.0, 0.0, kBig, "clearance"}; }
ParameterSpec Vol(const char* name, double v, const char* what) {
  return {name, "L", v, 1e-9, kBig, what};
}
ParameterSpec Flow(const char* name, double q, const char* what) {
  return {name, "L/h", q, 0.0, kBig, what};
}
ParameterSpec Ka() { return {"KA", "/h", 1.0, 0.0, kBig, "first-order absorption rate constant"}; }

// K is filled row-major for dx/dt = K x.
using MatrixBuilder = std::function<void(std::span<const double> p, std::span<double> k)>;

class LinearCompartmentModel final : public sim::Model {
 public:
  LinearCompartmentModel(ModelInfo info, int central_index, int central_volume_param,
                         MatrixBuilder builder)
      : info_(std::move(info)),
        central_(static_cast<std::size_t>(central_index)),
        volume_(static_cast<std::size_t>(central_volume_param)),
        builder_(std::move(builder)),
        n_(info_.states.size()) {
    info_.outputs.push_back({"CP", "mg/L"});
    for (std::size_t i = 1; i <= n_; ++i) info_.outputs.push_back({"A" + std::to_string(i), "mg"});
  }

  const ModelInfo& Info() const override { return info_; }

  void Derivatives(double /*t*/, std::span<const double> x, std::span<const double> p,
                   std::span<double> dxdt) const override {
    double k[16];
    builder_(p, std::span<double>(k, n_ * n_));
    for (std::size_t i = 0; i < n_; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < n_; ++j) s += k[i * n_ + j] * x[j];
      dxdt[i] = s;
    }
  }

  void Outputs(std::span<const double> x, std::span<const double> p,
               std::span<double> out) const override {
    out[0] = x[central_] / p[volume_];
    for (std::size_t i = 0; i < n_; ++i) out[i + 1] = x[i];
  }

  bool LinearMatrix(std::span<const double> p, std::span<double> k) const override {
    builder_(p, k);
    return true;
  }

 private:
  ModelInfo info_;
  std::size_t central_;
  std::size_t volume_;
  MatrixBuilder builder_;
  std::size_t n_;
};

// Michaelis–Menten elimination from one compartment: dA/dt = -VMAX·C/(KM + C), C = A/V.
class OneCmtMichaelisMentenIv final : public sim::Model {
 public:
  OneCmtMichaelisMentenIv() {
    info_.name = "pk_1cmt_mm_iv";
    info_.description = "1-compartment IV, Michaelis-Menten elimination (VMAX, KM, V)";
    info_.time_unit = "h";
    info_.states = {{"central", "mg"}};
    info_.parameters = {{"VMAX", "mg/h", 50.0, 0.0, kBig, "maximum elimination rate"},
                        {"KM", "mg/L", 5.0, 1e-9, kBig, "concentration at half VMAX"},
                        Vol("V", 50.0, "volume of distribution")};
    info_.outputs = {{"CP", "mg/L"}, {"A1", "mg"}};
  }
  const ModelInfo& Info() const override { return info_; }
  void Derivatives(double /*t*/, std::span<const double> x, std::span<const double> p,
                   std::span<double> dxdt) const override {
    const double c = x[0] / p[2];
    dxdt[0] = -p[0] * c / (p[1] + c);
  }
  void Outputs(std::span<const double> x, std::span<const double> p,
               std::span<double> out) const override {
    out[0] = x[0] / p[2];
    out[1] = x[0];
  }

 private:
  ModelInfo info_;
};

ModelInfo Info(const char* name, const char* description, std::vector<StateSpec> states,
               std::vector<ParameterSpec> params) {
  ModelInfo info;
  info.name = name;
  info.description = description;
  info.time_unit = "h";
  info.states = std::move(states);
  info.parameters = std::move(params);
  info.default_dose_cmt = 1;
  return info;
}

}  // namespace

// The K matrices below are laid out as matrices.
// clang-format off
std::vector<std::unique_ptr<sim::Model>> MakePkModels() {
  std::vector<std::unique_ptr<sim::Model>> out;
  // Rate constants: k10 = CL/V1, k12 = Q/V1, k21 = Q/V2 (and k13, k31 for the third).
  out.push_back(std::make_unique<LinearCompartmentModel>(
      Info("pk_1cmt_iv", "1-compartment IV (ADVAN1): CL, V",
           {{"central", "mg"}}, {Cl(), Vol("V", 50.0, "volume of distribution")}),
      0, 1, [](std::span<const double> p, std::span<double> k) { k[0] = -p[0] / p[1]; }));

  out.push_back(std::make_unique<LinearCompartmentModel>(
      Info("pk_1cmt_oral", "1-compartment first-order absorption (ADVAN2): CL, V, KA",
           {{"depot", "mg"}, {"central", "mg"}},
           {Cl(), Vol("V", 50.0, "volume of distribution"), Ka()}),
      1, 1, [](std::span<const double> p, std::span<double> k) {
        const double ke = p[0] / p[1], ka = p[2];
        k[0] = -ka; k[1] = 0;
        k[2] = ka;  k[3] = -ke;
      }));

  out.push_back(std::make_unique<LinearCompartmentModel>(
      Info("pk_2cmt_iv", "2-compartment IV (ADVAN3): CL, V1, Q, V2",
           {{"central", "mg"}, {"peripheral", "mg"}},
           {Cl(), Vol("V1", 20.0, "central volume"), Flow("Q", 10.0, "intercompartmental clearance"),
            Vol("V2", 40.0, "peripheral volume")}),
      0, 1, [](std::span<const double> p, std::span<double> k) {
        const double k10 = p[0] / p[1], k12 = p[2] / p[1], k21 = p[2] / p[3];
        k[0] = -(k10 + k12); k[1] = k21;
        k[2] = k12;          k[3] = -k21;
      }));

  out.push_back(std::make_unique<LinearCompartmentModel>(
      Info("pk_2cmt_oral", "2-compartment first-order absorption (ADVAN4): CL, V1, Q, V2, KA",
           {{"depot", "mg"}, {"central", "mg"}, {"peripheral", "mg"}},
           {Cl(), Vol("V1", 20.0, "central volume"), Flow("Q", 10.0, "intercompartmental clearance"),
            Vol("V2", 40.0, "peripheral volume"), Ka()}),
      1, 1, [](std::span<const double> p, std::span<double> k) {
        const double k10 = p[0] / p[1], k12 = p[2] / p[1], k21 = p[2] / p[3], ka = p[4];
        k[0] = -ka; k[1] = 0;             k[2] = 0;
        k[3] = ka;  k[4] = -(k10 + k12);  k[5] = k21;
        k[6] = 0;   k[7] = k12;           k[8] = -k21;
      }));

  out.push_back(std::make_unique<LinearCompartmentModel>(
      Info("pk_3cmt_iv", "3-compartment IV (ADVAN11): CL, V1, Q2, V2, Q3, V3",
           {{"central", "mg"}, {"peripheral1", "mg"}, {"peripheral2", "mg"}},
           {Cl(), Vol("V1", 20.0, "central volume"),
            Flow("Q2", 10.0, "clearance to the first peripheral"),
            Vol("V2", 40.0, "first peripheral volume"),
            Flow("Q3", 2.0, "clearance to the second peripheral"),
            Vol("V3", 100.0, "second peripheral volume")}),
      0, 1, [](std::span<const double> p, std::span<double> k) {
        const double k10 = p[0] / p[1], k12 = p[2] / p[1], k21 = p[2] / p[3];
        const double k13 = p[4] / p[1], k31 = p[4] / p[5];
        k[0] = -(k10 + k12 + k13); k[1] = k21;  k[2] = k31;
        k[3] = k12;                k[4] = -k21; k[5] = 0;
        k[6] = k13;                k[7] = 0;    k[8] = -k31;
      }));

  out.push_back(std::make_unique<LinearCompartmentModel>(
      Info("pk_3cmt_oral",
           "3-compartment first-order absorption (ADVAN12): CL, V1, Q2, V2, Q3, V3, KA",
           {{"depot", "mg"}, {"central", "mg"}, {"peripheral1", "mg"}, {"peripheral2", "mg"}},
           {Cl(), Vol("V1", 20.0, "central volume"),
            Flow("Q2", 10.0, "clearance to the first peripheral"),
            Vol("V2", 40.0, "first peripheral volume"),
            Flow("Q3", 2.0, "clearance to the second peripheral"),
            Vol("V3", 100.0, "second peripheral volume"), Ka()}),
      1, 1, [](std::span<const double> p, std::span<double> k) {
        const double k10 = p[0] / p[1], k12 = p[2] / p[1], k21 = p[2] / p[3];
        const double k13 = p[4] / p[1], k31 = p[4] / p[5], ka = p[6];
        std::fill(k.begin(), k.begin() + 16, 0.0);
        k[0] = -ka;
        k[4] = ka;  k[5] = -(k10 + k12 + k13); k[6] = k21;  k[7] = k31;
        k[9] = k12;                             k[10] = -k21;
        k[13] = k13;                                          k[15] = -k31;
      }));

  out.push_back(std::make_unique<OneCmtMichaelisMentenIv>());
  return out;
}
// clang-format on

}  // namespace medtwin::models
