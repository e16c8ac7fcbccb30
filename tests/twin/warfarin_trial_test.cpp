// Precision twins for warfarin: the virtual population carries the ancestry groups' genotype
// frequencies (Hardy-Weinberg), every patient meets both arms unchanged, and the IWPC
// genotype-guided start cuts over-anticoagulation where the sensitive genotypes are common —
// the direction the dosing trials found (e.g. EU-PACT, Pirmohamed et al., N Engl J Med 2013).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "medtwin/twin/warfarin_trial.h"

namespace {

using medtwin::twin::RunWarfarinTrial;
using medtwin::twin::WarfarinTrialOptions;

TEST(WarfarinTrial, GenotypesFollowTheAncestryFrequencies) {
  WarfarinTrialOptions o;
  o.ancestries = {"east_asian", "european"};
  o.patients_per_ancestry = 1500;
  o.days = 8;
  auto run = RunWarfarinTrial(o);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  std::map<std::string, std::map<std::string, int>> vkorc1, cyp2c9;
  for (const auto& p : *run) {
    if (p.arm != "IWPC") continue;
    ++vkorc1[p.ancestry][p.vkorc1];
    ++cyp2c9[p.ancestry][p.cyp2c9];
  }
  // Hardy-Weinberg expectations from data/pgx/ancestry_frequencies.json, within 4 SE.
  auto expect = [&](int count, double p) {
    const double n = 1500, se = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(count / n, p, 4 * se + 1e-9) << "expected " << p;
  };
  expect(vkorc1["east_asian"]["A/A"], 0.888 * 0.888);
  expect(vkorc1["european"]["A/G"], 2 * 0.388 * 0.612);
  expect(vkorc1["european"]["G/G"], 0.612 * 0.612);
  expect(cyp2c9["european"]["*1/*1"], (1 - 0.127 - 0.069) * (1 - 0.127 - 0.069));
  expect(cyp2c9["european"]["*1/*2"], 2 * 0.127 * (1 - 0.127 - 0.069));
  expect(cyp2c9["east_asian"]["*1/*3"], 2 * 0.034 * (1 - 0.001 - 0.034));
}

TEST(WarfarinTrial, GenotypeGuidedStartingDosesPreventOveranticoagulation) {
  WarfarinTrialOptions o;
  o.ancestries = {"east_asian", "european"};
  o.patients_per_ancestry = 300;
  auto run = RunWarfarinTrial(o);
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->size(), 2u * 600);
  std::map<std::string, double> above4, dose;
  std::map<std::string, int> n;
  for (std::size_t i = 0; i < run->size(); i += 2) {
    // The same patient in both arms: same genotype and covariates.
    const auto& a = (*run)[i];
    const auto& b = (*run)[i + 1];
    ASSERT_EQ(a.id, b.id);
    EXPECT_EQ(a.cyp2c9, b.cyp2c9);
    EXPECT_EQ(a.age_years, b.age_years);
    EXPECT_NE(a.arm, b.arm);
    ASSERT_EQ(a.inr_by_day.size(), 28u);
  }
  for (const auto& p : *run) {
    const std::string key = p.ancestry + "/" + p.arm;
    above4[key] += p.above4_pct;
    dose[key] += p.daily_dose_mg;
    ++n[key];
  }
  // East Asian patients (VKORC1 A/A in ~80 %) need less than 5 mg/day; the IWPC start gives
  // less and halves the days with INR above 4.
  EXPECT_LT(dose["east_asian/IWPC"] / n["east_asian/IWPC"], 4.0);
  EXPECT_LT(above4["east_asian/IWPC"], 0.6 * above4["east_asian/fixed 5 mg"]);
  EXPECT_LT(above4["european/IWPC"], above4["european/fixed 5 mg"]);
  // Reproducible.
  auto again = RunWarfarinTrial(o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[17].inr_by_day, (*run)[17].inr_by_day);
}

TEST(WarfarinTrial, UnknownGroupsAndRangesAreErrors) {
  WarfarinTrialOptions o;
  o.ancestries = {"martian"};
  auto bad = RunWarfarinTrial(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "--ancestry");
  EXPECT_NE(bad.error().message.find("european"), std::string::npos);
  o.ancestries = {"european"};
  o.days = 3;
  EXPECT_EQ(RunWarfarinTrial(o).error().field, "--days");
}

}  // namespace
