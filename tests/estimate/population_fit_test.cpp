// FOCE-I population estimation on data simulated from known population values: estimates
// come back within their own reported standard errors, and η̂ track the simulated η.
#include "medtwin/estimate/population_fit.h"

#include <gtest/gtest.h>

#include <numbers>

#include <random>

#include "../sim/sim_test_util.h"

namespace medtwin::estimate {
namespace {

using testing::Dose;
using testing::Obs;

struct Cohort {
  std::vector<sim::Subject> subjects;
  std::vector<std::pair<double, double>> true_eta;  // (η_CL, η_V) per subject
};

// n subjects of pk_1cmt_iv (CL 4 L/h, V 40 L), 100 mg bolus, levels at `times` with additive
// noise σ (or, when proportional, noise of SD σ·prediction); η_CL = w_cl·z1,
// η_V = w_v·(ρ·z1 + sqrt(1−ρ²)·z2).
Cohort SimulateCohort(int n, double w_cl, double w_v, double rho, double sigma,
                      const std::vector<double>& times, unsigned seed, bool proportional = false) {
  const sim::Model& model = testing::GetModel("pk_1cmt_iv");
  sim::ParameterLayout layout(model.Info());
  auto simulator = sim::Simulator::Create(model);
  std::mt19937 rng(seed);
  std::normal_distribution<double> z;
  Cohort c;
  for (int i = 0; i < n; ++i) {
    const double z1 = z(rng), z2 = z(rng);
    const double e_cl = w_cl * z1, e_v = w_v * (rho * z1 + std::sqrt(1 - rho * rho) * z2);
    c.true_eta.emplace_back(e_cl, e_v);
    sim::Subject s{std::to_string(i + 1), {Dose(0, {.amt = 100})}};
    for (double t : times) s.records.push_back(Obs(t));
    auto p = layout.Defaults();
    p[0] = 4 * std::exp(e_cl);
    p[1] = 40 * std::exp(e_v);
    auto r = simulator->Run(s, p);
    EXPECT_TRUE(r.ok());
    for (std::size_t k = 1; k < s.records.size(); ++k) {
      const double f = r->Output(k, 0);
      s.records[k].dv = f + sigma * (proportional ? f : 1.0) * z(rng);
    }
    c.subjects.push_back(std::move(s));
  }
  return c;
}

TEST(PopulationFit, RecoversKnownPopulationFromSimulatedData) {
  const sim::Model& model = testing::GetModel("pk_1cmt_iv");
  const double cl = 4, v = 40, omega_cl = 0.09, omega_v = 0.04, sigma = 0.05;
  const Cohort cohort = SimulateCohort(30, std::sqrt(omega_cl), std::sqrt(omega_v), 0, sigma,
                                       {0.5, 2.0, 6.0, 12.0, 18.0, 24.0}, 3);
  const auto& subjects = cohort.subjects;
  const auto& true_eta = cohort.true_eta;
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
  // The OFV as NONMEM reports it: −2LL without n·ln(2π) (issue 17; NONMEM and nlmixr2 give
  // 116.8 on Theophylline where the −2LL is 359.4: tests/peer/theoph_nlme.R).
  EXPECT_EQ(fit->observations, 30 * 6);
  EXPECT_NEAR(fit->minus_2ll - fit->ofv, 180 * std::log(2 * std::numbers::pi), 1e-9);
  // The covariance step: one matrix on the natural scale behind every SE; a correlation
  // matrix with a unit diagonal; a Newton step would gain nothing.
  EXPECT_TRUE(fit->covariance_ok) << fit->covariance_reason;
  ASSERT_EQ(fit->estimate_names,
            (std::vector<std::string>{"CL", "V", "omega_CL", "omega_V", "sigma_additive"}));
  EXPECT_DOUBLE_EQ(fit->typical_se[1], std::sqrt(fit->covariance(1, 1)));
  EXPECT_DOUBLE_EQ(fit->omega_se[0], std::sqrt(fit->covariance(2, 2)));
  for (Eigen::Index k = 0; k < 5; ++k) EXPECT_NEAR(fit->correlation(k, k), 1.0, 1e-12);
  EXPECT_GE(fit->condition_number, 1.0);
  EXPECT_LT(fit->expected_decrease, 0.01);
  EXPECT_NE(fit->convergence_reason.find("Newton step"), std::string::npos);
  // Data drawn from the model: CWRES and IWRES are close to standard normal (Hooker 2007),
  // PRED − RES is DV, and there is one row per observation.
  ASSERT_EQ(fit->diagnostics.size(), 180u);
  double sum = 0, sum_sq = 0, iw_sq = 0;
  for (const auto& d : fit->diagnostics) {
    EXPECT_NEAR(d.pred + d.res, d.dv, 1e-9);
    sum += d.cwres;
    sum_sq += d.cwres * d.cwres;
    iw_sq += d.iwres * d.iwres;
  }
  const double mean = sum / 180, sd = std::sqrt(sum_sq / 180 - mean * mean);
  EXPECT_LT(std::abs(mean), 0.15);
  EXPECT_GT(sd, 0.85);
  EXPECT_LT(sd, 1.15);
  EXPECT_GT(std::sqrt(iw_sq / 180), 0.7);  // below 1 by ε-shrinkage only
  EXPECT_LT(std::sqrt(iw_sq / 180), 1.1);
}

// Every structural parameter is a fixed effect (issue 17, item 1): with IIV on CL only, V is
// still estimated (the truth is 40, the model's default 50), unless fixed; a fixed one is
// reported as set, without a standard error.
TEST(PopulationFit, ParametersWithoutIivAreEstimatedUnlessFixed) {
  const sim::Model& model = testing::GetModel("pk_1cmt_iv");
  const Cohort cohort =
      SimulateCohort(30, std::sqrt(0.09), 0.0, 0, 0.05, {0.5, 2.0, 6.0, 12.0, 18.0, 24.0}, 5);
  PopFitOptions options;
  options.iiv = {"CL"};
  auto fit = FitPopulation(model, cohort.subjects, options);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  ASSERT_EQ(fit->parameter_names, (std::vector<std::string>{"CL", "V"}));
  EXPECT_EQ(fit->fixed, (std::vector<bool>{false, false}));
  EXPECT_NEAR(fit->typical[1], 40, 3 * fit->typical_se[1]);
  EXPECT_LT(std::abs(fit->typical[1] - 40), 2.0);
  EXPECT_NEAR(fit->typical[0], 4, 3 * fit->typical_se[0]);
  options.fixed = {{"V", 50}};
  options.initial = {{"CL", 3}};
  auto held = FitPopulation(model, cohort.subjects, options);
  ASSERT_TRUE(held.ok()) << held.error().ToString();
  EXPECT_EQ(held->fixed, (std::vector<bool>{false, true}));
  EXPECT_EQ(held->typical[1], 50);
  EXPECT_TRUE(std::isnan(held->typical_se[1]));
  EXPECT_GT(held->ofv, fit->ofv + 10);  // holding V at the wrong value costs likelihood
  options.fixed = {{"VMAX", 1}};
  EXPECT_EQ(FitPopulation(model, cohort.subjects, options).error().field, "--fix");
}

TEST(PopulationFit, FullOmegaRecoversCorrelatedEtas) {
  // η_CL and η_V simulated with correlation 0.8: the full-Ω fit finds a strong positive
  // correlation and a lower −2LL than the diagonal fit of the same data.
  const sim::Model& model = testing::GetModel("pk_1cmt_iv");
  const std::vector<sim::Subject> subjects =
      SimulateCohort(40, 0.3, 0.25, 0.8, 0.05, {0.5, 2.0, 6.0, 12.0, 24.0}, 11).subjects;
  PopFitOptions options;
  options.iiv = {"CL", "V"};
  auto diag = FitPopulation(model, subjects, options);
  options.full_omega = true;
  auto full = FitPopulation(model, subjects, options);
  ASSERT_TRUE(diag.ok());
  ASSERT_TRUE(full.ok()) << full.error().ToString();
  EXPECT_TRUE(full->converged);
  const auto& om = full->omega_matrix;
  const double corr = om(0, 1) / std::sqrt(om(0, 0) * om(1, 1));
  EXPECT_GT(corr, 0.6);
  EXPECT_LT(corr, 0.95);
  EXPECT_DOUBLE_EQ(diag->omega_matrix(0, 1), 0.0);
  // Adding the covariance must improve −2LL clearly (likelihood-ratio test, 1 df: > 3.84).
  EXPECT_GT(diag->ofv - full->ofv, 3.84);
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

// Issue 17, item 2: a proportional error cannot weigh a record the model predicts to be 0
// (Theophylline's pre-dose samples): the fit is refused naming the record, where it used to
// report an OFV of 6.3e11 with every parameter at its start and "converged". A combined error
// fits the same data.
TEST(PopulationFit, ProportionalErrorRefusesARecordPredictedZero) {
  const sim::Model& model = testing::GetModel("pk_1cmt_iv");
  Cohort cohort = SimulateCohort(12, 0.3, 0.2, 0, 0.1, {0.5, 2.0, 6.0, 12.0, 24.0}, 7, true);
  sim::Record pre_dose = Obs(0);
  pre_dose.dv = 0.05;
  pre_dose.source_line = 42;
  auto& first = cohort.subjects[3].records;
  first.insert(first.begin(), pre_dose);
  PopFitOptions options;
  options.iiv = {"CL", "V"};
  options.error = ResidualKind::kProportional;
  auto refused = FitPopulation(model, cohort.subjects, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "DV");
  const std::string message = refused.error().ToString();
  EXPECT_NE(message.find("line 42 (ID 4, TIME 0)"), std::string::npos) << message;
  EXPECT_NE(message.find("--error combined"), std::string::npos) << message;
  options.error = ResidualKind::kCombined2;
  auto combined = FitPopulation(model, cohort.subjects, options);
  ASSERT_TRUE(combined.ok()) << combined.error().ToString();
  EXPECT_TRUE(combined->converged) << combined->convergence_reason;
  EXPECT_NEAR(combined->sigma_proportional, 0.1, 0.03);
}

// A purely proportional error has one σ: every estimate gets a standard error (an unused
// additive coordinate once made the Hessian singular and every SE null).
TEST(PopulationFit, ProportionalErrorEstimatesWithStandardErrors) {
  const sim::Model& model = testing::GetModel("pk_1cmt_iv");
  const Cohort cohort =
      SimulateCohort(30, 0.3, 0.2, 0, 0.1, {0.5, 2.0, 6.0, 12.0, 18.0, 24.0}, 13, true);
  PopFitOptions options;
  options.iiv = {"CL", "V"};
  options.error = ResidualKind::kProportional;
  auto fit = FitPopulation(model, cohort.subjects, options);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  EXPECT_TRUE(fit->converged) << fit->convergence_reason;
  EXPECT_TRUE(fit->covariance_ok) << fit->covariance_reason;
  EXPECT_EQ(fit->estimate_names.back(), "sigma_proportional");
  EXPECT_EQ(fit->sigma_additive, 0.0);
  EXPECT_NEAR(fit->sigma_proportional, 0.1, 3 * fit->estimate_se.back());
  EXPECT_NEAR(fit->typical[0], 4, 3 * fit->typical_se[0]);
  EXPECT_NEAR(fit->typical[1], 40, 3 * fit->typical_se[1]);
}

// Convergence is judged, not assumed: a search stopped by its iteration limit says so.
TEST(PopulationFit, ReportsASearchThatDidNotConverge) {
  const sim::Model& model = testing::GetModel("pk_1cmt_iv");
  const Cohort cohort = SimulateCohort(12, 0.3, 0.2, 0, 0.05, {0.5, 2.0, 6.0, 12.0}, 17);
  PopFitOptions options;
  options.iiv = {"CL", "V"};
  options.max_iterations = 2;
  options.initial = {{"CL", 1.0}, {"V", 150.0}};
  auto fit = FitPopulation(model, cohort.subjects, options);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  EXPECT_FALSE(fit->converged);
  EXPECT_NE(fit->convergence_reason.find("iteration limit (2)"), std::string::npos)
      << fit->convergence_reason;
}

// What a pharmacometrician looks for is said: with no variability in V in the data, ω²_V
// falls near 0 and its η-shrinkage is high; a two-compartment model fitted to levels of a
// one-compartment drug leaves the peripheral parameters with huge relative standard errors.
TEST(PopulationFit, WarnsOfVariancesNearZeroAndUndeterminedEstimates) {
  const Cohort cohort =
      SimulateCohort(20, 0.3, 0.0, 0, 0.05, {0.5, 2.0, 6.0, 12.0, 18.0, 24.0}, 19);
  PopFitOptions options;
  options.iiv = {"CL", "V"};
  auto fit = FitPopulation(testing::GetModel("pk_1cmt_iv"), cohort.subjects, options);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  EXPECT_LT(fit->omega[1], 1e-3);
  ASSERT_EQ(fit->warnings.size(), 1u);
  EXPECT_NE(fit->warnings[0].find("omega_V"), std::string::npos) << fit->warnings[0];
  // CL's η̂ are well informed (rich sampling): little shrinkage; V's are all ~0.
  EXPECT_LT(fit->eta_shrinkage[0], 0.2);
  EXPECT_GT(fit->eta_shrinkage[1], 0.5);
  // ε-shrinkage of a well-specified model with 6 levels a subject and 2 η: small.
  EXPECT_LT(std::abs(fit->epsilon_shrinkage), 0.3);
  const Cohort varied =
      SimulateCohort(20, 0.3, 0.2, 0, 0.05, {0.5, 2.0, 6.0, 12.0, 18.0, 24.0}, 19);
  options.iiv = {"CL", "V1"};
  auto over = FitPopulation(testing::GetModel("pk_2cmt_iv"), varied.subjects, options);
  ASSERT_TRUE(over.ok()) << over.error().ToString();
  bool q_flagged = false;
  for (const auto& w : over->warnings) q_flagged |= w.starts_with("Q has a relative standard");
  EXPECT_TRUE(q_flagged) << (over->warnings.empty() ? "" : over->warnings[0]);
}

// Missing standard errors come with the reason: levels drawn only right after a bolus say
// nothing about clearance, and the covariance step names CL.
TEST(PopulationFit, SaysWhyStandardErrorsAreMissing) {
  const Cohort cohort = SimulateCohort(20, 0.0, 0.3, 0, 0.05, {0.0, 0.0, 0.0}, 23);
  PopFitOptions options;
  options.iiv = {"V"};
  auto fit = FitPopulation(testing::GetModel("pk_1cmt_iv"), cohort.subjects, options);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  ASSERT_FALSE(fit->covariance_ok);
  EXPECT_NE(fit->covariance_reason.find("along a direction made mostly of CL"), std::string::npos)
      << fit->covariance_reason;
  EXPECT_TRUE(std::isnan(fit->typical_se[0]));
  EXPECT_TRUE(std::isnan(fit->typical_se[1]));
}

// A covariate effect estimated with the rest (issue 17): CL = 4·(WT/70)^0.75·e^η over weights
// 45-110 kg. The exponent comes back within 3 SE, and explaining the weight effect shrinks
// ω²(CL) and lowers the OFV (likelihood-ratio test, 1 df).
TEST(PopulationFit, EstimatesACovariateEffect) {
  const sim::Model& model = testing::GetModel("pk_1cmt_iv");
  sim::ParameterLayout layout(model.Info());
  auto simulator = sim::Simulator::Create(model);
  std::mt19937 rng(29);
  std::normal_distribution<double> z;
  std::uniform_real_distribution<double> weight(45, 110);
  std::vector<sim::Subject> subjects;
  for (int i = 0; i < 40; ++i) {
    const double wt = weight(rng);
    sim::Record dose = Dose(0, {.amt = 100});
    dose.covariates = {wt};
    sim::Subject s{std::to_string(i + 1), {dose}};
    for (double t : {0.5, 2.0, 6.0, 12.0, 24.0}) s.records.push_back(Obs(t));
    auto p = layout.Defaults();
    p[0] = 4 * std::pow(wt / 70, 0.75) * std::exp(0.15 * z(rng));
    p[1] = 40 * std::exp(0.2 * z(rng));
    auto r = simulator->Run(s, p);
    ASSERT_TRUE(r.ok());
    for (std::size_t k = 1; k < s.records.size(); ++k) {
      s.records[k].dv = r->Output(k, 0) + 0.05 * z(rng);
    }
    subjects.push_back(std::move(s));
  }
  PopFitOptions options;
  options.iiv = {"CL", "V"};
  options.covariate_columns = {"WT"};
  auto without = FitPopulation(model, subjects, options);
  PopFitOptions::Covariate wt{"CL", {"WT", CovariateKind::kPower, 70, 0, {}}};
  options.covariates = {wt};
  auto with = FitPopulation(model, subjects, options);
  ASSERT_TRUE(without.ok() && with.ok());
  ASSERT_EQ(with->covariate_effects.size(), 1u);
  const double exponent = with->covariate_effects[0].effect.coefficient;
  EXPECT_NEAR(exponent, 0.75, 3 * with->covariate_se[0]) << with->covariate_se[0];
  EXPECT_LT(with->covariate_se[0], 0.2);
  EXPECT_NEAR(with->typical[0], 4, 3 * with->typical_se[0]);
  EXPECT_LT(with->omega[0], 0.6 * without->omega[0]);
  EXPECT_GT(without->ofv - with->ofv, 3.84);
  // A column the data do not have, or a kind not estimated, is refused naming --covariate.
  options.covariates = {{"CL", {"HT", CovariateKind::kPower, 170, 0, {}}}};
  EXPECT_EQ(FitPopulation(model, subjects, options).error().field, "--covariate");
}

}  // namespace
}  // namespace medtwin::estimate
