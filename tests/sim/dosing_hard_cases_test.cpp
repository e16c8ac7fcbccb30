// The hard cases listed in ../shared/models/dosing_events.md, each checked against analytic
// superposition of single-dose responses (tests/sim/sim_test_util.h): steady state is
// represented there by thousands of explicit earlier doses, so the engine's steady-state
// solver is checked against a construction it does not use. Every case runs with the closed
// form, DOPRI5 and CVODE.
#include <gtest/gtest.h>

#include "sim_test_util.h"

namespace medtwin::testing {
namespace {

using sim::Evid;
using sim::Method;

struct MethodCase {
  Method method;
  double rel;  // agreement required with the analytic reference
};

void PrintTo(const MethodCase& c, std::ostream* os) { *os << sim::MethodName(c.method); }

class HardCases : public ::testing::TestWithParam<MethodCase> {};

std::vector<double> At(const Exponentials& h, const std::vector<RefDose>& doses,
                       const std::vector<double>& times) {
  std::vector<double> out;
  for (double t : times) out.push_back(Reference(h, doses, t));
  return out;
}

std::vector<sim::Record> WithObservations(std::vector<sim::Record> doses,
                                          const std::vector<double>& times) {
  // Observations after doses at the same time (so the dose counts).
  std::vector<sim::Record> out;
  std::size_t d = 0;
  for (double t : times) {
    while (d < doses.size() && doses[d].time <= t) out.push_back(doses[d++]);
    out.push_back(Obs(t));
  }
  while (d < doses.size()) out.push_back(doses[d++]);
  return out;
}

// Keeps only the outputs of observation records.
std::vector<double> ObsOnly(const std::vector<sim::Record>& records, const std::vector<double>& v) {
  std::vector<double> out;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i].evid == Evid::kObservation) out.push_back(v[i]);
  }
  return out;
}

constexpr int kBack = -3000;  // implied doses: 3000 intervals back is steady state to rounding

TEST_P(HardCases, SteadyStateWithLagTime) {
  const double cl = 4, v = 40, ka = 0.9, lag = 1.5, ii = 12;
  const std::vector<double> times = {0, 0.5, 1.5, 2, 6, 11.99, 12, 13.6, 30, 50, 60};
  auto records = WithObservations({Dose(0, {.amt = 100, .ii = ii, .addl = 3, .ss = 1})}, times);
  auto got = ObsOnly(
      records, Simulate("pk_1cmt_oral", records, {{"CL", cl}, {"V", v}, {"KA", ka}, {"ALAG1", lag}},
                        GetParam().method));
  std::vector<RefDose> doses;
  AddTrain(doses, {0, 100, 0, ka}, lag, ii, kBack, 3);
  ExpectRelNear(got, At(OneCmt(cl, v), doses, times), GetParam().rel);
}

TEST_P(HardCases, SteadyStateWithLagLongerThanInterval) {
  // ALAG 14 h > II 12 h: at t=0 one implied dose (arrival 2 h) is still on its way.
  const double cl = 4, v = 40, ka = 0.9, lag = 14, ii = 12;
  const std::vector<double> times = {0, 1, 2, 3, 13.9, 14, 15, 40};
  auto records = WithObservations({Dose(0, {.amt = 100, .ii = ii, .ss = 1})}, times);
  auto got = ObsOnly(
      records, Simulate("pk_1cmt_oral", records, {{"CL", cl}, {"V", v}, {"KA", ka}, {"ALAG1", lag}},
                        GetParam().method));
  std::vector<RefDose> doses;
  AddTrain(doses, {0, 100, 0, ka}, lag, ii, kBack, 0);
  ExpectRelNear(got, At(OneCmt(cl, v), doses, times), GetParam().rel);
}

TEST_P(HardCases, SteadyStateInfusionWithBioavailability) {
  // F1 = 0.6: 1000 mg at 500 mg/h lasts 1000·0.6/500 = 1.2 h, the rate stays 500 mg/h.
  const double cl = 5, v = 30, ii = 12;
  const std::vector<double> times = {0, 0.6, 1.2, 2, 11, 12, 12.6, 24.5};
  auto records =
      WithObservations({Dose(0, {.amt = 1000, .rate = 500, .ii = ii, .addl = 1, .ss = 1})}, times);
  auto got = ObsOnly(records, Simulate("pk_1cmt_iv", records, {{"CL", cl}, {"V", v}, {"F1", 0.6}},
                                       GetParam().method));
  std::vector<RefDose> doses;
  AddTrain(doses, {0, 600, 500}, 0, ii, kBack, 1);
  ExpectRelNear(got, At(OneCmt(cl, v), doses, times), GetParam().rel);
}

