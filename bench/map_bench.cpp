// MAP fit of one vancomycin patient under vancomycin_goti2018 (issue #4): two 1-h infusions of
// 1 g 12 h apart, levels at 11.5 h (trough) and 13.5 h (peak). bench/peer_comparison.sh times
// R's optim on the same objective with deSolve in the same run.
#include <benchmark/benchmark.h>

#include <cmath>

#include "medtwin/estimate/map_estimator.h"

namespace {

using namespace medtwin;

sim::Subject Patient() {
  sim::Subject s{"1", {}};
  sim::Record dose;
  dose.evid = sim::Evid::kDose;
  dose.amt = 1000;
  dose.rate = 1000;
  dose.ii = 12;
  dose.addl = 1;
  const double nan = std::nan("");
  dose.covariates = {80, 85, 0, nan, nan, nan};
  s.records.push_back(dose);
  for (auto [t, y] : {std::pair{11.5, 9.8}, std::pair{13.5, 28.0}}) {
    sim::Record obs;
    obs.time = t;
    obs.dv = y;
    s.records.push_back(obs);
  }
  return s;
}

void BM_MapFit_Vancomycin_Goti2018_TwoLevels(benchmark::State& state) {
  auto model = estimate::FindPopulationModel("vancomycin_goti2018");
  auto estimator = estimate::MapEstimator::Create(*model);
  const sim::Subject subject = Patient();
  double ofv = 0;
  for (auto _ : state) {
    auto fit = estimator->Fit(subject);
    if (!fit.ok()) state.SkipWithError(fit.error().ToString().c_str());
    ofv = fit->ofv;
  }
  state.counters["ofv"] = ofv;
}
BENCHMARK(BM_MapFit_Vancomycin_Goti2018_TwoLevels)->Unit(benchmark::kMicrosecond);

}  // namespace
