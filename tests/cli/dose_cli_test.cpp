// `medtwin dose` for a drug that is not vancomycin (issue 17, item 6): the route, menu and
// targets come from the drug's population model file; targets combine ranges, including a
// peak limit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "../support/cli_fixture.h"

namespace {

namespace fs = std::filesystem;

class DoseCli : public medtwin::testing_support::CliFixture {
 protected:
  // Theoph's subject 1 (R's data set): 320 mg orally, four of its levels over 24 h.
  fs::path TheophSubject() {
    const fs::path data = dir_ / "theoph1.csv";
    std::ofstream(data) << "ID,TIME,EVID,AMT,DV\n"
                           "1,0,1,319.992,.\n"
                           "1,0.57,0,.,6.57\n"
                           "1,3.82,0,.,8.58\n"
                           "1,9.05,0,.,6.89\n"
                           "1,24.37,0,.,3.28\n";
    return data;
  }
};

// Oral theophylline used to get vancomycin's menu ("250 mg q8h, infusion_h 1") and no peak
// limit (Cmax 24.7 mg/L, above the toxic 20). Now: tablets (no infusion), the drug's menu in
// 100-mg steps, and a recommendation whose predicted trough and peak lie in 5-15 and 5-20 mg/L.
TEST_F(DoseCli, OralTheophyllineGetsItsOwnRouteMenuAndTargets) {
  std::string err;
  const fs::path out = dir_ / "advice.json";
  ASSERT_EQ(Run("dose --model theophylline_theoph --data " + TheophSubject().string() +
                    " --samples 100 --out " + out.string(),
                &err),
            0)
      << err;
  const auto j = nlohmann::json::parse(std::ifstream(out));
  EXPECT_EQ(j["dosing"]["route"], "oral");
  EXPECT_EQ(j["dosing"]["dose_step_mg"], 100);
  EXPECT_EQ(j["target"], "trough 5-15 mg/L, peak 5-20 mg/L");
  EXPECT_NE(j["target_source"].get<std::string>().find("NAEPP"), std::string::npos);
  const auto& rec = j["patients"][0]["recommended"];
  EXPECT_EQ(rec["infusion_h"], 0);
  EXPECT_EQ(static_cast<int>(rec["dose_mg"].get<double>()) % 100, 0);
  EXPECT_LE(rec["cmax"].get<double>(), 20.0) << rec.dump();
  EXPECT_GE(rec["trough"].get<double>(), 5.0) << rec.dump();
  EXPECT_LE(rec["trough"].get<double>(), 15.0) << rec.dump();
  EXPECT_GT(rec["pta"].get<double>(), 0.3) << rec.dump();
  // Every alternative on the menu is oral too.
  for (const auto& alt : j["patients"][0]["alternatives"]) EXPECT_EQ(alt["infusion_h"], 0);
  // An infusion time for an oral drug is refused, naming the option.
  EXPECT_EQ(Run("dose --model theophylline_theoph --data " + TheophSubject().string() +
                    " --infusion-h 1 --out " + out.string(),
                &err),
            2);
  EXPECT_NE(err.find("--infusion-h"), std::string::npos) << err;
  EXPECT_NE(err.find("orally"), std::string::npos) << err;
}

// A command-line target replaces the file's; a model file without a "dosing" section (what
// popfit writes) takes its route from the structural model and asks for the rest.
TEST_F(DoseCli, CommandLineTargetsAndModelsWithoutDosing) {
  std::string err;
  const fs::path out = dir_ / "advice.json";
  ASSERT_EQ(Run("dose --model theophylline_theoph --data " + TheophSubject().string() +
                    " --target auc24=200:300 --samples 50 --out " + out.string(),
                &err),
            0)
      << err;
  const auto j = nlohmann::json::parse(std::ifstream(out));
  EXPECT_EQ(j["target"], "AUC24 200-300 mg*h/L");
  const double auc = j["patients"][0]["recommended"]["auc24"];
  EXPECT_GE(auc, 200);
  EXPECT_LE(auc, 300);
  // The same model without its dosing section.
  auto model = nlohmann::json::parse(
      std::ifstream(fs::path(MEDTWIN_SOURCE_DIR) / "data/models/theophylline_theoph.json"));
  model.erase("dosing");
  model["name"] = "theophylline_plain";
  const fs::path plain = dir_ / "plain.json";
  std::ofstream(plain) << model.dump();
  const std::string base = "dose --model " + plain.string() + " --data " +
                           TheophSubject().string() + " --out " + out.string() + " --samples 50";
  EXPECT_EQ(Run(base, &err), 2);
  EXPECT_NE(err.find("--target"), std::string::npos) << err;
  EXPECT_NE(err.find("no \"dosing\" section"), std::string::npos) << err;
  EXPECT_EQ(Run(base + " --target trough=5:15", &err), 2);
  EXPECT_NE(err.find("--dose-step"), std::string::npos) << err;
  ASSERT_EQ(Run(base + " --target trough=5:15 --dose-step 50 --dose-max 600", &err), 0) << err;
  const auto k = nlohmann::json::parse(std::ifstream(out));
  EXPECT_EQ(k["dosing"]["route"], "oral");  // pk_1cmt_oral doses into its depot
  EXPECT_EQ(k["patients"][0]["recommended"]["infusion_h"], 0);
}

// Time above the MIC as a target (time-dependent antibiotics): the recommendation meets it.
TEST_F(DoseCli, TimeAboveMicTarget) {
  const fs::path data = dir_ / "levels.csv";
  std::ofstream(data) << "ID,TIME,EVID,AMT,RATE,II,ADDL,DV,CRCL,WT\n"
                         "P1,0,1,1000,1000,12,3,.,70,80\n"
                         "P1,2,0,.,.,.,.,28,.,.\n"
                         "P1,11.9,0,.,.,.,.,12,.,.\n";
  std::string err;
  const fs::path out = dir_ / "advice.json";
  ASSERT_EQ(
      Run("dose --model vancomycin_buelga2005 --data " + data.string() +
              " --target mic=10 --target time_above_mic=90:100 --samples 50 --out " + out.string(),
          &err),
      0)
      << err;
  const auto rec = nlohmann::json::parse(std::ifstream(out))["patients"][0]["recommended"];
  EXPECT_GE(rec["time_above_mic_pct"].get<double>(), 90) << rec.dump();
  // Above the MIC for 90 % of the interval means the trough is near or above it.
  EXPECT_GT(rec["trough"].get<double>(), 8) << rec.dump();
}

}  // namespace

