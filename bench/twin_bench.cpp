// Live drug twins under a refit (the warfarin twin refits and ranks 31 daily doses over 50
// posterior draws on every INR):
//   WarfarinRefit: one FitDrugTwin — the time a shard thread used to be blocked per INR;
//   NeighbourReadDuringWarfarinRefit: on a one-shard engine, an INR for patient w1 starts a
//     refit; the time to read another patient's twin (v1, same shard) right after — with the
//     refit on the fit workers, the shard answers at once.
#include <benchmark/benchmark.h>

#include <chrono>

#include "../tests/support/warfarin_patient.h"
#include "medtwin/io/observation.h"
#include "medtwin/twin/drug_twin.h"
#include "medtwin/twin/engine.h"

namespace {

using namespace medtwin;
using namespace medtwin::twin;

using testing_support::kHourUs;
using testing_support::WarfarinPatient;
using testing_support::WarfarinWeekOf5mg;
constexpr std::int64_t kT0Us = testing_support::kWarfarinT0Us;

record::Observation Obs(const char* patient, std::string_view code, double value, int hours) {
  record::Observation o;
  o.patient = patient;
  o.code = std::string(code);
  o.value = value;
  o.time.us_since_epoch = kT0Us + hours * kHourUs;
  o.source = "bench";
  return o;
}

void BM_WarfarinRefit(benchmark::State& state) {
  DrugFitJob job{WarfarinPatient(), DrugSpecFor(WarfarinPatient()), WarfarinWeekOf5mg(), {}, false};
  job.levels = {{Instant{kT0Us + 98 * kHourUs}, 2.4}, {Instant{kT0Us + 146 * kHourUs}, 3.6}};
  for (auto _ : state) {
    DrugFit fit = FitDrugTwin(job);
    if (!fit.recommendation) state.SkipWithError("no advice");
    benchmark::DoNotOptimize(fit);
  }
}
BENCHMARK(BM_WarfarinRefit)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_NeighbourReadDuringWarfarinRefit(benchmark::State& state) {
  TwinEngine engine(1, {}, {}, 1);
  engine.UpsertPatient(WarfarinPatient());
  record::PatientRecord other;
  other.id = "v1";
  engine.UpsertPatient(other);
  engine.ApplyEvents(WarfarinWeekOf5mg());
  engine.Drain();
  int hour = 100;
  std::size_t running = 0;
  for (auto _ : state) {
    engine.Apply({Obs("w1", record::loinc::kInr, 2.5, hour)});
    engine.Apply({Obs("v1", record::loinc::kHeartRate, 80, hour)});
    const auto start = std::chrono::steady_clock::now();
    auto twin = engine.View("v1");
    const auto stop = std::chrono::steady_clock::now();
    running += engine.DrugFitsInFlight();
    benchmark::DoNotOptimize(twin);
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    engine.Drain();  // the refit finishes outside the timed part
    ++hour;
  }
  // How often the refit was still running when v1 had its answer (1 = always).
  state.counters["refit_still_running"] =
      static_cast<double>(running) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_NeighbourReadDuringWarfarinRefit)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(5);

}  // namespace
