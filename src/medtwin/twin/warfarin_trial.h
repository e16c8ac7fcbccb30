// twin/warfarin_trial.h — precision twins for warfarin: a virtual population drawn per ancestry
// group (age, height, weight; CYP2C9 and VKORC1 genotypes from the group's allele frequencies
// in data/pgx/ancestry_frequencies.json under Hardy-Weinberg; Hamberg 2007 between-patient
// variability), each patient treated in every arm — a fixed 5 mg/day start or the IWPC
// pharmacogenetic dose — and followed on the Hamberg INR model: time in the therapeutic range
// (INR 2-3), INR above 4, by ancestry, arm and genotype stratum.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "medtwin/core/result.h"

namespace medtwin::twin {

struct WarfarinTrialOptions {
  std::vector<std::string> ancestries = {"european", "east_asian", "african"};
  int patients_per_ancestry = 100;
  int days = 28;
  std::uint64_t seed = 1;
  std::string frequencies_path;  // default: data/pgx/ancestry_frequencies.json
};

struct WarfarinTrialPatient {
  std::string id, ancestry, arm;  // arm: "fixed 5 mg" or "IWPC"
  double age_years = 0, height_cm = 0, weight_kg = 0;
  std::string cyp2c9, vkorc1;  // "*1/*3", "A/G"
  double daily_dose_mg = 0;
  std::vector<double> inr_by_day;  // trough INR, day 1..days (before that day's dose)
  double ttr_pct = 0;              // days 8..days with INR 2-3
  double above4_pct = 0;           // days with INR > 4
};

// Called after each patient (both arms): done, total.
using WarfarinTrialProgress = std::function<void(int, int)>;

[[nodiscard]] Result<std::vector<WarfarinTrialPatient>> RunWarfarinTrial(
    const WarfarinTrialOptions& options, const WarfarinTrialProgress& progress = {});

}  // namespace medtwin::twin
