// MAP individualization under the vancomycin population models: the estimate equals a
// brute-force minimization of the same objective, known η are recovered from data simulated
// with them, and the covariate preprocessing follows the published rules.
#include "medtwin/estimate/map_estimator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "../sim/sim_test_util.h"

namespace medtwin::estimate {
namespace {

using testing::Dose;
using testing::Obs;

PopulationModel Load(const char* name) {
  auto m = FindPopulationModel(name);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().ToString());
  return *m;
}

// A Goti-model subject: CRCL, WT, DIAL given on the first record (columns CRCL, WT, DIAL, AGE,
// SEX, SCR), 1 g over 1 h every 12 h.
sim::Subject GotiPatient(const std::vector<std::pair<double, double>>& levels, double crcl = 80,
                         double wt = 85, double dial = 0) {
  sim::Subject s{"p1", {}};
  sim::Record first = Dose(0, {.amt = 1000, .rate = 1000, .ii = 12, .addl = 3});
  const double nan = std::nan("");
  first.covariates = {crcl, wt, dial, nan, nan, nan};
  s.records.push_back(first);
  for (auto [t, y] : levels) {
    sim::Record o = Obs(t);
    o.dv = y;
    s.records.push_back(o);
  }
  for (std::size_t i = 0; i < s.records.size(); ++i) s.records[i].source_line = i + 2;
  return s;
}

TEST(PopulationModel, GotiTypicalValuesFollowTheCovariateEquations) {
  PopulationModel m = Load("vancomycin_goti2018");
  auto structural = models::FindModel(m.structural_model);
  ASSERT_TRUE(structural.ok());
  sim::ParameterLayout layout((*structural)->Info());
  auto check = [&](double crcl, double wt, double dial, double cl, double v1) {
    sim::Subject s = GotiPatient({}, crcl, wt, dial);
    auto prepared = PrepareSubject(m, layout, s);
    ASSERT_TRUE(prepared.ok()) << prepared.error().ToString();
    for (std::size_t k = 0; k < m.parameters.size(); ++k) {
      const double v = prepared->typical[0][k];
      if (m.parameters[k].name == "CL") {
        EXPECT_NEAR(v, cl, 1e-12);
      }
      if (m.parameters[k].name == "V1") {
        EXPECT_NEAR(v, v1, 1e-12);
      }
      if (m.parameters[k].name == "V2") {
        EXPECT_NEAR(v, 38.4, 1e-12);
      }
      if (m.parameters[k].name == "Q") {
        EXPECT_NEAR(v, 6.5, 1e-12);
      }
    }
  };
  check(120, 70, 0, 4.5, 58.4);
  check(60, 90, 0, 4.5 * std::pow(0.5, 0.8), 58.4 * 90 / 70);
  check(120, 70, 1, 4.5 * 0.7, 58.4 * 0.5);
}

TEST(PopulationModel, CockcroftGaultWithFloorAndCap) {
  PopulationModel m = Load("vancomycin_goti2018");
  sim::ParameterLayout layout((*models::FindModel(m.structural_model))->Info());
  const double nan = std::nan("");
  auto crcl_of = [&](double age, double sex, double scr, double wt) {
    sim::Subject s = GotiPatient({});
    s.records[0].covariates = {nan, wt, 0, age, sex, scr};
    auto prepared = PrepareSubject(m, layout, s);
    EXPECT_TRUE(prepared.ok());
    for (std::size_t k = 0; k < m.parameters.size(); ++k) {
      if (m.parameters[k].name == "CL")
        return 120 * std::pow(prepared->typical[0][k] / 4.5, 1 / 0.8);
    }
    return nan;
  };
  // Woman, 70 y, SCR 0.8 floored to 1.0 (age > 60): (140-70)·70/72·0.85 = 57.847 mL/min.
  EXPECT_NEAR(crcl_of(70, 1, 0.8, 70), 70.0 * 70 / 72 * 0.85, 1e-9);
  // Man, 40 y, SCR 0.8 (no floor): 100·80/(72·0.8) = 138.9 mL/min.
  EXPECT_NEAR(crcl_of(40, 0, 0.8, 80), 100.0 * 80 / (72 * 0.8), 1e-9);
  // Man, 20 y, SCR 0.5, 90 kg: 300 mL/min capped at 150.
  EXPECT_NEAR(crcl_of(20, 0, 0.5, 90), 150, 1e-9);
}

TEST(PopulationModel, MissingCovariateNamesLineAndColumn) {
  PopulationModel m = Load("vancomycin_goti2018");
  sim::ParameterLayout layout((*models::FindModel(m.structural_model))->Info());
  sim::Subject s = GotiPatient({});
  s.records[0].covariates[0] = std::nan("");  // no CRCL and nothing to compute it from
  auto prepared = PrepareSubject(m, layout, s);
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.error().ToString().find("line 2: CRCL: missing"), std::string::npos)
      << prepared.error().ToString();
}

