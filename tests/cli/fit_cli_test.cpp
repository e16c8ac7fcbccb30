// `medtwin fit` as a user runs it: FIT.json in the documented shape, one-line errors.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include "../support/cli_fixture.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

namespace fs = std::filesystem;

class FitCli : public medtwin::testing_support::CliFixture {};

TEST_F(FitCli, WritesFitJsonWithEtaParamsSeAndPredictions) {
  const fs::path data = dir_ / "levels.csv";
  std::ofstream(data) << "ID,TIME,EVID,AMT,RATE,II,ADDL,DV,CRCL,WT,DIAL,AGE,SEX,SCR\n"
                         "P1,0,1,1000,1000,12,3,.,80,85,0,.,.,.\n"
                         "P1,11.5,0,.,.,.,.,9.8,.,.,.,.,.,.\n"
                         "P1,25,0,.,.,.,.,31,.,.,.,.,.,.\n"
                         "P2,0,1,1500,1000,12,3,.,.,70,0,72,1,0.9\n";
  std::string err;
  ASSERT_EQ(Run("fit --model vancomycin_goti2018 --data " + data.string() + " --out " +
                    (dir_ / "fit.json").string() + " --plot " + (dir_ / "fit.svg").string(),
                &err),
            0)
      << err;
  std::ifstream in(dir_ / "fit.json");
  auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["model"], "vancomycin_goti2018");
  ASSERT_EQ(j["subjects"].size(), 2u);
  const auto& p1 = j["subjects"][0];
  EXPECT_EQ(p1["id"], "P1");
  for (const char* k : {"CL", "V1", "V2"}) EXPECT_TRUE(p1["eta"].contains(k)) << k;
  // params = typical · exp(η): CL typical for CRCL 80 is 4.5·(80/120)^0.8.
  const double cl = p1["params"]["CL"];
  const double eta_cl = p1["eta"]["CL"];
  EXPECT_NEAR(cl, 4.5 * std::pow(80.0 / 120, 0.8) * std::exp(eta_cl), 1e-9);
  EXPECT_GT(static_cast<double>(p1["se"]["CL"]), 0);
  ASSERT_EQ(p1["predictions"].size(), 2u);
  EXPECT_EQ(p1["predictions"][1]["dv"], 31);
  // P2 has no levels: the prior.
  EXPECT_EQ(j["subjects"][1]["observations"], 0);
  EXPECT_EQ(j["subjects"][1]["eta"]["CL"], 0);
  EXPECT_NE(j["subjects"][1]["note"].get<std::string>().find("population prior"),
            std::string::npos);
  EXPECT_NE(err.find("1 subject(s) without drug levels"), std::string::npos) << err;
  EXPECT_EQ(err.find("P2"), std::string::npos) << "no identifiers on stderr: " << err;
  EXPECT_TRUE(fs::exists(dir_ / "fit.svg"));
}

