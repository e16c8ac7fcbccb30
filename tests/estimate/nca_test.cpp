// Noncompartmental analysis against closed forms: an exponential decline is integrated exactly
// by log trapezoids and fitted exactly by the log-linear terminal phase.
#include "medtwin/estimate/nca.h"

#include <gtest/gtest.h>

#include <cmath>

namespace medtwin::estimate {
namespace {

TEST(Nca, IvBolusExponentialIsExact) {
  // C = 20·e^(−0.1 t): AUC0-∞ = 200, t½ = ln 2 / 0.1, CL = dose / AUC.
  std::vector<double> t = {0, 0.5, 1, 2, 4, 8, 12, 24}, c;
  for (double x : t) c.push_back(20 * std::exp(-0.1 * x));
  auto r = AnalyseProfile(t, c, 1000);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_DOUBLE_EQ(r->cmax, 20);
  EXPECT_DOUBLE_EQ(r->tmax, 0);
  EXPECT_NEAR(r->lambda_z, 0.1, 1e-12);
  EXPECT_NEAR(r->half_life, std::log(2.0) / 0.1, 1e-9);
  EXPECT_NEAR(r->auclast, 200 * (1 - std::exp(-2.4)), 1e-9);
  EXPECT_NEAR(r->aucinf, 200, 1e-9);
  EXPECT_NEAR(r->cl_f, 5, 1e-10);
  EXPECT_NEAR(r->vz_f, 50, 1e-8);
  EXPECT_NEAR(r->adj_r_squared, 1, 1e-12);
  EXPECT_EQ(r->lambda_z_points, 7);  // every point after Tmax
  // Linear trapezoids overestimate a convex decline.
  auto linear = AnalyseProfile(t, c, 1000, {.auc_method = AucMethod::kLinear});
  EXPECT_GT(linear->auclast, r->auclast * 1.01);
}

TEST(Nca, OralProfileApproachesTheClosedForm) {
  // Bateman function, KA 1.5, k 0.08 /h, V 30 L, 300 mg: AUC0-∞ = 300/(0.08·30) = 125, dense
  // sampling to 72 h.
  const double ka = 1.5, k = 0.08, v = 30, dose = 300;
  std::vector<double> t, c;
  for (double x = 0; x <= 72; x += 0.25) {
    t.push_back(x);
    c.push_back(dose / v * ka / (ka - k) * (std::exp(-k * x) - std::exp(-ka * x)));
  }
  auto r = AnalyseProfile(t, c, dose);
  ASSERT_TRUE(r.ok());
  // The best adjusted R² admits points where absorption still shows a little (e^(−KA·t) at
  // 8 h is 6e-6 of the level), so λz and AUCinf are off by under 0.1 %.
  EXPECT_NEAR(r->aucinf, 125, 0.125);
  EXPECT_NEAR(r->lambda_z, k, 1e-3 * k);
  EXPECT_NEAR(r->tmax, std::log(ka / k) / (ka - k), 0.125);
}

TEST(Nca, SaysWhyThereIsNoTerminalPhase) {
  auto rising = AnalyseProfile({0, 1, 2, 3, 4}, {0, 1, 2, 3, 4}, 100);
  ASSERT_TRUE(rising.ok());
  EXPECT_TRUE(std::isnan(rising->lambda_z));
  EXPECT_NE(rising->lambda_z_note.find("fewer than 3"), std::string::npos);
  auto flat = AnalyseProfile({0, 1, 2, 3, 4, 5}, {0, 5, 4, 4, 4, 4.5}, 100);
  ASSERT_TRUE(flat.ok());
  EXPECT_NE(flat->lambda_z_note.find("do not decline"), std::string::npos) << flat->lambda_z_note;
  EXPECT_EQ(AnalyseProfile({0, 1}, {1, -2}, 1).error().field, "DV");
  EXPECT_EQ(AnalyseProfile({0, 2, 1}, {1, 2, 3}, 1).error().field, "TIME");
  // Zeros after the last positive level end AUClast at Tlast.
  auto zeros = AnalyseProfile({0, 1, 2, 3, 4, 6, 8}, {0, 8, 6, 4, 2, 0, 0}, 1);
  EXPECT_DOUBLE_EQ(zeros->tlast, 4);
}

}  // namespace
}  // namespace medtwin::estimate