TEST_P(HardCases, SteadyStateInfusionLongerThanInterval) {
  // 20-h infusions every 12 h overlap: two run at once for 8 h of each interval.
  const double cl = 5, v1 = 20, q = 8, v2 = 60, ii = 12;
  const std::vector<double> times = {0, 4, 7.99, 8, 8.01, 12, 20, 30, 50};
  auto records =
      WithObservations({Dose(0, {.amt = 1000, .rate = 50, .ii = ii, .addl = 2, .ss = 1})}, times);
  auto got =
      ObsOnly(records, Simulate("pk_2cmt_iv", records,
                                {{"CL", cl}, {"V1", v1}, {"Q", q}, {"V2", v2}}, GetParam().method));
  std::vector<RefDose> doses;
  AddTrain(doses, {0, 1000, 50}, 0, ii, kBack, 2);
  ExpectRelNear(got, At(TwoCmt(cl, v1, q, v2), doses, times), GetParam().rel);
}

TEST_P(HardCases, SteadyStateInfusionEqualToInterval) {
  // Duration == II: a constant infusion in effect; concentration stays at CSS = rate/CL.
  const double cl = 5, v = 30, ii = 12, rate = 1000.0 / 12;
  const std::vector<double> times = {0, 3, 12, 18, 24};
  auto records =
      WithObservations({Dose(0, {.amt = 1000, .rate = rate, .ii = ii, .addl = 1, .ss = 1})}, times);
  auto got =
      ObsOnly(records, Simulate("pk_1cmt_iv", records, {{"CL", cl}, {"V", v}}, GetParam().method));
  std::vector<RefDose> doses;
  AddTrain(doses, {0, 1000, rate}, 0, ii, kBack, 1);
  auto want = At(OneCmt(cl, v), doses, times);
  ExpectRelNear(got, want, GetParam().rel);
  // While the regimen runs, C = rate/CL exactly; after the last infusion ends (t=24) too.
  for (double c : got) EXPECT_NEAR(c, rate / cl, 1e-6 * rate / cl);
}

TEST_P(HardCases, ModeledDurationWithSteadyState) {
  // RATE = -2: duration from D1 (3 h), rate = AMT·F1/D1.
  const double cl = 3, v = 25, ii = 8, dur = 3, f = 0.8;
  const std::vector<double> times = {0, 1, 3, 5, 8, 9, 20};
  auto records =
      WithObservations({Dose(0, {.amt = 400, .rate = -2, .ii = ii, .addl = 1, .ss = 1})}, times);
  auto got =
      ObsOnly(records, Simulate("pk_1cmt_iv", records,
                                {{"CL", cl}, {"V", v}, {"D1", dur}, {"F1", f}}, GetParam().method));
  std::vector<RefDose> doses;
  AddTrain(doses, {0, 400 * f, 400 * f / dur}, 0, ii, kBack, 1);
  ExpectRelNear(got, At(OneCmt(cl, v), doses, times), GetParam().rel);
}

TEST_P(HardCases, ModeledRateWithoutSteadyState) {
  // RATE = -1: rate from R1, duration = AMT·F1/R1.
  const double cl = 3, v = 25;
  const std::vector<double> times = {0, 1, 2, 2.5, 6};
  auto records = WithObservations({Dose(0, {.amt = 300, .rate = -1})}, times);
  auto got = ObsOnly(records, Simulate("pk_1cmt_iv", records, {{"CL", cl}, {"V", v}, {"R1", 120}},
                                       GetParam().method));
  ExpectRelNear(got, At(OneCmt(cl, v), {{0, 300, 120}}, times), GetParam().rel);
}

