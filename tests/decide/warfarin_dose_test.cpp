// The IWPC warfarin algorithms against doses worked out by hand from the published equations
// (IWPC, N Engl J Med 2009;360:753, appendix): sqrt(weekly dose) = 5.6044 − 0.2614·decades +
// 0.0087·height + 0.0128·weight − 0.8677·VKORC1 A/G − 1.6974·A/A − 0.4854·VKORC1 unknown −
// 0.5211·*1/*2 − 0.9357·*1/*3 − 1.0616·*2/*2 − 1.9206·*2/*3 − 2.3312·*3/*3 − 0.2188·CYP2C9
// unknown − 0.1092·Asian − 0.2760·Black − 0.1032·missing/mixed + 1.1816·inducer −
// 0.5503·amiodarone.
#include <gtest/gtest.h>

#include "medtwin/decide/warfarin_dose.h"

namespace {

using medtwin::decide::IwpcClinicalDose;
using medtwin::decide::IwpcPharmacogeneticDose;
using medtwin::decide::IwpcRace;
using medtwin::decide::WarfarinPatient;

WarfarinPatient Base() {
  WarfarinPatient p;
  p.age_years = 65;  // 6th decade as IWPC codes it
  p.height_cm = 170;
  p.weight_kg = 80;
  p.race = IwpcRace::kWhite;
  p.cyp2c9 = "*1/*1";
  p.vkorc1 = "G/G";
  return p;
}

TEST(IwpcWarfarin, WorkedCasesFromThePublishedEquation) {
  // 5.6044 − 0.2614·6 + 0.0087·170 + 0.0128·80 = 6.5390 → 42.7585 mg/week, 6.108 mg/day.
  auto d = IwpcPharmacogeneticDose(Base());
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_NEAR(d->sqrt_weekly, 6.5390, 1e-9);
  EXPECT_NEAR(d->weekly_mg, 42.758521, 1e-6);
  EXPECT_NEAR(d->daily_mg, 42.758521 / 7, 1e-6);
  // *3/*3 and A/A: 6.5390 − 2.3312 − 1.6974 = 2.5104 → 6.30210816 mg/week.
  WarfarinPatient sensitive = Base();
  sensitive.cyp2c9 = "*3/*3";
  sensitive.vkorc1 = "A/A";
  EXPECT_NEAR(IwpcPharmacogeneticDose(sensitive)->weekly_mg, 6.30210816, 1e-8);
  // *3/*1 (either order), A/G, Asian, amiodarone: 6.5390 − 0.9357 − 0.8677 − 0.1092 − 0.5503
  // = 4.0761 → 16.61459121 mg/week.
  WarfarinPatient mixed = Base();
  mixed.cyp2c9 = "*3/*1";
  mixed.vkorc1 = "A/G";
  mixed.race = IwpcRace::kAsian;
  mixed.amiodarone = true;
  EXPECT_NEAR(IwpcPharmacogeneticDose(mixed)->weekly_mg, 16.61459121, 1e-8);
  // Unknown genotypes, Black, an enzyme inducer, 42 years (4th decade), 160 cm, 95 kg:
  // 5.6044 − 1.0456 + 1.392 + 1.216 − 0.4854 − 0.2188 − 0.2760 + 1.1816 = 7.3682.
  WarfarinPatient unknown = Base();
  unknown.age_years = 42;
  unknown.height_cm = 160;
  unknown.weight_kg = 95;
  unknown.cyp2c9 = "";
  unknown.vkorc1 = "";
  unknown.race = IwpcRace::kBlackOrAfricanAmerican;
  unknown.enzyme_inducer = true;
  EXPECT_NEAR(IwpcPharmacogeneticDose(unknown)->sqrt_weekly, 7.3682, 1e-9);
}

TEST(IwpcWarfarin, ClinicalAlgorithmAndGeneticOrdering) {
  // Clinical: 4.0376 − 0.2546·6 + 0.0118·170 + 0.0134·80 = 5.5880 → 31.225744 mg/week.
  auto c = IwpcClinicalDose(Base());
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->weekly_mg, 31.225744, 1e-8);
  // Every loss of CYP2C9 function or gain of VKORC1 sensitivity lowers the dose.
  double last = 1e9;
  for (const char* g : {"*1/*1", "*1/*2", "*1/*3", "*2/*2", "*2/*3", "*3/*3"}) {
    WarfarinPatient p = Base();
    p.cyp2c9 = g;
    const double w = IwpcPharmacogeneticDose(p)->weekly_mg;
    EXPECT_LT(w, last) << g;
    last = w;
  }
}

TEST(IwpcWarfarin, OutOfRangeInputsNameTheField) {
  WarfarinPatient p = Base();
  p.age_years = 12;
  EXPECT_EQ(IwpcPharmacogeneticDose(p).error().field, "age_years");
  p = Base();
  p.cyp2c9 = "*1/*8";
  EXPECT_EQ(IwpcPharmacogeneticDose(p).error().field, "cyp2c9");
  p = Base();
  p.vkorc1 = "C/T";
  EXPECT_EQ(IwpcPharmacogeneticDose(p).error().field, "vkorc1");
  p = Base();
  p.weight_kg = 0;
  EXPECT_EQ(IwpcClinicalDose(p).error().field, "weight_kg");
}

}  // namespace
