// `medtwin vpc` as a property: data simulated from a model sit inside that model's VPC
// intervals; the same data against a model with twice the clearance do not.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "../support/cli_fixture.h"
#include "../support/csv_rows.h"

namespace {

namespace fs = std::filesystem;

class VpcCli : public medtwin::testing_support::CliFixture {};

TEST_F(VpcCli, DataFromTheModelFallInsideAndAWrongModelFallsOutside) {
  const fs::path theoph =
      fs::path(MEDTWIN_SOURCE_DIR) / ".." / "shared" / "data" / "theophylline" / "theophylline.csv";
  if (!fs::exists(theoph)) GTEST_SKIP() << "needs ../shared beside the repository";
  std::string err;
  // Theoph's design (12 subjects, their doses and sampling times) simulated once from
  // theophylline_theoph, the simulated DV taken as the data.
  ASSERT_EQ(Run("simulate --model pk_1cmt_oral --population theophylline_theoph --subjects 3 "
                "--seed 11 --carry AMT,CMT --ignore-column WT --ignore-column DOSE_MG_KG --data " +
                    theoph.string() + " --out " + (dir_ / "sim.csv").string(),
                &err),
            0)
      << err;
  {
    std::ofstream data(dir_ / "data.csv");
    data << "ID,TIME,EVID,AMT,CMT,DV\n";
    for (const auto& r : medtwin::testing_support::CsvRows(dir_ / "sim.csv")) {
      const bool dose = r.at("EVID") == "1";
      data << r.at("ID") << "-" << r.at("REP") << "," << r.at("TIME") << "," << r.at("EVID") << ","
           << r.at("AMT") << "," << r.at("CMT") << "," << (dose ? "." : r.at("DV_SIM")) << "\n";
    }
  }
  auto vpc = [&](const std::string& model) {
    EXPECT_EQ(Run("vpc --model " + model + " --data " + (dir_ / "data.csv").string() +
                      " --replicates 200 --seed 3 --out " + (dir_ / "vpc.json").string(),
                  &err),
              0)
        << err;
    return nlohmann::json::parse(std::ifstream(dir_ / "vpc.json"));
  };
  const auto right = vpc("theophylline_theoph");
  ASSERT_EQ(right["percentiles_checked"], 24);  // 8 bins × 3 percentiles
  EXPECT_GE(right["percentiles_inside_ci"].get<int>(), 21) << right.dump();
  EXPECT_TRUE(fs::exists(dir_ / "vpc.svg"));
  EXPECT_TRUE(fs::exists(dir_ / "vpc.csv"));
  // The same model with twice the clearance: the observed medians leave the intervals.
  auto wrong = nlohmann::json::parse(
      std::ifstream(fs::path(MEDTWIN_SOURCE_DIR) / "data/models/theophylline_theoph.json"));
  wrong["parameters"]["CL"]["typical"] = 2 * wrong["parameters"]["CL"]["typical"].get<double>();
  std::ofstream(dir_ / "wrong.json") << wrong.dump();
  const auto bad = vpc((dir_ / "wrong.json").string());
  int medians_inside = 0;
  for (const auto& bin : bad["bins"]) medians_inside += bin["percentiles"][1]["inside"].get<bool>();
  EXPECT_LE(medians_inside, 3) << bad.dump();
  EXPECT_LT(bad["percentiles_inside_ci"].get<int>(), right["percentiles_inside_ci"].get<int>());
}

}  // namespace
