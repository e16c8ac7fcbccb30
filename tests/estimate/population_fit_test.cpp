// FOCE-I population estimation on data simulated from known population values: estimates
// come back within their own reported standard errors, and η̂ track the simulated η.
#include "medtwin/estimate/population_fit.h"

#include <gtest/gtest.h>

#include <random>

#include "../sim/sim_test_util.h"

namespace medtwin::estimate {
namespace {

using testing::Dose;
using testing::Obs;

TEST(PopulationFit, RecoversKnownPopulationFromSimulatedData) {
  const sim::Model& model = testing::GetModel("pk_1cmt_iv");
  sim::ParameterLayout layout(model.Info());
  auto simulator = sim::Simulator::Create(model);
  const double cl = 4, v = 40, omega_cl = 0.09, omega_v = 0.04, sigma = 0.05;
  std::mt19937 rng(3);
  std::normal_distribution<double> z;
  std::vector<sim::Subject> subjects;
  std::vector<std::pair<double, double>> true_eta;
  for (int i = 0; i < 30; ++i) {
    const double e_cl = std::sqrt(omega_cl) * z(rng), e_v = std::sqrt(omega_v) * z(rng);
    true_eta.emplace_back(e_cl, e_v);
    sim::Subject s{std::to_string(i + 1), {Dose(0, {.amt = 100})}};
    for (double t : {0.5, 2.0, 6.0, 12.0, 18.0, 24.0}) s.records.push_back(Obs(t));
    auto p = layout.Defaults();
    p[0] = cl * std::exp(e_cl);
    p[1] = v * std::exp(e_v);
    auto r = simulator->Run(s, p);
    ASSERT_TRUE(r.ok());
    for (std::size_t k = 1; k < s.records.size(); ++k)
      s.records[k].dv = r->Output(k, 0) + sigma * z(rng);
    subjects.push_back(std::move(s));
  }
  PopFitOptions options;
  options.iiv = {"CL", "V"};
  auto fit = FitPopulation(model, subjects, options);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  EXPECT_TRUE(fit->converged);
  ASSERT_EQ(fit->typical.size(), 2u);
  // Within three reported standard errors, and the standard errors are plausible
  // (ω/√n for a typical value: ~5.5 % for CL, ~3.7 % for V).
  EXPECT_NEAR(fit->typical[0], cl, 3 * fit->typical_se[0]);
  EXPECT_NEAR(fit->typical[1], v, 3 * fit->typical_se[1]);
  EXPECT_GT(fit->typical_se[0] / fit->typical[0], 0.03);
  EXPECT_LT(fit->typical_se[0] / fit->typical[0], 0.09);
  EXPECT_NEAR(fit->omega[0], omega_cl, 3 * fit->omega_se[0]);
  EXPECT_NEAR(fit->omega[1], omega_v, 3 * fit->omega_se[1]);
  EXPECT_NEAR(fit->sigma_additive, sigma, 0.3 * sigma);
  // Rich data: individual η̂ follow the simulated η (up to the shift of the typical value):
  // root-mean-square difference well under ω_CL (0.3), and strongly correlated.
  const double shift = std::log(cl / fit->typical[0]);
  double sq = 0, sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    const double est = fit->etas[i](0), truth = true_eta[i].first + shift;
    sq += (est - truth) * (est - truth);
    sxy += est * truth;
    sxx += est * est;
    syy += truth * truth;
  }
  EXPECT_LT(std::sqrt(sq / static_cast<double>(subjects.size())), 0.06);
  EXPECT_GT(sxy / std::sqrt(sxx * syy), 0.95);
}

TEST(PopulationFit, RejectsUnknownParameterAndEmptyData) {
  const sim::Model& model = testing::GetModel("pk_1cmt_iv");
  PopFitOptions options;
  options.iiv = {"KA"};
  auto r = FitPopulation(model, {sim::Subject{"1", {Dose(0, {.amt = 1})}}}, options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().ToString().find("no parameter 'KA'"), std::string::npos);
  options.iiv = {"CL"};
  auto none = FitPopulation(model, {sim::Subject{"1", {Dose(0, {.amt = 1}), Obs(1)}}}, options);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().ToString().find("no observations"), std::string::npos);
}

}  // namespace
}  // namespace medtwin::estimate
