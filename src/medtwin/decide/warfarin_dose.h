// decide/warfarin_dose.h — the International Warfarin Pharmacogenetics Consortium's dosing
// algorithms (IWPC, N Engl J Med 2009;360:753-764, supplementary appendix S1e/S1f; endorsed
// by the CPIC warfarin guideline, Johnson JA et al., Clin Pharmacol Ther 2017;102:397-404):
// the square root of the stable weekly dose as a linear function of age (in decades), height,
// weight, race, enzyme inducers (carbamazepine, phenytoin, rifampin), amiodarone and — in the
// pharmacogenetic algorithm — CYP2C9 (*1, *2, *3) and VKORC1 -1639G>A genotypes. Coefficients
// exactly as published.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "medtwin/core/result.h"

namespace medtwin::decide {

enum class IwpcRace { kWhite, kAsian, kBlackOrAfricanAmerican, kMissingOrMixed };

struct WarfarinPatient {
  double age_years = 0;
  double height_cm = 0;
  double weight_kg = 0;
  IwpcRace race = IwpcRace::kMissingOrMixed;
  bool enzyme_inducer = false;  // carbamazepine, phenytoin, rifampin/rifampicin
  bool amiodarone = false;
  // "*1/*1", "*1/*2", "*1/*3", "*2/*2", "*2/*3", "*3/*3" (either order), or "" when unknown.
  std::string cyp2c9;
  // VKORC1 -1639 (rs9923231): "G/G", "A/G", "A/A", or "" when unknown.
  std::string vkorc1;
};

struct WarfarinDose {
  double sqrt_weekly = 0;                             // the regression's value
  double weekly_mg = 0;                               // its square
  double daily_mg = 0;                                // weekly / 7
  std::vector<std::pair<std::string, double>> terms;  // each term's contribution, for display
};

// IWPC's "age in decades": the decade of life as the consortium coded it (10-19 years = 1,
// 20-29 = 2, …), i.e. floor(age / 10).
[[nodiscard]] int IwpcAgeDecades(double age_years);

[[nodiscard]] Result<WarfarinDose> IwpcPharmacogeneticDose(const WarfarinPatient& p);
[[nodiscard]] Result<WarfarinDose> IwpcClinicalDose(const WarfarinPatient& p);

[[nodiscard]] Result<IwpcRace> ParseIwpcRace(const std::string& text);

}  // namespace medtwin::decide