TEST(PopulationModel, RejectsMalformedFiles) {
  const std::pair<const char*, const char*> cases[] = {
      {"[1,2]", "not a JSON object"},
      {R"({"name":"x"})", "structural_model: missing"},
      {R"({"name":"x","structural_model":"pk_1cmt_iv","parameters":{"CL":{"typical":-1}},
          "residual":{"model":"additive","additive":1}})",
       "typical: must be > 0"},
      {R"({"name":"x","structural_model":"pk_1cmt_iv","parameters":{"CL":{"typical":1,"eta":true}},
          "etas":["CL"],"omega":[[-1]],"residual":{"model":"additive","additive":1}})",
       "positive definite"},
      {R"({"name":"x","structural_model":"pk_1cmt_iv","parameters":{"CL":{"typical":1}},
          "residual":{"model":"cubic"}})",
       "'cubic' is not additive"},
      {R"({"name":"x","structural_model":"pk_1cmt_iv","covariates":[1],"parameters":{}})",
       "malformed population model"},
      {R"({"name":"x","structural_model":"pk_1cmt_iv","covariates":["D"],"parameters":{"CL":{
          "typical":1,"covariates":[{"name":"D","kind":"categorical","factors":{"x":1}}]}}})",
       "parameters.CL.factors: level 'x' is not a whole number"},
  };
  for (auto [text, expected] : cases) {
    auto m = ParsePopulationModel(text, "m.json");
    ASSERT_FALSE(m.ok()) << text;
    EXPECT_NE(m.error().ToString().find(expected), std::string::npos) << m.error().ToString();
  }
}

// Fuzz-style property: random mutations of a valid model file never throw or crash; every
// failure is an error naming the file.
TEST(PopulationModel, RandomMutationsAreErrorsNotCrashes) {
  std::ifstream in(std::string(MEDTWIN_SOURCE_DIR) + "/data/models/vancomycin_goti2018.json");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string valid = buffer.str();
  ASSERT_TRUE(ParsePopulationModel(valid, "m.json").ok());
  const std::string alphabet = "{}[]\":,0123456789.-eE truefalsnul\\";
  std::mt19937 rng(99);
  int failures = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    std::string text = valid;
    for (int e = 0; e < 3; ++e) {
      const std::size_t pos = rng() % text.size();
      if (rng() % 2 == 0) {
        text[pos] = alphabet[rng() % alphabet.size()];
      } else {
        text.erase(pos, 1 + rng() % 8);
      }
    }
    auto m = ParsePopulationModel(text, "m.json");
    if (!m.ok()) {
      ++failures;
      ASSERT_EQ(m.error().ToString().rfind("m.json", 0), 0u) << m.error().ToString();
    }
  }
  EXPECT_GT(failures, 1000);
}

// Brute force: a grid over ±4ω, zoomed 12 times around the best point (factor 4 each time).
Eigen::VectorXd GridMinimum(MapEstimator& est, const sim::Subject& s) {
  const auto& omega = est.model().omega;
  const Eigen::Index n = omega.rows();
  Eigen::VectorXd center = Eigen::VectorXd::Zero(n);
  Eigen::VectorXd half = 4 * omega.diagonal().cwiseSqrt();
  const int steps = 10;  // points per side
  for (int level = 0; level < 14; ++level) {
    double best = std::numeric_limits<double>::infinity();
    Eigen::VectorXd best_x = center;
    std::vector<int> idx(static_cast<std::size_t>(n), -steps);
    for (;;) {
      Eigen::VectorXd x(n);
      for (Eigen::Index i = 0; i < n; ++i)
        x(i) = center(i) + half(i) * idx[static_cast<std::size_t>(i)] / steps;
      auto v = est.Objective(s, x);
      if (v.ok() && *v < best) {
        best = *v;
        best_x = x;
      }
      Eigen::Index k = 0;
      while (k < n && ++idx[static_cast<std::size_t>(k)] > steps)
        idx[static_cast<std::size_t>(k++)] = -steps;
      if (k == n) break;
    }
    center = best_x;
    half /= 4;
  }
  return center;
}

TEST(MapEstimator, EqualsBruteForceMinimumGoti) {
  auto est = MapEstimator::Create(Load("vancomycin_goti2018"));
  ASSERT_TRUE(est.ok());
  sim::Subject s = GotiPatient({{11.5, 9.8}, {25, 31.0}});
  auto fit = est->Fit(s);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  Eigen::VectorXd grid = GridMinimum(*est, s);
  for (Eigen::Index i = 0; i < grid.size(); ++i) EXPECT_NEAR(fit->eta(i), grid(i), 1e-4) << i;
  EXPECT_LE(fit->ofv, *est->Objective(s, grid) + 1e-9);
  EXPECT_EQ(fit->observation_count, 2);
  ASSERT_EQ(fit->predictions.size(), 2u);
  // The individual fit is closer to the levels than the population prediction.
  double ind = 0, pop = 0;
  for (const auto& p : fit->predictions) {
    ind += std::abs(p.ipred - p.dv);
    pop += std::abs(p.pred - p.dv);
  }
  EXPECT_LT(ind, pop);
}

