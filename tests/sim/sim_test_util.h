// Helpers for simulation tests: build records in code, run a registered model, and an
// independent reference — analytic superposition of sums of exponentials.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "medtwin/models/registry.h"
#include "medtwin/sim/simulator.h"

namespace medtwin::testing {

inline sim::Record Obs(double t) {
  sim::Record r;
  r.time = t;
  r.evid = sim::Evid::kObservation;
  return r;
}

struct DoseArgs {
  double amt = 0;
  int cmt = 1;
  double rate = 0;
  double ii = 0;
  int addl = 0;
  int ss = 0;
  sim::Evid evid = sim::Evid::kDose;
};

inline sim::Record Dose(double t, DoseArgs a) {
  sim::Record r;
  r.time = t;
  r.evid = a.evid;
  r.amt = a.amt;
  r.cmt = a.cmt;
  r.rate = a.rate;
  r.ii = a.ii;
  r.addl = a.addl;
  r.ss = a.ss;
  return r;
}

inline sim::Record Reset(double t) {
  sim::Record r;
  r.time = t;
  r.evid = sim::Evid::kReset;
  return r;
}

// Parameter vector for `model` with named overrides ("CL", "F1", "ALAG2", ...).
inline std::vector<double> Params(const sim::Model& model,
                                  const std::map<std::string, double>& values) {
  sim::ParameterLayout layout(model.Info());
  std::vector<double> p = layout.Defaults();
  for (const auto& [name, v] : values) {
    int i = layout.Find(name);
    EXPECT_GE(i, 0) << name;
    if (i >= 0) p[static_cast<std::size_t>(i)] = v;
  }
  return p;
}

inline const sim::Model& GetModel(const std::string& name) {
  auto m = models::FindModel(name);
  EXPECT_TRUE(m.ok());
  return **m;
}

// Runs and returns output column `column` (0 = CP) at every record.
inline std::vector<double> Simulate(const std::string& model_name, std::vector<sim::Record> records,
                                    const std::map<std::string, double>& params,
                                    sim::Method method = sim::Method::kAuto, int column = 0,
                                    double rtol = 1e-10, double atol = 1e-12,
                                    sim::TimeVarying time_varying = sim::TimeVarying::kNocb) {
  const sim::Model& model = GetModel(model_name);
  sim::SimOptions options;
  options.method = method;
  options.time_varying = time_varying;
  options.tolerances.rtol = rtol;
  options.tolerances.atol = atol;
  auto simulator = sim::Simulator::Create(model, options);
  EXPECT_TRUE(simulator.ok());
  for (std::size_t i = 0; i < records.size(); ++i) records[i].source_line = i + 2;
  sim::Subject subject{"1", records};
  auto result = simulator->Run(subject, Params(model, params));
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().ToString());
  std::vector<double> out;
  if (!result.ok()) return out;
  for (std::size_t i = 0; i < records.size(); ++i) out.push_back(result->Output(i, column));
  return out;
}

// Unit-impulse response of the central concentration, h(τ) = Σ c_i e^{-λ_i τ}.
struct Exponentials {
  std::vector<double> c;
  std::vector<double> lambda;
};

// One compartment, k = CL/V: h = e^{-kτ}/V.
inline Exponentials OneCmt(double cl, double v) { return {{1.0 / v}, {cl / v}}; }

// Two compartments (Gibaldi & Perrier, Pharmacokinetics, 2nd ed., ch. 2): α, β roots of
// s² - (k10+k12+k21)s + k10·k21 = 0; h = [(α-k21)e^{-ατ} + (k21-β)e^{-βτ}] / (V1(α-β)).
inline Exponentials TwoCmt(double cl, double v1, double q, double v2) {
  const double k10 = cl / v1, k12 = q / v1, k21 = q / v2;
  const double sum = k10 + k12 + k21, prod = k10 * k21;
  const double disc = std::sqrt(sum * sum - 4 * prod);
  const double alpha = (sum + disc) / 2, beta = (sum - disc) / 2;
  return {{(alpha - k21) / (v1 * (alpha - beta)), (k21 - beta) / (v1 * (alpha - beta))},
          {alpha, beta}};
}

struct RefDose {
  double t_arrival;
  double amount;    // amount reaching the dosing compartment (after F)
  double rate = 0;  // > 0: zero-order infusion of that rate
  double ka = 0;    // > 0: into a first-order depot with this rate constant
};

// Superposition of analytic single-dose responses (independent of the engine).
inline double Reference(const Exponentials& h, const std::vector<RefDose>& doses, double t) {
  double c = 0;
  for (const RefDose& d : doses) {
    const double tau = t - d.t_arrival;
    if (tau < 0) continue;
    for (std::size_t i = 0; i < h.c.size(); ++i) {
      const double ci = h.c[i], li = h.lambda[i];
      if (d.rate > 0) {
        const double dur = d.amount / d.rate;
        const double on = std::min(tau, dur);
        c += d.rate * ci / li * (1 - std::exp(-li * on)) * std::exp(-li * std::max(0.0, tau - dur));
      } else if (d.ka > 0) {
        c += d.amount * ci * d.ka / (d.ka - li) * (std::exp(-li * tau) - std::exp(-d.ka * tau));
      } else {
        c += d.amount * ci * std::exp(-li * tau);
      }
    }
  }
  return c;
}

// A regimen of identical doses every `ii`, arrivals at first + k·ii for k in [k_from, k_to]:
// "steady state" is this with k_from far enough back (thousands of half-lives).
inline void AddTrain(std::vector<RefDose>& doses, RefDose dose, double first, double ii, int k_from,
                     int k_to) {
  for (int k = k_from; k <= k_to; ++k) {
    dose.t_arrival = first + k * ii;
    doses.push_back(dose);
  }
}

inline void ExpectRelNear(const std::vector<double>& got, const std::vector<double>& want,
                          double rel, double abs_floor = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], rel * std::abs(want[i]) + abs_floor) << "at record " << i;
  }
}

}  // namespace medtwin::testing