// Exposure windows: near steady state the AUC over one day of 1 g q12h is 2000 mg / CL (the
// linear-PK identity AUC_tau,ss = dose / CL), and windows add up.
TEST_F(FitCli, ExposureWindowsMatchDoseOverClearanceAtSteadyState) {
  const fs::path data = dir_ / "levels.csv";
  std::ofstream(data) << "ID,TIME,EVID,AMT,RATE,II,ADDL,DV,CRCL,WT,DIAL\n"
                         "P1,0,1,1000,1000,12,40,.,80,85,0\n"
                         "P1,11.5,0,.,.,.,.,9.8,.,.,.\n"
                         "P1,25,0,.,.,.,.,31,.,.,.\n";
  std::string err;
  ASSERT_EQ(
      Run("fit --model vancomycin_goti2018 --data " + data.string() + " --out " +
              (dir_ / "fit.json").string() + " --auc 0:24 --auc 24:48 --auc 0:48 --auc 456:480",
          &err),
      0)
      << err;
  std::ifstream in(dir_ / "fit.json");
  auto j = nlohmann::json::parse(in);
  const auto& p1 = j["subjects"][0];
  const auto& e = p1["exposure"];
  ASSERT_EQ(e.size(), 4u);
  const double cl = p1["params"]["CL"];
  const double day1 = e[0]["auc_mg_h_per_l"], day2 = e[1]["auc_mg_h_per_l"];
  EXPECT_NEAR(day1 + day2, static_cast<double>(e[2]["auc_mg_h_per_l"]), 1e-6 * day1);
  EXPECT_LT(day1, day2);  // accumulation
  EXPECT_NEAR(static_cast<double>(e[3]["auc_mg_h_per_l"]), 2000 / cl, 2e-3 * 2000 / cl);
  EXPECT_GT(static_cast<double>(e[3]["cmax_mg_per_l"]), static_cast<double>(e[3]["cmin_mg_per_l"]));
  // Default windows: whole days up to the last record (25 h → days 1 and 2).
  ASSERT_EQ(Run("fit --model vancomycin_goti2018 --data " + data.string() + " --out " +
                    (dir_ / "fit2.json").string(),
                &err),
            0)
      << err;
  std::ifstream in2(dir_ / "fit2.json");
  auto j2 = nlohmann::json::parse(in2);
  ASSERT_EQ(j2["subjects"][0]["exposure"].size(), 2u);
  EXPECT_EQ(j2["subjects"][0]["exposure"][1]["from_h"], 24);
  EXPECT_EQ(Run("fit --model vancomycin_goti2018 --data " + data.string() + " --out " +
                    (dir_ / "o.json").string() + " --auc 24-48",
                &err),
            2);
  EXPECT_NE(err.find("--auc: '24-48' is not FROM:TO"), std::string::npos) << err;
}

