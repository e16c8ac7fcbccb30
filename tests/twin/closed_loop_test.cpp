// The glucose twin closing the loop (patient record `closed_loop`): a virtual patient simulated
// exactly, its CGM fed to the live twin every 5 min and meals announced as events, the twin's
// commands delivered to the simulated patient. The outcome must equal the reference loop
// (RunGlucoseLoop with the same controller and an ideal sensor), and beat basal insulin alone.
#include <gtest/gtest.h>

#include "medtwin/decide/glycemic_metrics.h"
#include "medtwin/models/registry.h"
#include "medtwin/sim/live_simulation.h"
#include "medtwin/twin/glucose_loop.h"
#include "medtwin/twin/kinds/glucose.h"
#include "medtwin/twin/live_twin.h"

namespace medtwin::twin {
namespace {

std::uint64_t Ids() {
  static std::uint64_t n = 5000;
  return ++n;
}

constexpr std::int64_t kOriginUs = 1'800'000'000'000'000LL;
constexpr double kMeals[][2] = {{7 * 60, 50}, {12 * 60, 70}, {18 * 60, 80}};

Instant At(double minute) { return Instant{kOriginUs + static_cast<std::int64_t>(minute * 60e6)}; }

struct DayResult {
  decide::GlycemicMetrics metrics;
  int commands = 0, suspended = 0;
  double bolus_u = 0;
};

// One day of adult#001 under the live twin's commands (`controller` "" = no loop: the
// patient's basal rate only).
DayResult LiveDay(const std::string& controller) {
  auto model = models::FindModel("uva_padova");
  auto vp = models::FindVirtualPatient("adult#001");
  EXPECT_TRUE(model.ok() && vp.ok());
  auto body = sim::LiveSimulation::Create(**model, (*vp)->params, 0);
  EXPECT_TRUE(body.ok());
  models::GlucoseInputs inputs;
  inputs.basal_u_per_min = (*vp)->basal_u_per_min;

  record::PatientRecord record;
  record.id = "loop-1";
  record.models = {"glucose"};
  record.virtual_patient = "adult#001";
  record.closed_loop = controller;
  LiveTwin twin(record);
  DayResult out;
  std::vector<double> bg;
  for (double t = 0; t < 1440; t += 5) {
    bg.push_back(body->Output(0));
    for (const auto& m : kMeals) {
      if (m[0] != t) continue;
      inputs.StartMeal(t, m[1]);
      record::Event e;
      e.patient = record.id;
      e.type = "meal";
      e.amount = m[1];
      e.time = At(t);
      twin.ApplyEvent(e);
    }
    record::Observation cgm;
    cgm.patient = record.id;
    cgm.code = std::string(record::loinc::kCgmGlucose);
    cgm.value = body->Output(1);  // an ideal sensor
    cgm.time = At(t);
    const TwinUpdate u = twin.Apply(cgm, &Ids);
    if (!controller.empty()) {
      EXPECT_TRUE(u.command.has_value()) << "no command at minute " << t;
      if (!u.command) break;
      ++out.commands;
      EXPECT_EQ(u.command->controller, controller);
      EXPECT_EQ(u.command->patient, record.id);
      EXPECT_GE(u.command->basal_u_per_h, 0.0);
      inputs.basal_u_per_min = u.command->basal_u_per_h / 60.0;
      const double bolus = u.command->bolus_u;
      if (bolus > 0) inputs.GiveBolus(t, bolus);
      out.bolus_u += bolus;
      if (u.command->suspended) ++out.suspended;
    } else {
      EXPECT_FALSE(u.command.has_value());
    }
    EXPECT_TRUE(models::AdvanceGlucose(*body, inputs, t + 5).ok());
  }
  out.metrics = decide::ComputeGlycemicMetrics(bg);
  return out;
}

TEST(ClosedLoop, LiveTwinCommandsReproduceTheReferenceLoopAndBeatBasalAlone) {
  const DayResult pid = LiveDay("pid");
  EXPECT_EQ(pid.commands, 288);

  auto model = models::FindModel("uva_padova");
  auto vp = models::FindVirtualPatient("adult#001");
  ASSERT_TRUE(model.ok() && vp.ok());
  LoopOptions options;
  options.controller = decide::ControllerKind::kPid;
  options.cgm.noise = false;
  options.alerts = false;
  for (const auto& m : kMeals) options.meals.push_back({m[0], m[1]});
  auto reference = RunGlucoseLoop(**model, **vp, options);
  ASSERT_TRUE(reference.ok()) << reference.error().ToString();
  // The same controller on the same readings: the same day, to rounding of the time axis.
  EXPECT_NEAR(pid.metrics.mean_mg_dl, reference->metrics.mean_mg_dl, 0.5);
  EXPECT_NEAR(pid.metrics.tir_70_180, reference->metrics.tir_70_180, 1.0);
  EXPECT_NEAR(pid.bolus_u, reference->bolus_u_per_day, 0.1);

  // Basal alone (no meal boluses, no loop): markedly worse.
  const DayResult open = LiveDay("");
  EXPECT_GT(pid.metrics.tir_70_180, open.metrics.tir_70_180 + 10)
      << "loop " << pid.metrics.tir_70_180 << " % vs basal only " << open.metrics.tir_70_180;
  EXPECT_LT(pid.metrics.max_mg_dl, open.metrics.max_mg_dl - 30);
  EXPECT_EQ(pid.metrics.below_54, 0.0);
}

TEST(ClosedLoop, MpcOnTheTwinCommandsAndSuspendsWhenLow) {
  record::PatientRecord record;
  record.id = "loop-2";
  record.models = {"glucose"};
  record.virtual_patient = "adult#001";
  record.closed_loop = "mpc";
  LiveTwin twin(record);
  // Falling CGM into hypoglycemia: insulin must stop below 70 mg/dL.
  bool suspended_low = false;
  for (int k = 0; k < 24; ++k) {
    record::Observation cgm;
    cgm.patient = record.id;
    cgm.code = std::string(record::loinc::kCgmGlucose);
    cgm.value = 140 - 4.0 * k;  // 140 → 48 mg/dL over 2 h
    cgm.time = At(5.0 * k);
    const TwinUpdate u = twin.Apply(cgm, &Ids);
    ASSERT_TRUE(u.command.has_value());
    EXPECT_EQ(u.command->controller, "mpc");
    EXPECT_EQ(u.command->time, cgm.time);
    EXPECT_EQ(u.command->valid_for_min, 15);
    if (cgm.value < 70) {
      EXPECT_TRUE(u.command->suspended) << cgm.value;
      EXPECT_EQ(u.command->basal_u_per_h, 0.0);
      EXPECT_EQ(u.command->bolus_u, 0.0);
      suspended_low = true;
    }
  }
  EXPECT_TRUE(suspended_low);
  const TwinView view = twin.View();
  const auto* glucose = view.Find<GlucoseView>("glucose");
  ASSERT_NE(glucose, nullptr);
  ASSERT_TRUE(glucose->last_command.has_value());
  EXPECT_TRUE(glucose->last_command->suspended);
}

}  // namespace
}  // namespace medtwin::twin