TEST(MapEstimator, EqualsBruteForceMinimumBuelgaWithCorrelatedOmega) {
  auto est = MapEstimator::Create(Load("vancomycin_buelga2005"));
  ASSERT_TRUE(est.ok());
  sim::Subject s{"b", {}};
  sim::Record d = Dose(0, {.amt = 1000, .rate = 1000, .ii = 12, .addl = 2});
  d.covariates = {70, 80, std::nan(""), std::nan(""), std::nan(""), std::nan("")};
  s.records = {d, Obs(2), Obs(11.9)};
  s.records[1].dv = 28;
  s.records[2].dv = 12;
  auto fit = est->Fit(s);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  Eigen::VectorXd grid = GridMinimum(*est, s);
  for (Eigen::Index i = 0; i < grid.size(); ++i) EXPECT_NEAR(fit->eta(i), grid(i), 1e-4) << i;
}

TEST(MapEstimator, RecoversKnownEtaFromRichPreciseData) {
  // Same structure as Goti but a residual SD of 0.01 mg/L: the data dominate the prior, so the
  // MAP η must come back to the η the levels were simulated with.
  auto base = Load("vancomycin_goti2018");
  base.residual = {ResidualKind::kAdditive, 0.01, 0};
  auto est = MapEstimator::Create(base);
  ASSERT_TRUE(est.ok());
  const Eigen::Vector3d truth(0.35, -0.4, 0.25);
  std::vector<std::pair<double, double>> levels;
  for (double t : {0.5, 1.0, 2.0, 4.0, 8.0, 11.9, 13.0, 18.0, 23.9, 30.0, 36.0, 47.0}) {
    levels.emplace_back(t, 0.0);
  }
  sim::Subject s = GotiPatient(levels);
  // Simulate the levels at the true η with the same machinery.
  {
    auto structural = *models::FindModel("pk_2cmt_iv");
    sim::ParameterLayout layout(structural->Info());
    auto prepared = PrepareSubject(base, layout, s);
    ASSERT_TRUE(prepared.ok());
    sim::Subject with_params = s;
    std::vector<double> params = layout.Defaults();
    ApplyEta(base, *prepared, truth, with_params, params);
    auto simulator = sim::Simulator::Create(*structural);
    auto result = simulator->Run(with_params, params);
    ASSERT_TRUE(result.ok());
    for (std::size_t r = 1; r < s.records.size(); ++r) s.records[r].dv = result->Output(r, 0);
  }
  auto fit = est->Fit(s);
  ASSERT_TRUE(fit.ok());
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(fit->eta(i), truth(i), 2e-3) << i;
  // Precise data: the posterior is much narrower than the prior.
  for (int i = 0; i < 3; ++i) EXPECT_LT(fit->eta_covariance(i, i), 0.01 * base.omega(i, i));
}

TEST(MapEstimator, NoLevelsGivesThePrior) {
  auto est = MapEstimator::Create(Load("vancomycin_goti2018"));
  ASSERT_TRUE(est.ok());
  auto fit = est->Fit(GotiPatient({}));
  ASSERT_TRUE(fit.ok());
  EXPECT_EQ(fit->observation_count, 0);
  EXPECT_EQ(fit->eta.norm(), 0.0);
  EXPECT_TRUE(fit->eta_covariance.isApprox(est->model().omega));
}

TEST(MapEstimator, LaplaceCovarianceMatchesCurvatureOfTheObjective) {
  // For the posterior exp(-OFV/2), the Laplace covariance is (½∇²OFV)⁻¹; check it against an
  // independent second difference of the objective along each axis (coarser step).
  auto est = MapEstimator::Create(Load("vancomycin_buelga2005"));
  ASSERT_TRUE(est.ok());
  sim::Subject s{"b", {}};
  sim::Record d = Dose(0, {.amt = 1000, .rate = 1000});
  d.covariates = {70, 80, std::nan(""), std::nan(""), std::nan(""), std::nan("")};
  s.records = {d, Obs(2), Obs(8)};
  s.records[1].dv = 25;
  s.records[2].dv = 14;
  auto fit = est->Fit(s);
  ASSERT_TRUE(fit.ok());
  Eigen::Matrix2d h;
  const double step = 1e-3;
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      Eigen::VectorXd e_i = Eigen::VectorXd::Zero(2), e_j = Eigen::VectorXd::Zero(2);
      e_i(i) = step;
      e_j(j) = step;
      h(i, j) =
          (*est->Objective(s, fit->eta + e_i + e_j) - *est->Objective(s, fit->eta + e_i - e_j) -
           *est->Objective(s, fit->eta - e_i + e_j) + *est->Objective(s, fit->eta - e_i - e_j)) /
          (4 * step * step);
    }
  }
  Eigen::Matrix2d cov = (0.5 * h).inverse();
  EXPECT_TRUE(fit->eta_covariance.isApprox(cov, 1e-3)) << fit->eta_covariance << "\nvs\n" << cov;
}

}  // namespace
}  // namespace medtwin::estimate
