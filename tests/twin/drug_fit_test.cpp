// Drug-twin refits off the shard thread: a warfarin refit (seconds) does not hold up the other
// patients of its shard, readers of the refitting twin are answered at once from the last fit
// (and told it is refitting), a caller that waits on its own thread sees every level accepted,
// levels that arrive during a refit get a second one, and the result is the same as fitting on the
// spot.
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>

#include "../support/warfarin_patient.h"
#include "medtwin/io/observation.h"
#include "medtwin/twin/drug_twin.h"
#include "medtwin/twin/engine.h"
#include "medtwin/twin/live_twin.h"

namespace medtwin::twin {
namespace {

using testing_support::kHourUs;
using testing_support::WarfarinPatient;
using testing_support::WarfarinWeekOf5mg;
constexpr std::int64_t kT0Us = testing_support::kWarfarinT0Us;

record::Observation Inr(double value, int hours) {
  record::Observation o;
  o.patient = "w1";
  o.code = std::string(record::loinc::kInr);
  o.value = value;
  o.time.us_since_epoch = kT0Us + hours * kHourUs;
  o.source = "lab";
  return o;
}

TEST(DrugFit, RefitsRunOffTheShardAndReadersSeeEveryLevel) {
  std::mutex mu;
  std::vector<record::Recommendation> advice;  // published recommendations
  TwinEngine engine(
      1,
      [&](const std::string&, const TwinEventData& data) {
        std::lock_guard<std::mutex> lock(mu);
        if (const auto* r = std::get_if<record::Recommendation>(&data)) advice.push_back(*r);
      },
      {}, 1);
  engine.UpsertPatient(WarfarinPatient());
  record::PatientRecord other;
  other.id = "v1";
  engine.UpsertPatient(other);  // one shard: the same thread as w1
  engine.ApplyEvents(WarfarinWeekOf5mg());
  // Two INRs in one batch: the first starts a refit, the second arrives while it runs.
  engine.Apply({Inr(2.4, 4 * 24 + 2), Inr(3.6, 6 * 24 + 2)});
  record::Observation hr;
  hr.patient = "v1";
  hr.code = std::string(record::loinc::kHeartRate);
  hr.value = 88;
  hr.time.us_since_epoch = kT0Us + 150 * kHourUs;
  hr.source = "monitor";
  engine.Apply({hr});
  // v1 is answered while w1's refit is still running (on the shard it would have waited).
  const auto v1 = engine.TwinJson("v1");
  ASSERT_TRUE(v1.has_value());
  EXPECT_EQ((*v1)["latest"]["8867-4"]["value"], 88);
  EXPECT_GE(engine.DrugFitsInFlight(), 1u) << "the refit should still be running";
  // A reader is answered at once, from the last complete fit, and told a refit is running.
  const auto during = engine.TwinJson("w1");
  ASSERT_TRUE(during.has_value());
  EXPECT_EQ((*during)["refitting"], true);
  // Waiting on its own thread, a caller then sees both INRs in the fit.
  ASSERT_TRUE(engine.AwaitDrugFit("w1", std::chrono::minutes(2)));
  const auto w1 = engine.TwinJson("w1");
  ASSERT_TRUE(w1.has_value());
  const nlohmann::json& state = (*w1)["model_state"]["warfarin"];
  ASSERT_TRUE(state.contains("parameters")) << state.dump();
  EXPECT_EQ(state["levels"], 2);
  EXPECT_EQ(state["refit_pending"], false);
  EXPECT_EQ((*w1)["refitting"], false);
  ASSERT_EQ((*w1)["recommendations"].size(), 1u);
  const nlohmann::json rec = (*w1)["recommendations"][0];
  engine.Drain();
  EXPECT_EQ(engine.DrugFitsInFlight(), 0u);
  {
    // One fit for the first level, one for the level that came during it; the last one
    // published is the advice the twin shows.
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(advice.size(), 2u);
    EXPECT_EQ(advice.back().dose_mg, rec["dose_mg"].get<double>());
    EXPECT_EQ(advice.back().basis, rec["basis"].get<std::string>());
    EXPECT_EQ(advice.back().patient, "w1");
  }

  // The same data fitted on the spot by a standalone twin: the same posterior and advice.
  LiveTwin standalone(WarfarinPatient());
  for (const auto& e : WarfarinWeekOf5mg()) standalone.ApplyEvent(e);
  standalone.Apply(Inr(2.4, 4 * 24 + 2), nullptr, /*live=*/false);
  standalone.Apply(Inr(3.6, 6 * 24 + 2), nullptr, /*live=*/false);
  EXPECT_TRUE(standalone.OffShardPending());
  standalone.RunOffShardNow();
  EXPECT_FALSE(standalone.OffShardPending());
  const nlohmann::json here = standalone.ToJson();
  EXPECT_EQ(here["model_state"]["warfarin"]["eta"], state["eta"]);
  EXPECT_EQ(here["recommendations"][0]["dose_mg"], rec["dose_mg"]);
  EXPECT_EQ(here["recommendations"][0]["predicted_inr_trough"], rec["predicted_inr_trough"]);

  // A what-if runs on the caller's thread from the installed fit: the recommended dose's INR
  // trough is the one the advice predicted (same posterior; 200 draws instead of 50, so the
  // median may move a little).
  auto what = engine.WhatIf(
      "w1", {{"model", "warfarin"},
             {"regimens", {{{"dose_mg", rec["dose_mg"]}, {"interval_h", 24}, {"infusion_h", 0}}}}});
  ASSERT_TRUE(what.ok()) << what.error().ToString();
  EXPECT_NEAR((*what)["regimens"][0]["trough_mg_l"].get<double>(),
              rec["predicted_inr_trough"].get<double>(), 0.15);
  auto wrong = engine.WhatIf("v1", {{"model", "warfarin"}, {"regimens", nlohmann::json::array()}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().field, "model");
}

// The record's race enters the IWPC pharmacogenetic algorithm with the published coefficients
// on √(weekly dose): Asian −0.1092, Black or African American −0.2760, missing or mixed
// −0.1032 against White (Klein et al., N Engl J Med 2009, supplementary appendix).
TEST(DrugFit, IwpcStartingDoseReadsTheRecordsRace) {
  const Instant now{kT0Us};
  auto sqrt_weekly = [&](const char* race, nlohmann::json* out = nullptr) {
    record::PatientRecord r = WarfarinPatient();
    r.race = race;
    const nlohmann::json dose = IwpcStartingDose(r, {}, now);
    if (out != nullptr) *out = dose;
    return std::sqrt(dose.at("weekly_mg").get<double>());
  };
  const double white = sqrt_weekly("white");
  EXPECT_NEAR(white - sqrt_weekly("asian"), 0.1092, 1e-9);
  EXPECT_NEAR(white - sqrt_weekly("black"), 0.2760, 1e-9);
  nlohmann::json unrecorded, mixed;
  EXPECT_NEAR(white - sqrt_weekly("", &unrecorded), 0.1032, 1e-9);
  EXPECT_NEAR(white - sqrt_weekly("mixed", &mixed), 0.1032, 1e-9);
  EXPECT_NEAR(white - sqrt_weekly("other"), 0.1032, 1e-9);
  EXPECT_NEAR(white - sqrt_weekly("unknown"), 0.1032, 1e-9);
  // Only an unrecorded race is noted as an assumption.
  EXPECT_NE(unrecorded["notes"].dump().find("race not recorded"), std::string::npos);
  EXPECT_EQ(mixed["notes"].dump().find("race not recorded"), std::string::npos);
  EXPECT_EQ(mixed["race"], "mixed");
}

}  // namespace
}  // namespace medtwin::twin