TEST_P(HardCases, ResetAndDoseWithSteadyStateAndAdditionalDoses) {
  // A first regimen, then EVID 4 (reset + dose) with SS=1 and ADDL=2 at t=50: everything
  // before is wiped and replaced by the steady state of 200 mg every 8 h.
  const double cl = 4, v = 40, ka = 1.2, ii = 8;
  const std::vector<double> times = {10, 49.9, 50, 51, 58, 66, 74, 90};
  auto records = WithObservations(
      {Dose(0, {.amt = 500, .ii = 12, .addl = 10}),
       Dose(50, {.amt = 200, .ii = ii, .addl = 2, .ss = 1, .evid = Evid::kResetDose})},
      times);
  auto got = ObsOnly(records, Simulate("pk_1cmt_oral", records, {{"CL", cl}, {"V", v}, {"KA", ka}},
                                       GetParam().method));
  std::vector<RefDose> before, after;
  AddTrain(before, {0, 500, 0, ka}, 0, 12, 0, 10);
  AddTrain(after, {0, 200, 0, ka}, 50, ii, kBack, 2);
  std::vector<double> want;
  for (double t : times) {
    want.push_back(t < 50 ? Reference(OneCmt(cl, v), before, t)
                          : Reference(OneCmt(cl, v), after, t));
  }
  ExpectRelNear(got, want, GetParam().rel);
}

TEST_P(HardCases, ResetThenNewDosesWithLag) {
  // Lagged doses pending at the reset (t=15: arrivals at 16 and 20) are cancelled; a dose
  // given after the reset arrives ALAG later as usual.
  const double cl = 4, v = 40, ka = 1.2, lag = 2;
  const std::vector<double> times = {14, 15, 16, 17, 18, 19, 20, 25};
  std::vector<sim::Record> records = {Dose(0, {.amt = 100}),
                                      Dose(10, {.amt = 100, .ii = 4, .addl = 2}),
                                      Obs(14),
                                      Reset(15),
                                      Obs(15),
                                      Obs(16),
                                      Dose(17, {.amt = 80}),
                                      Obs(17),
                                      Obs(18),
                                      Obs(19),
                                      Obs(20),
                                      Obs(25)};
  auto got = ObsOnly(
      records, Simulate("pk_1cmt_oral", records, {{"CL", cl}, {"V", v}, {"KA", ka}, {"ALAG1", lag}},
                        GetParam().method));
  std::vector<RefDose> before = {{2, 100, 0, ka}, {12, 100, 0, ka}};
  std::vector<RefDose> after = {{19, 80, 0, ka}};
  std::vector<double> want;
  for (double t : times) {
    want.push_back(t < 15 ? Reference(OneCmt(cl, v), before, t)
                          : Reference(OneCmt(cl, v), after, t));
  }
  ExpectRelNear(got, want, GetParam().rel);
}

TEST_P(HardCases, SteadyStateAddedOnTopOfExistingRegimen) {
  // SS=2 at t=12: the steady state of 50 mg every 24 h is added to what the doses at 0 and 6
  // left; those earlier doses keep acting.
  const double cl = 5, v1 = 20, q = 8, v2 = 60;
  const std::vector<double> times = {6, 11.99, 12, 13, 24, 36, 60};
  auto records = WithObservations({Dose(0, {.amt = 100}), Dose(6, {.amt = 100}),
                                   Dose(12, {.amt = 50, .ii = 24, .addl = 1, .ss = 2})},
                                  times);
  auto got =
      ObsOnly(records, Simulate("pk_2cmt_iv", records,
                                {{"CL", cl}, {"V1", v1}, {"Q", q}, {"V2", v2}}, GetParam().method));
  // Before t=12 only the explicit doses act; from 12 on, the whole regimen is added.
  const std::vector<RefDose> earlier = {{0, 100}, {6, 100}};
  std::vector<RefDose> all = earlier;
  AddTrain(all, {0, 50}, 12, 24, kBack, 1);
  std::vector<double> want;
  for (double t : times)
    want.push_back(Reference(TwoCmt(cl, v1, q, v2), t < 12 ? earlier : all, t));
  ExpectRelNear(got, want, GetParam().rel);
}

TEST_P(HardCases, SteadyStateConstantInfusionDoesNotContinue) {
  // SS=1, AMT=0, RATE=100, II=0: compartments at the infusion's steady state (C = rate/CL),
  // and the infusion stops there, so C decays afterwards.
  const double cl = 5, v = 30;
  const std::vector<double> times = {0, 2, 10};
  auto records = WithObservations({Dose(0, {.amt = 0, .rate = 100, .ss = 1})}, times);
  auto got =
      ObsOnly(records, Simulate("pk_1cmt_iv", records, {{"CL", cl}, {"V", v}}, GetParam().method));
  const double css = 100 / cl;
  ExpectRelNear(got, {css, css * std::exp(-cl / v * 2), css * std::exp(-cl / v * 10)},
                GetParam().rel);
}