namespace {

// Every subject is plotted (fit used to show 4 of 12 and dose 2 of 12, silently): four to a
// page, the pages listed in the output.
TEST_F(DoseCli, PlotsShowEverySubject) {
  const fs::path theoph =
      fs::path(MEDTWIN_SOURCE_DIR) / ".." / "shared" / "data" / "theophylline" / "theophylline.csv";
  if (!fs::exists(theoph)) GTEST_SKIP() << "needs ../shared beside the repository";
  std::string err;
  const std::string common = " --model theophylline_theoph --data " + theoph.string() +
                             " --ignore-column WT --ignore-column DOSE_MG_KG --plot " +
                             (dir_ / "p.svg").string() + " --out " + (dir_ / "o.json").string();
  ASSERT_EQ(Run("fit" + common, &err), 0) << err;
  auto plots = nlohmann::json::parse(std::ifstream(dir_ / "o.json"))["plots"];
  ASSERT_EQ(plots.size(), 3u) << plots.dump();
  EXPECT_EQ(plots[2], (dir_ / "p_3.svg").string());
  std::ifstream page(plots[2].get<std::string>());
  const std::string svg((std::istreambuf_iterator<char>(page)), std::istreambuf_iterator<char>());
  EXPECT_NE(svg.find("theophylline_theoph on theophylline.csv"), std::string::npos);
  EXPECT_NE(svg.find("ID 12 observed"), std::string::npos);
  ASSERT_EQ(Run("dose --samples 20" + common, &err), 0) << err;
  plots = nlohmann::json::parse(std::ifstream(dir_ / "o.json"))["plots"];
  ASSERT_EQ(plots.size(), 3u);
}

}  // namespace
