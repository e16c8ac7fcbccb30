// `medtwin trial` as a user runs it: the output directory's files, the cohort table agreeing
// with the JSON summary, identical results on one or two threads, one-line errors.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include "../support/cli_fixture.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

namespace fs = std::filesystem;

class TrialCli : public medtwin::testing_support::CliFixture {};

TEST_F(TrialCli, WritesCohortTablesPlotsAndTracesReproducibly) {
  std::string err;
  const std::string common =
      "trial --model uva_padova --cohort adults --days 1 --controller "
      "mpc --meals 07:00=45,12:00=70,18:00=80 --seed 3 --out ";
  ASSERT_EQ(Run(common + (dir_ / "a").string() + " --threads 1", &err), 0) << err;
  ASSERT_EQ(Run(common + (dir_ / "b").string() + " --threads 2", &err), 0) << err;
  for (const char* f : {"cohort.csv", "cohort.md", "trial.json", "agp.svg", "cvga.svg",
                        "patients/adult_001.csv", "patients/adult_010.svg"}) {
    EXPECT_TRUE(fs::exists(dir_ / "a" / f)) << f;
  }
  EXPECT_EQ(Read(dir_ / "a" / "cohort.csv"), Read(dir_ / "b" / "cohort.csv"));
  EXPECT_EQ(Read(dir_ / "a" / "patients/adult_004.csv"),
            Read(dir_ / "b" / "patients/adult_004.csv"));
  auto j = nlohmann::json::parse(Read(dir_ / "a" / "trial.json"));
  ASSERT_EQ(j["patients"].size(), 10u);
  double mean_tir = 0;
  for (const auto& p : j["patients"]) {
    const double tir = p["tir_70_180_pct"];
    const double parts =
        static_cast<double>(p["below_70_pct"]) + static_cast<double>(p["above_180_pct"]);
    EXPECT_NEAR(tir + parts, 100, 1e-9);
    mean_tir += tir / 10;
  }
  EXPECT_NEAR(static_cast<double>(j["mean_tir_70_180_pct"]), mean_tir, 1e-9);
  EXPECT_GT(mean_tir, 85);
  // 288 five-minute rows per day plus the header.
  const std::string trace = Read(dir_ / "a" / "patients/adult_001.csv");
  EXPECT_EQ(std::count(trace.begin(), trace.end(), '\n'), 289);
  EXPECT_NE(Read(dir_ / "a" / "cvga.svg").find("Minimum BG (mg/dL)"), std::string::npos);
}

TEST_F(TrialCli, BadInputIsOneLineExitTwo) {
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"--cohort elderly", "--cohort: unknown cohort 'elderly'"},
      {"--controller magic", "--controller: unknown controller 'magic'"},
      {"--meals 07:00=-20", "carbohydrate must be > 0 g"},
      {"--meals breakfast", "is not HH:MM=GRAMS"},
      {"--days 0", "--days: must be 1..365"},
      {"--model pk_2cmt_iv", "trials run on uva_padova"},
  };
  for (const auto& c : cases) {
    std::string err;
    EXPECT_EQ(Run("trial " + c.args + " --out " + (dir_ / "x").string(), &err), 2) << c.args;
    EXPECT_NE(err.find(c.expect), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
  EXPECT_FALSE(fs::exists(dir_ / "x" / "cohort.csv"));
}

TEST_F(TrialCli, SimulateRunsUvaPadovaForAVirtualPatient) {
  const fs::path data = dir_ / "meal.csv";
  std::ofstream(data) << "ID,TIME,EVID,AMT,CMT,RATE\n"
                         "1,0,1,20,11,0.02\n"
                         "1,60,1,50,1,5\n"
                         "1,60,0,.,.,.\n"
                         "1,120,0,.,.,.\n";
  std::string err;
  ASSERT_EQ(Run("simulate --model uva_padova --patient adult#003 --data " + data.string() +
                    " --out " + (dir_ / "o.csv").string(),
                &err),
            0)
      << err;
  const std::string out = Read(dir_ / "o.csv");
  EXPECT_NE(out.find("ID,TIME,EVID,BG,Gsub"), std::string::npos) << out;
  EXPECT_EQ(Run("simulate --model uva_padova --patient adult#099 --data " + data.string() +
                    " --out " + (dir_ / "o2.csv").string(),
                &err),
            2);
  EXPECT_NE(err.find("unknown virtual patient 'adult#099'"), std::string::npos) << err;
  EXPECT_EQ(Run("simulate --model pk_1cmt_iv --patient adult#001 --data " + data.string() +
                    " --out " + (dir_ / "o3.csv").string(),
                &err),
            2);
  EXPECT_NE(err.find("virtual patients belong to model uva_padova"), std::string::npos) << err;
}

}  // namespace