TEST_P(HardCases, AdditionalDoseAtObservationTimeCounts) {
  // ADDL doses due at an observation's time are given before it (mrgsolve's default, and how
  // the event engine documents ties); so is a dose whose record comes first in the file.
  const double cl = 4, v = 40;
  std::vector<sim::Record> records = {Dose(0, {.amt = 100, .ii = 12, .addl = 1}), Obs(12), Obs(24),
                                      Dose(24, {.amt = 100}), Obs(24)};
  auto got =
      ObsOnly(records, Simulate("pk_1cmt_iv", records, {{"CL", cl}, {"V", v}}, GetParam().method));
  auto h = OneCmt(cl, v);
  std::vector<RefDose> doses = {{0, 100}, {12, 100}};
  const double before = Reference(h, doses, 24);
  doses.push_back({24, 100});
  ExpectRelNear(got, {Reference(h, doses, 12), before, Reference(h, doses, 24)}, GetParam().rel);
}

// A record carrying CL (a data column) at time t.
sim::Record WithCl(sim::Record record, double cl) {
  sim::ParameterLayout layout(GetModel("pk_1cmt_iv").Info());
  record.parameter_updates.assign(static_cast<std::size_t>(layout.size()), std::nan(""));
  record.parameter_updates[static_cast<std::size_t>(layout.Find("CL"))] = cl;
  return record;
}

TEST_P(HardCases, TimeVaryingParametersFromDataColumns) {
  // CL 4 L/h, then a record at t=8 (no dose) carries CL 10. NONMEM's rule, the default (NOCB):
  // 10 governs (4, 8], the interval that ends at that record, and stays after it. --locf:
  // 10 acts from t=8 on (and already in the prediction at 8).
  const double v = 40;
  sim::Record change = WithCl(Obs(8), 10);
  change.evid = sim::Evid::kOther;
  const std::vector<sim::Record> records = {Dose(0, {.amt = 100}), Obs(4), change, Obs(12)};
  const double c4 = 100 / v * std::exp(-4 / v * 4);
  const auto method = GetParam().method;
  ExpectRelNear(Simulate("pk_1cmt_iv", records, {{"CL", 4}, {"V", v}}, method),
                {100 / v, c4, c4 * std::exp(-10 / v * 4), c4 * std::exp(-10 / v * 8)},
                GetParam().rel);
  const double c8 = 100 / v * std::exp(-4 / v * 8);
  ExpectRelNear(Simulate("pk_1cmt_iv", records, {{"CL", 4}, {"V", v}}, method, 0, 1e-10, 1e-12,
                         sim::TimeVarying::kLocf),
                {100 / v, c4, c8, c8 * std::exp(-10 / v * 4)}, GetParam().rel);
}

TEST_P(HardCases, TimeVaryingFirstRecordHoldsFromTheStart) {
  // The dose record carries CL 2 and the observation at 8 carries CL 3; the one at 4 carries
  // none. NOCB: 2 from the start through (0, 4], 3 over (4, 8]. LOCF: 2 until 8, so the state
  // at 8 decayed with 2 (the 3 only starts there).
  const double v = 40;
  const std::vector<sim::Record> records = {WithCl(Dose(0, {.amt = 100}), 2), Obs(4),
                                            WithCl(Obs(8), 3)};
  const double c4 = 100 / v * std::exp(-2 / v * 4);
  const auto method = GetParam().method;
  ExpectRelNear(Simulate("pk_1cmt_iv", records, {{"CL", 9}, {"V", v}}, method),
                {100 / v, c4, c4 * std::exp(-3 / v * 4)}, GetParam().rel);
  ExpectRelNear(Simulate("pk_1cmt_iv", records, {{"CL", 9}, {"V", v}}, method, 0, 1e-10, 1e-12,
                         sim::TimeVarying::kLocf),
                {100 / v, c4, c4 * std::exp(-2 / v * 4)}, GetParam().rel);
}

INSTANTIATE_TEST_SUITE_P(AllMethods, HardCases,
                         ::testing::Values(MethodCase{Method::kClosedForm, 1e-9},
                                           MethodCase{Method::kDopri5, 1e-7},
                                           MethodCase{Method::kCvodeBdf, 2e-5}),
                         [](const auto& param_info) {
                           return std::string(sim::MethodName(param_info.param.method));
                         });

}  // namespace
}  // namespace medtwin::testing
