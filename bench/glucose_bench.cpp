// Glucose twin throughput (issue #5):
//   OpenLoop: 30 virtual patients × 1 day, basal plus three meals (07:00 45 g, 12:00 70 g,
//     18:00 80 g, 5 g/min) with carb-counted boluses (one-minute infusions), BG every minute,
//     through the record-driven Simulator (DOPRI5, rtol 1e-6) — the work
//     bench/uva_padova_peer.R does in R deSolve the way the reference peer does it;
//   ClosedLoopMpc: 30 patients × 14 days under MPC on each patient's twin (UKF + plans), CGM
//     noise, pump, alerts — `medtwin trial --controller mpc --days 14` on one thread.
// Both report time per patient-day.
#include <benchmark/benchmark.h>

#include <vector>

#include "medtwin/models/glucose.h"
#include "medtwin/models/registry.h"
#include "medtwin/sim/simulator.h"
#include "medtwin/twin/trial.h"

namespace {

using namespace medtwin;

sim::Record Dose(double t, double amt, int cmt, double rate) {
  sim::Record r;
  r.time = t;
  r.evid = sim::Evid::kDose;
  r.amt = amt;
  r.cmt = cmt;
  r.rate = rate;
  return r;
}

// The open-loop day of one patient as records.
sim::Subject OpenLoopDay(const models::VirtualPatient& vp) {
  sim::Subject s{vp.name, {}};
  s.records.push_back(Dose(0, vp.basal_u_per_min * 1440, models::uva::kInsulinCmt,
                           vp.basal_u_per_min));
  const double meals[][2] = {{420, 45}, {720, 70}, {1080, 80}};
  for (int t = 0; t < 1440; ++t) {
    for (const auto& m : meals) {
      if (t == m[0]) {
        s.records.push_back(Dose(t, m[1], models::uva::kMealCmt, 5));
        const double bolus = m[1] / vp.carb_ratio_g_per_u;
        s.records.push_back(Dose(t, bolus, models::uva::kInsulinCmt, bolus));
      }
    }
    sim::Record obs;
    obs.time = t;
    obs.evid = sim::Evid::kObservation;
    s.records.push_back(obs);
  }
  return s;
}

void BM_UvaPadovaOpenLoop30PatientDays(benchmark::State& state) {
  const sim::Model& model = **models::FindModel("uva_padova");
  auto cohort = *models::VirtualCohort("all");
  std::vector<sim::Subject> days;
  std::vector<std::vector<double>> params;
  sim::SimOptions options;  // rtol 1e-6: BG within 2e-4 mg/dL of the reference run
  options.tolerances.rtol = 1e-6;
  options.tolerances.atol = 1e-8;
  auto simulator = std::move(sim::Simulator::Create(model, options)).value();
  for (const auto* vp : cohort) {
    days.push_back(OpenLoopDay(*vp));
    std::vector<double> p = simulator.layout().Defaults();
    std::copy(vp->params.begin(), vp->params.end(), p.begin());
    params.push_back(std::move(p));
  }
  double checksum = 0;
  for (auto _ : state) {
    for (std::size_t k = 0; k < days.size(); ++k) {
      auto r = simulator.Run(days[k], params[k]);
      checksum += r->Output(r->times.size() - 1, 0);
    }
  }
  benchmark::DoNotOptimize(checksum);
  state.counters["us/patient-day"] = benchmark::Counter(
      static_cast<double>(days.size()) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_UvaPadovaOpenLoop30PatientDays)->Unit(benchmark::kMillisecond);

void BM_UvaPadovaClosedLoopMpc30x14Days(benchmark::State& state) {
  const sim::Model& model = **models::FindModel("uva_padova");
  auto cohort = *models::VirtualCohort("all");
  twin::TrialOptions options;
  options.loop.days = 14;
  options.loop.controller = decide::ControllerKind::kMpc;
  options.loop.meals = *twin::ParseMealSpec("07:00=45,12:00=70,18:00=80");
  options.loop.keep_trace = false;
  options.threads = 1;
  for (auto _ : state) {
    auto r = twin::RunTrial(model, cohort, options);
    benchmark::DoNotOptimize(r);
  }
  state.counters["ms/patient-day"] = benchmark::Counter(
      30.0 * 14 * static_cast<double>(state.iterations()) / 1000.0,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_UvaPadovaClosedLoopMpc30x14Days)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
