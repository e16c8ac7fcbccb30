// `medtwin dose` on the warfarin twin's population model: INR values individualize the
// Hamberg model by MAP and the dose that keeps the INR in 2–3 is proposed. Two patients on
// 5 mg/day: a CYP2C9 *1/*1 patient whose INR climbs slowly and a *3/*3 patient whose INR
// overshoots (tests/data/warfarin_inr.csv) — the poor metabolizer is offered far less.
#include <nlohmann/json.hpp>

#include "../support/cli_fixture.h"

namespace {

using medtwin::testing_support::CliFixture;

class WarfarinDoseCli : public CliFixture {};

TEST_F(WarfarinDoseCli, InrValuesGiveAGenotypeAwareDailyDose) {
  std::string err;
  const std::string src = MEDTWIN_SOURCE_DIR;
  ASSERT_EQ(Run("dose --model " + src + "/data/models/warfarin_hamberg2007.json --data " + src +
                    "/tests/data/warfarin_inr.csv --target trough=2:3 --intervals 24 "
                    "--infusion-h 0 --dose-step 0.5 --dose-max 12 --samples 40 --out " +
                    (dir_ / "advice.json").string(),
                &err),
            0)
      << err;
  const auto advice = nlohmann::json::parse(Read(dir_ / "advice.json"));
  ASSERT_EQ(advice["patients"].size(), 2u);
  EXPECT_EQ(advice["observed_output"]["name"], "INR");  // "trough" below is the INR
  const auto& normal = advice["patients"][0];
  const auto& poor = advice["patients"][1];
  EXPECT_EQ(normal["id"], "P11");
  EXPECT_EQ(poor["id"], "P33");
  const double normal_mg = normal["recommended"]["dose_mg"];
  const double poor_mg = poor["recommended"]["dose_mg"];
  EXPECT_GE(normal_mg, 3.0);
  EXPECT_LE(normal_mg, 10.0);
  EXPECT_LT(poor_mg, 0.5 * normal_mg);
  // The predicted steady-state INR trough of the recommendation lies in the target.
  for (const auto* p : {&normal, &poor}) {
    const double trough = (*p)["recommended"]["trough"];
    EXPECT_GT(trough, 1.8);
    EXPECT_LT(trough, 3.2);
  }
}

}  // namespace
