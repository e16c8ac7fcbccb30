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
#include "medtwin/twin/kinds/drug.h"
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
  const auto v1 = engine.View("v1");
  ASSERT_TRUE(v1.has_value());
  EXPECT_EQ(v1->latest.at("8867-4").value, 88);
  EXPECT_GE(engine.DrugFitsInFlight(), 1u) << "the refit should still be running";
  // A reader is answered at once, from the last complete fit, and told a refit is running.
  const auto during = engine.View("w1");
  ASSERT_TRUE(during.has_value());
  EXPECT_TRUE(during->refitting);
  // Waiting on its own thread, a caller then sees both INRs in the fit.
  ASSERT_TRUE(engine.AwaitDrugFit("w1", std::chrono::minutes(2)));
  const auto w1 = engine.View("w1");
  ASSERT_TRUE(w1.has_value());
  const auto* state = w1->Find<DrugView>("drug");
  ASSERT_NE(state, nullptr);
  ASSERT_TRUE(state->fit && state->fit->summary) << (state->fit ? state->fit->error : "no fit");
  EXPECT_EQ(state->fit->summary->levels, 2u);
  EXPECT_EQ(state->refit_pending, false);
  EXPECT_FALSE(w1->refitting);
  ASSERT_EQ(w1->recommendations.size(), 1u);
  const record::Recommendation rec = w1->recommendations[0];
  engine.Drain();
  EXPECT_EQ(engine.DrugFitsInFlight(), 0u);
  {
    // One fit for the first level, one for the level that came during it; the last one
    // published is the advice the twin shows.
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(advice.size(), 2u);
    EXPECT_EQ(advice.back().dose_mg, rec.dose_mg);
    EXPECT_EQ(advice.back().basis, rec.basis);
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
  const TwinView here = standalone.View();
  const auto* here_state = here.Find<DrugView>("drug");
  ASSERT_TRUE(here_state != nullptr && here_state->fit && here_state->fit->summary);
  EXPECT_EQ(here_state->fit->summary->eta, state->fit->summary->eta);
  ASSERT_EQ(here.recommendations.size(), 1u);
  EXPECT_EQ(here.recommendations[0].dose_mg, rec.dose_mg);
  EXPECT_EQ(here.recommendations[0].predicted_inr_trough, rec.predicted_inr_trough);

  // A what-if runs on the caller's thread from the installed fit: the recommended dose's INR
  // trough is the one the advice predicted (same posterior; 200 draws instead of 50, so the
  // median may move a little).
  DrugWhatIfPlan plan;
  plan.model = "warfarin";
  plan.regimens = {{rec.dose_mg, 24, 0}};
  auto what = engine.WhatIf("w1", plan);
  ASSERT_TRUE(what.ok()) << what.error().ToString();
  const auto& outcome = dynamic_cast<const DrugWhatIfOutcome&>(**what);
  ASSERT_EQ(outcome.regimens.size(), 1u);
  ASSERT_TRUE(rec.predicted_inr_trough.has_value());
  EXPECT_NEAR(outcome.regimens[0].outcome.trough, *rec.predicted_inr_trough, 0.15);
  auto wrong = engine.WhatIf("v1", plan);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().field, "model");
}

// The record's race enters the IWPC pharmacogenetic algorithm with the published coefficients
// on √(weekly dose): Asian −0.1092, Black or African American −0.2760, missing or mixed
// −0.1032 against White (Klein et al., N Engl J Med 2009, supplementary appendix).
TEST(DrugFit, IwpcStartingDoseReadsTheRecordsRace) {
  const Instant now{kT0Us};
  auto sqrt_weekly = [&](const char* race, IwpcStart* out = nullptr) {
    record::PatientRecord r = WarfarinPatient();
    r.race = race;
    const auto dose = IwpcStartingDose(r, {}, now);
    EXPECT_TRUE(dose.ok()) << dose.error().ToString();
    if (!dose.ok()) return std::nan("");
    if (out != nullptr) *out = *dose;
    return std::sqrt(dose->weekly_mg);
  };
  const double white = sqrt_weekly("white");
  EXPECT_NEAR(white - sqrt_weekly("asian"), 0.1092, 1e-9);
  EXPECT_NEAR(white - sqrt_weekly("black"), 0.2760, 1e-9);
  IwpcStart unrecorded, mixed;
  EXPECT_NEAR(white - sqrt_weekly("", &unrecorded), 0.1032, 1e-9);
  EXPECT_NEAR(white - sqrt_weekly("mixed", &mixed), 0.1032, 1e-9);
  EXPECT_NEAR(white - sqrt_weekly("other"), 0.1032, 1e-9);
  EXPECT_NEAR(white - sqrt_weekly("unknown"), 0.1032, 1e-9);
  // Only an unrecorded race is noted as an assumption.
  auto noted = [](const IwpcStart& d) {
    return std::any_of(d.notes.begin(), d.notes.end(), [](const std::string& n) {
      return n.find("race not recorded") != std::string::npos;
    });
  };
  EXPECT_TRUE(noted(unrecorded));
  EXPECT_FALSE(noted(mixed));
  EXPECT_EQ(mixed.race, "mixed");
  // Without height the algorithm cannot run: an error naming what is missing, not a dose.
  record::PatientRecord no_height = WarfarinPatient();
  no_height.height_cm.reset();
  const auto refused = IwpcStartingDose(no_height, {}, now);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("height_cm"), std::string::npos);
}

}  // namespace
}  // namespace medtwin::twin
