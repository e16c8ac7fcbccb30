// Closed form (exact matrix-exponential propagation) against both ODE integrators on every
// built-in linear PK model and every route: bolus, infusion, oral (depot) where the model has
// one, multiple doses and steady state. Required agreement: 1e-6 relative.
#include <gtest/gtest.h>

#include "../sim/sim_test_util.h"

namespace medtwin::testing {
namespace {

struct RouteCase {
  std::string model;
  std::string route;
  std::vector<sim::Record> records;
};

std::vector<sim::Record> Regimen(int cmt, double rate, int ss) {
  std::vector<sim::Record> r;
  r.push_back(Dose(0, {.amt = 500, .cmt = cmt, .rate = rate, .ii = 12, .addl = 5, .ss = ss}));
  for (double t = 0.25; t <= 96; t += 0.75) r.push_back(Obs(t));
  return r;
}

std::vector<RouteCase> Cases() {
  std::vector<RouteCase> out;
  for (std::string m : {"pk_1cmt_iv", "pk_2cmt_iv", "pk_3cmt_iv"}) {
    out.push_back({m, "bolus", Regimen(1, 0, 0)});
    out.push_back({m, "infusion", Regimen(1, 250, 0)});
    out.push_back({m, "infusion_ss", Regimen(1, 250, 1)});
    out.push_back({m, "bolus_ss", Regimen(1, 0, 1)});
  }
  for (std::string m : {"pk_1cmt_oral", "pk_2cmt_oral", "pk_3cmt_oral"}) {
    out.push_back({m, "oral", Regimen(1, 0, 0)});
    out.push_back({m, "oral_ss", Regimen(1, 0, 1)});
    out.push_back({m, "iv_bolus_central", Regimen(2, 0, 0)});
    out.push_back({m, "iv_infusion_central", Regimen(2, 100, 0)});
  }
  return out;
}

void PrintTo(const RouteCase& c, std::ostream* os) { *os << c.model << " " << c.route; }

class ClosedFormVsOde : public ::testing::TestWithParam<RouteCase> {};

TEST_P(ClosedFormVsOde, AgreeToOneInAMillion) {
  const auto& c = GetParam();
  const sim::Model& model = GetModel(c.model);
  // All outputs: CP and every amount. Values near zero are compared with a floor of 1e-9 of
  // the largest amount in the system (rounding in a compartment that stays empty is not an
  // error; a mismatch at that scale would be).
  std::vector<std::vector<double>> closed(static_cast<std::size_t>(model.OutputCount()));
  double scale = 0;
  for (int column = 0; column < model.OutputCount(); ++column) {
    closed[static_cast<std::size_t>(column)] =
        Simulate(c.model, c.records, {}, sim::Method::kClosedForm, column);
    for (double v : closed[static_cast<std::size_t>(column)]) scale = std::max(scale, std::abs(v));
  }
  ASSERT_GT(scale, 0);
  for (int column = 0; column < model.OutputCount(); ++column) {
    auto dopri = Simulate(c.model, c.records, {}, sim::Method::kDopri5, column, 1e-10, 1e-12);
    auto cvode = Simulate(c.model, c.records, {}, sim::Method::kCvodeBdf, column, 1e-10, 1e-12);
    ExpectRelNear(dopri, closed[static_cast<std::size_t>(column)], 1e-6, 1e-9 * scale);
    ExpectRelNear(cvode, closed[static_cast<std::size_t>(column)], 1e-6, 1e-9 * scale);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryModelAndRoute, ClosedFormVsOde, ::testing::ValuesIn(Cases()),
                         [](const auto& param_info) {
                           return param_info.param.model + "_" + param_info.param.route;
                         });

TEST(ClosedForm, CoincidentEigenvaluesStayFinite) {
  // KA equal to CL/V makes the textbook Bateman formula divide by zero; the matrix
  // exponential gives the limit D·k·t·e^{-kt}/V.
  const double cl = 5, v = 50, k = cl / v;
  std::vector<sim::Record> records = {Dose(0, {.amt = 100}), Obs(1), Obs(5), Obs(20)};
  auto got = Simulate("pk_1cmt_oral", records, {{"CL", cl}, {"V", v}, {"KA", k}},
                      sim::Method::kClosedForm);
  for (std::size_t i = 1; i < records.size(); ++i) {
    const double t = records[i].time;
    EXPECT_NEAR(got[i], 100 * k * t * std::exp(-k * t) / v, 1e-12);
  }
}

TEST(MichaelisMenten, MatchesLambertWSolution) {
  // Bolus into dA/dt = -VMAX·C/(KM+C): t(C) = [KM·ln(C0/C) + (C0 - C)]·V/VMAX exactly.
  // Check the inverse: at the simulated C(t), the implicit solution gives back t.
  const double vmax = 50, km = 5, v = 50, dose = 1000, c0 = dose / v;
  std::vector<sim::Record> records = {Dose(0, {.amt = dose})};
  for (double t = 1; t <= 30; t += 1) records.push_back(Obs(t));
  for (auto method : {sim::Method::kDopri5, sim::Method::kCvodeBdf}) {
    auto c = Simulate("pk_1cmt_mm_iv", records, {{"VMAX", vmax}, {"KM", km}, {"V", v}}, method, 0,
                      1e-10, 1e-12);
    for (std::size_t i = 1; i < records.size(); ++i) {
      const double t_implied = (km * std::log(c0 / c[i]) + (c0 - c[i])) * v / vmax;
      EXPECT_NEAR(t_implied, records[i].time, 1e-6) << sim::MethodName(method);
    }
  }
}

TEST(MichaelisMenten, SteadyStateInfusionSolvesRateBalance) {
  // Constant infusion R at steady state: R = VMAX·C/(KM+C) → C = KM·R/(VMAX-R).
  const double vmax = 50, km = 5, v = 50, rate = 30;
  std::vector<sim::Record> records = {Dose(0, {.amt = 0, .rate = rate, .ss = 1})};
  auto c = Simulate("pk_1cmt_mm_iv", records, {{"VMAX", vmax}, {"KM", km}, {"V", v}},
                    sim::Method::kDopri5);
  EXPECT_NEAR(c[0], km * rate / (vmax - rate), 1e-8);
}

TEST(MichaelisMenten, SteadyStateRegimenIsPeriodic) {
  // At steady state the trough before a dose equals the trough one interval later.
  std::vector<sim::Record> records = {Dose(0, {.amt = 200, .ii = 8, .addl = 3, .ss = 1}),
                                      Obs(7.999), Obs(8), Obs(15.999), Obs(16)};
  auto c = Simulate("pk_1cmt_mm_iv", records, {}, sim::Method::kDopri5, 1);  // A1 in mg
  EXPECT_NEAR(c[2], c[4], 1e-6 * c[2]);
  EXPECT_NEAR(c[0], c[4], 1e-6 * c[0]);  // the record's own output includes its dose
}

TEST(Registry, FindsEveryModelAndRejectsUnknownNames) {
  for (std::string name : {"pk_1cmt_iv", "pk_1cmt_oral", "pk_2cmt_iv", "pk_2cmt_oral", "pk_3cmt_iv",
                           "pk_3cmt_oral", "pk_1cmt_mm_iv"}) {
    auto m = models::FindModel(name);
    ASSERT_TRUE(m.ok()) << name;
    EXPECT_EQ((*m)->Info().outputs.front().name, "CP");
  }
  auto missing = models::FindModel("pk_9cmt");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("pk_2cmt_iv"), std::string::npos);
  EXPECT_FALSE(GetModel("pk_1cmt_mm_iv").IsLinear());
  EXPECT_TRUE(GetModel("pk_3cmt_oral").IsLinear());
}

TEST(Registry, CompartmentNumberingFollowsNonmemAdvans) {
  EXPECT_EQ(GetModel("pk_1cmt_oral").Info().states[1].name, "central");     // ADVAN2
  EXPECT_EQ(GetModel("pk_2cmt_oral").Info().states[2].name, "peripheral");  // ADVAN4
  EXPECT_EQ(GetModel("pk_3cmt_oral").Info().states[0].name, "depot");       // ADVAN12
  EXPECT_EQ(GetModel("pk_3cmt_iv").Info().states[0].name, "central");       // ADVAN11
}

}  // namespace
}  // namespace medtwin::testing
