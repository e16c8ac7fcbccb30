#include "medtwin/twin/trial.h"

#include "medtwin/decide/exposure.h"
#include "medtwin/io/svg_plot.h"

#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace medtwin::twin {

std::uint64_t PatientSeed(std::uint64_t trial_seed, std::size_t k) {
  std::uint64_t z = trial_seed + 0x9E3779B97F4A7C15ULL * (static_cast<std::uint64_t>(k) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Result<std::vector<LoopOutcome>> RunTrial(const sim::Model& model,
                                          const std::vector<const models::VirtualPatient*>& cohort,
                                          const TrialOptions& options,
                                          const TrialProgress& progress) {
  if (cohort.empty()) return InvalidArgument("--cohort", "no patients");
  std::vector<std::optional<Result<LoopOutcome>>> results(cohort.size());
  std::atomic<std::size_t> next{0};
  std::mutex progress_mutex;
  int done = 0;
  auto worker = [&] {
    for (;;) {
      const std::size_t k = next.fetch_add(1);
      if (k >= cohort.size()) return;
      LoopOptions loop = options.loop;
      loop.seed = PatientSeed(options.loop.seed, k);
      results[k] = RunGlucoseLoop(model, *cohort[k], loop);
      std::lock_guard<std::mutex> lock(progress_mutex);
      ++done;
      if (progress) progress(done, static_cast<int>(cohort.size()));
    }
  };
  const int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(cohort.size())));
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  std::vector<LoopOutcome> out;
  for (std::size_t k = 0; k < cohort.size(); ++k) {
    if (!results[k]->ok()) return results[k]->error().WithContext(cohort[k]->name);
    out.push_back(std::move(*results[k]).value());
  }
  return out;
}

GlucoseProfile AmbulatoryGlucoseProfile(const std::vector<LoopOutcome>& runs) {
  std::map<int, std::vector<double>> by_bin;
  for (const auto& r : runs) {
    for (std::size_t k = 0; k < r.trace.t_min.size(); ++k) {
      by_bin[static_cast<int>(std::fmod(r.trace.t_min[k], 1440) / 5)].push_back(
          r.trace.bg_mg_dl[k]);
    }
  }
  GlucoseProfile out;
  for (const auto& [bin, values] : by_bin) {
    out.hour_of_day.push_back(bin * 5 / 60.0);
    for (std::size_t q = 0; q < GlucoseProfile::kQuantiles.size(); ++q) {
      out.mg_dl[q].push_back(decide::Quantile(values, GlucoseProfile::kQuantiles[q]));
    }
  }
  return out;
}

}  // namespace medtwin::twin
