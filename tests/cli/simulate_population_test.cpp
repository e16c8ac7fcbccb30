// `medtwin simulate` as an mrgsolve user reaches for it (issue 17): an output grid besides the
// records, input columns carried to the output, and population simulation from a model file
// with IIV and residual error, checked against closed forms and the model's own Ω and σ.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../support/cli_fixture.h"
#include "../support/csv_rows.h"

namespace {

namespace fs = std::filesystem;

class SimulateCli : public medtwin::testing_support::CliFixture {
 protected:
  static auto Rows(const fs::path& path) { return medtwin::testing_support::CsvRows(path); }
};

TEST_F(SimulateCli, GridRowsAndCarriedColumns) {
  // 100 mg IV bolus, CL 4, V 40: C = 2.5·e^(−0.1 t).
  std::ofstream(dir_ / "in.csv") << "ID,TIME,EVID,AMT,DV,WT,SITE\n"
                                    "7,0,1,100,.,70,A\n"
                                    "7,3,0,.,1.9,71,A\n";
  std::string err;
  ASSERT_EQ(Run("simulate --model pk_1cmt_iv --param CL=4 --param V=40 --data " +
                    (dir_ / "in.csv").string() + " --grid 0:10:2.5 --carry DV,WT,SITE --out " +
                    (dir_ / "out.csv").string(),
                &err),
            0)
      << err;
  const auto rows = Rows(dir_ / "out.csv");
  // The records and the grid, in time order: 0 (dose), 0, 2.5, 3 (record), 5, 7.5, 10.
  ASSERT_EQ(rows.size(), 7u);
  const double times[] = {0, 0, 2.5, 3, 5, 7.5, 10};
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double t = std::stod(rows[r].at("TIME"));
    EXPECT_EQ(t, times[r]);
    EXPECT_NEAR(std::stod(rows[r].at("CP")), 2.5 * std::exp(-0.1 * t), 1e-8) << t;
  }
  EXPECT_EQ(rows[3].at("DV"), "1.9");  // the record's own
  EXPECT_EQ(rows[4].at("DV"), ".");    // a grid row has no observation
  EXPECT_EQ(rows[2].at("WT"), "70");   // carried from the record before
  EXPECT_EQ(rows[6].at("WT"), "71");
  EXPECT_EQ(rows[6].at("SITE"), "A");  // a column the model does not read
  EXPECT_EQ(Run("simulate --model pk_1cmt_iv --data " + (dir_ / "in.csv").string() +
                    " --carry HEIGHT --ignore-column WT --ignore-column SITE --out " +
                    (dir_ / "x.csv").string(),
                &err),
            2);
  EXPECT_NE(err.find("--carry HEIGHT"), std::string::npos) << err;
  EXPECT_EQ(Run("simulate --model pk_1cmt_iv --data " + (dir_ / "in.csv").string() +
                    " --grid 5:1:1 --ignore-column WT --ignore-column SITE --out " +
                    (dir_ / "x.csv").string(),
                &err),
            2);
  EXPECT_NE(err.find("--grid"), std::string::npos) << err;
}

// Population simulation: η drawn from the model's Ω (sample variances within 10 % for 2,000
// subjects), each replicate's prediction the closed form of its own parameters, and DV_SIM −
// prediction with the model's residual SD (additive 0.6966 mg/L); the same seed gives the same
// file, another seed another.
TEST_F(SimulateCli, PopulationFromAModelFile) {
  std::ofstream(dir_ / "in.csv") << "ID,TIME,EVID,AMT,CMT\n"
                                    "1,0,1,320,1\n"
                                    "1,2,0,.,2\n"
                                    "1,12,0,.,2\n";
  const std::string base =
      "simulate --model pk_1cmt_oral --population theophylline_theoph "
      "--subjects 2000 --data " +
      (dir_ / "in.csv").string();
  std::string err;
  ASSERT_EQ(Run(base + " --seed 5 --out " + (dir_ / "a.csv").string(), &err), 0) << err;
  const auto rows = Rows(dir_ / "a.csv");
  ASSERT_EQ(rows.size(), 3u * 2000);
  // The model file's values (data/models/theophylline_theoph.json).
  const double cl = 2.769, v = 31.48, ka = 1.563, sigma = 0.6966;
  const std::map<std::string, double> omega = {{"CL", 0.07008}, {"V", 0.01822}, {"KA", 0.3873}};
  std::map<std::string, double> sum_sq;
  double res_sq = 0;
  int res_n = 0;
  for (const auto& row : rows) {
    if (row.at("EVID") != "0") continue;
    const double e_cl = std::stod(row.at("ETA_CL")), e_v = std::stod(row.at("ETA_V")),
                 e_ka = std::stod(row.at("ETA_KA"));
    if (row.at("TIME") == "2") {  // one row per replicate
      sum_sq["CL"] += e_cl * e_cl;
      sum_sq["V"] += e_v * e_v;
      sum_sq["KA"] += e_ka * e_ka;
    }
    const double ci = cl * std::exp(e_cl), vi = v * std::exp(e_v), kai = ka * std::exp(e_ka);
    const double k = ci / vi, t = std::stod(row.at("TIME"));
    const double closed = 320 / vi * kai / (kai - k) * (std::exp(-k * t) - std::exp(-kai * t));
    ASSERT_NEAR(std::stod(row.at("CP")), closed, 1e-6 * closed);
    const double r = std::stod(row.at("DV_SIM")) - std::stod(row.at("CP"));
    res_sq += r * r;
    ++res_n;
  }
  for (const auto& [name, w] : omega) {
    EXPECT_NEAR(sum_sq[name] / 2000, w, 0.1 * w) << name;
  }
  EXPECT_NEAR(std::sqrt(res_sq / res_n), sigma, 0.05 * sigma);
  ASSERT_EQ(Run(base + " --seed 5 --out " + (dir_ / "b.csv").string(), &err), 0) << err;
  ASSERT_EQ(Run(base + " --seed 6 --out " + (dir_ / "c.csv").string(), &err), 0) << err;
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(slurp(dir_ / "a.csv"), slurp(dir_ / "b.csv"));
  EXPECT_NE(slurp(dir_ / "a.csv"), slurp(dir_ / "c.csv"));
  // A population model of another structural model is refused.
  EXPECT_EQ(Run("simulate --model pk_1cmt_iv --population theophylline_theoph --data " +
                    (dir_ / "in.csv").string() + " --out " + (dir_ / "d.csv").string(),
                &err),
            2);
  EXPECT_NE(err.find("not of --model pk_1cmt_iv"), std::string::npos) << err;
}

}  // namespace
