// NPDE (Brendel 2006; Comets, Brendel & Mentré 2008) as a property: for data simulated from a
// model, the model's NPDE are standard normal; for the same data under a model with twice the
// clearance they are not.
#include "medtwin/estimate/population_simulation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../sim/sim_test_util.h"

namespace medtwin::estimate {
namespace {

using testing::Dose;
using testing::Obs;

TEST(Npde, StandardNormalUnderTheModelThatMadeTheData) {
  auto model = FindPopulationModel("theophylline_theoph");
  ASSERT_TRUE(model.ok());
  auto estimator = MapEstimator::Create(*model);
  ASSERT_TRUE(estimator.ok());
  // 40 subjects, 320 mg, six levels each; their DV one simulation of the model.
  std::vector<sim::Subject> subjects;
  for (int i = 0; i < 40; ++i) {
    sim::Subject s{std::to_string(i + 1), {Dose(0, {.amt = 320})}};
    for (double t : {0.5, 1.0, 2.0, 5.0, 9.0, 24.0}) s.records.push_back(Obs(t));
    subjects.push_back(std::move(s));
  }
  auto data = SimulatePopulation(*estimator, subjects, 1, 17);
  ASSERT_TRUE(data.ok());
  for (const auto& r : *data) {
    for (std::size_t k = 0; k < r.dv.size(); ++k) subjects[r.subject].records[k].dv = r.dv[k];
  }
  auto moments = [&](MapEstimator& est) {
    auto npde = ComputeNpde(est, subjects, 1000, 5);
    EXPECT_TRUE(npde.ok());
    double sum = 0, sq = 0;
    int n = 0;
    for (const auto& subject : *npde) {
      for (double v : subject) {
        if (std::isnan(v)) continue;
        sum += v;
        sq += v * v;
        ++n;
      }
    }
    EXPECT_EQ(n, 240);
    const double mean = sum / n;
    return std::pair{mean, std::sqrt(sq / n - mean * mean)};
  };
  const auto [mean, sd] = moments(*estimator);
  EXPECT_LT(std::abs(mean), 0.15);
  EXPECT_GT(sd, 0.85);
  EXPECT_LT(sd, 1.15);
  PopulationModel wrong = *model;
  for (auto& p : wrong.parameters) {
    if (p.name == "CL") p.typical *= 2;
  }
  auto wrong_estimator = MapEstimator::Create(wrong);
  ASSERT_TRUE(wrong_estimator.ok());
  const auto [wrong_mean, wrong_sd] = moments(*wrong_estimator);
  EXPECT_GT(wrong_mean, 0.4) << "observed levels above a model that clears twice as fast";
  (void)wrong_sd;
}

}  // namespace
}  // namespace medtwin::estimate
