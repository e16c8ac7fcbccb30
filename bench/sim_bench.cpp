// Simulation throughput, the workload of issue #3: 1,000 subjects, 2-compartment IV, 1-h
// infusions of 1 g every 12 h for 14 days, hourly output (337 observations and 28 doses per
// subject), each subject with its own CL/V1/Q/V2 so nothing is shared between them.
// bench/peer_comparison.sh times R deSolve on the same work in the same run.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "medtwin/models/registry.h"
#include "medtwin/sim/simulator.h"

namespace {

using namespace medtwin;

struct Workload {
  const sim::Model* model;
  std::vector<sim::Subject> subjects;
  std::vector<std::vector<double>> params;
};

const Workload& TwoCmtInfusion() {
  static const Workload w = [] {
    Workload out;
    out.model = *models::FindModel("pk_2cmt_iv");
    sim::ParameterLayout layout(out.model->Info());
    std::mt19937 rng(42);
    std::lognormal_distribution<double> eta(0.0, 0.3);
    for (int i = 0; i < 1000; ++i) {
      sim::Subject s{std::to_string(i + 1), {}};
      sim::Record dose;
      dose.evid = sim::Evid::kDose;
      dose.amt = 1000;
      dose.rate = 1000;
      dose.cmt = 1;
      dose.ii = 12;
      dose.addl = 27;
      s.records.push_back(dose);
      for (int h = 0; h <= 336; ++h) {
        sim::Record obs;
        obs.time = h;
        s.records.push_back(obs);
      }
      out.subjects.push_back(std::move(s));
      std::vector<double> p = layout.Defaults();
      p[0] = 4.0 * eta(rng);   // CL, L/h (vancomycin-like)
      p[1] = 30.0 * eta(rng);  // V1, L
      p[2] = 6.0 * eta(rng);   // Q, L/h
      p[3] = 40.0 * eta(rng);  // V2, L
      out.params.push_back(std::move(p));
    }
    return out;
  }();
  return w;
}

void RunAll(benchmark::State& state, sim::Method method) {
  const Workload& w = TwoCmtInfusion();
  sim::SimOptions options;
  options.method = method;
  options.tolerances.rtol = 1e-8;
  options.tolerances.atol = 1e-8;
  auto simulator = sim::Simulator::Create(*w.model, options);
  double checksum = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < w.subjects.size(); ++i) {
      auto r = simulator->Run(w.subjects[i], w.params[i]);
      if (!r.ok()) state.SkipWithError(r.error().ToString().c_str());
      checksum += r->Output(r->times.size() - 1, 0);
    }
  }
  benchmark::DoNotOptimize(checksum);
  state.counters["subjects/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(w.subjects.size()),
      benchmark::Counter::kIsRate);
  state.counters["us/subject"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(w.subjects.size()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Simulate_TwoCmtInfusion_1000Subjects_ClosedForm(benchmark::State& state) {
  RunAll(state, sim::Method::kClosedForm);
}
void BM_Simulate_TwoCmtInfusion_1000Subjects_Dopri5(benchmark::State& state) {
  RunAll(state, sim::Method::kDopri5);
}
void BM_Simulate_TwoCmtInfusion_1000Subjects_CvodeBdf(benchmark::State& state) {
  RunAll(state, sim::Method::kCvodeBdf);
}

BENCHMARK(BM_Simulate_TwoCmtInfusion_1000Subjects_ClosedForm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Simulate_TwoCmtInfusion_1000Subjects_Dopri5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Simulate_TwoCmtInfusion_1000Subjects_CvodeBdf)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
