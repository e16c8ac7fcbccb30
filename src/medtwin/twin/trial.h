// twin/trial.h — an in-silico trial: every virtual patient of a cohort runs the same closed
// loop (controller, meals, days) on its own seed, over several threads; results come back in
// cohort order and do not depend on the number of threads.
#pragma once

#include <array>
#include <functional>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/twin/glucose_loop.h"

namespace medtwin::twin {

struct TrialOptions {
  LoopOptions loop;  // loop.seed is the trial seed; each patient gets one derived from it
  int threads = 1;
};

// Called after each patient finishes (from worker threads, serialized): done, total.
using TrialProgress = std::function<void(int, int)>;

// Patient k's seed: a SplitMix64 step of (trial seed, k), so that adding threads or patients
// does not change anyone's noise.
std::uint64_t PatientSeed(std::uint64_t trial_seed, std::size_t k);

[[nodiscard]] Result<std::vector<LoopOutcome>> RunTrial(
    const sim::Model& model, const std::vector<const models::VirtualPatient*>& cohort,
    const TrialOptions& options, const TrialProgress& progress = {});

// The ambulatory glucose profile: plasma glucose percentiles (5, 25, 50, 75, 95) by time of
// day in 5-min bins, pooled over every patient and day.
struct GlucoseProfile {
  static constexpr std::array<double, 5> kQuantiles = {0.05, 0.25, 0.5, 0.75, 0.95};
  std::vector<double> hour_of_day;
  std::array<std::vector<double>, 5> mg_dl;  // one per quantile, aligned with hour_of_day
};
GlucoseProfile AmbulatoryGlucoseProfile(const std::vector<LoopOutcome>& runs);

}  // namespace medtwin::twin