TEST_F(FitCli, BadInputIsOneLineExitTwo) {
  const fs::path data = dir_ / "bad.csv";
  std::ofstream(data) << "ID,TIME,AMT,DV,WT\n1,0,1000,.,70\n1,2,.,20,.\n";
  std::string err;
  EXPECT_EQ(Run("fit --model vancomycin_goti2018 --data " + data.string() + " --out " +
                    (dir_ / "o.json").string(),
                &err),
            2);
  EXPECT_NE(err.find("CRCL: missing for ID 1"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
  EXPECT_FALSE(fs::exists(dir_ / "o.json"));
  EXPECT_EQ(Run("fit --model vancomycin_nobody --data " + data.string() + " --out " +
                    (dir_ / "o.json").string(),
                &err),
            2);
  EXPECT_NE(err.find("unknown population model 'vancomycin_nobody'"), std::string::npos) << err;
}

// A column the model does not use (here HEIGHT_CM) is refused naming --ignore-column, and fit
// and dose take that option as simulate and popfit do (issue 17, item 5): the same answer as
// without the column.
TEST_F(FitCli, FitAndDoseAcceptIgnoreColumn) {
  const std::string rows =
      "P1,0,1,1000,1000,12,3,.,80,85,0,170\n"
      "P1,11.5,0,.,.,.,.,9.8,.,.,.,.\n"
      "P1,25,0,.,.,.,.,31,.,.,.,.\n";
  const fs::path extra = dir_ / "extra.csv";
  std::ofstream(extra) << "ID,TIME,EVID,AMT,RATE,II,ADDL,DV,CRCL,WT,DIAL,HEIGHT_CM\n" << rows;
  const fs::path plain = dir_ / "plain.csv";
  {
    std::ofstream out(plain);
    out << "ID,TIME,EVID,AMT,RATE,II,ADDL,DV,CRCL,WT,DIAL\n";
    std::istringstream in(rows);
    for (std::string line; std::getline(in, line);) out << line.substr(0, line.rfind(',')) << "\n";
  }
  std::string err;
  const std::string fit = "fit --model vancomycin_goti2018 --out ";
  EXPECT_EQ(Run(fit + (dir_ / "a.json").string() + " --data " + extra.string(), &err), 2);
  EXPECT_NE(err.find("--ignore-column"), std::string::npos) << err;
  ASSERT_EQ(Run(fit + (dir_ / "a.json").string() + " --data " + extra.string() +
                    " --ignore-column height_cm",
                &err),
            0)
      << err;
  ASSERT_EQ(Run(fit + (dir_ / "b.json").string() + " --data " + plain.string(), &err), 0) << err;
  auto read = [&](const char* name) { return nlohmann::json::parse(std::ifstream(dir_ / name)); };
  EXPECT_EQ(read("a.json")["subjects"][0]["params"], read("b.json")["subjects"][0]["params"]);
  const std::string dose =
      "dose --model vancomycin_goti2018 --target auc24=400:600 --samples 100 --out ";
  ASSERT_EQ(Run(dose + (dir_ / "c.json").string() + " --data " + extra.string() +
                    " --ignore-column HEIGHT_CM",
                &err),
            0)
      << err;
  ASSERT_EQ(Run(dose + (dir_ / "d.json").string() + " --data " + plain.string(), &err), 0) << err;
  const auto c = read("c.json")["patients"][0]["recommended"];
  const auto d = read("d.json")["patients"][0]["recommended"];
  ASSERT_TRUE(c.contains("dose_mg")) << c.dump();
  EXPECT_EQ(c["dose_mg"], d["dose_mg"]);
  EXPECT_EQ(c["auc24"], d["auc24"]);
}

}  // namespace

namespace {

TEST_F(FitCli, DoseRecommendsARegimenWithForecastQuantiles) {
  const fs::path data = dir_ / "levels.csv";
  std::ofstream(data) << "ID,TIME,EVID,AMT,RATE,II,ADDL,DV,CRCL,WT\n"
                         "P1,0,1,1000,1000,12,3,.,70,80\n"
                         "P1,2,0,.,.,.,.,28,.,.\n"
                         "P1,11.9,0,.,.,.,.,12,.,.\n";
  std::string err;
  ASSERT_EQ(Run("dose --model vancomycin_buelga2005 --data " + data.string() +
                    " --target auc24=400:600 --intervals 12,24 --samples 100"
                    " --what-if 1000@12 --what-if 2000@24/3 --out " +
                    (dir_ / "advice.json").string(),
                &err),
            0)
      << err;
  std::ifstream in(dir_ / "advice.json");
  auto j = nlohmann::json::parse(in);
  const auto& rec = j["patients"][0]["recommended"];
  const double auc = rec["auc24"];
  EXPECT_GE(auc, 400);
  EXPECT_LE(auc, 600);
  EXPECT_EQ(static_cast<double>(rec["dose_mg"]) / 250,
            std::floor(static_cast<double>(rec["dose_mg"]) / 250));
  EXPECT_EQ(j["patients"][0]["start_h"], 48);  // after 4 doses q12h
  EXPECT_GE(j["patients"][0]["alternatives"].size(), 3u);
  // What-if: 1000 mg q12h and 2000 mg q24h have the same daily dose, hence the same AUC24
  // (linear PK), and neither has a higher PTA than the recommendation.
  const auto& what_if = j["patients"][0]["what_if"];
  ASSERT_EQ(what_if.size(), 2u);
  EXPECT_NEAR(static_cast<double>(what_if[0]["auc24"]), static_cast<double>(what_if[1]["auc24"]),
              1e-3 * static_cast<double>(what_if[0]["auc24"]));
  EXPECT_EQ(what_if[1]["infusion_h"], 3);
  EXPECT_LE(static_cast<double>(what_if[0]["pta"]), static_cast<double>(rec["pta"]));
  // Forecast CSV: quantiles ordered at every time.
  std::ifstream f(dir_ / "advice_forecast.csv");
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "ID,TIME,P05,P50,P95,IPRED");
  int rows = 0;
  while (std::getline(f, line)) {
    double t = 0, q05 = 0, q50 = 0, q95 = 0, ipred = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "P1,%lf,%lf,%lf,%lf,%lf", &t, &q05, &q50, &q95, &ipred), 5);
    EXPECT_LE(q05, q50 + 1e-12);
    EXPECT_LE(q50, q95 + 1e-12);
    ++rows;
  }
  EXPECT_EQ(rows, (48 + 72) * 2 + 1);
  EXPECT_EQ(Run("dose --model vancomycin_buelga2005 --data " + data.string() +
                    " --target auc=1:2 --out " + (dir_ / "x.json").string(),
                &err),
            2);
  EXPECT_NE(err.find("unknown target 'auc'"), std::string::npos) << err;
}

}  // namespace
