// `medtwin nca` against published NCA results on R's Theoph (PKNCA and WinNonlin).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "../support/cli_fixture.h"

namespace {

namespace fs = std::filesystem;

const fs::path kShared = fs::path(MEDTWIN_SOURCE_DIR) / ".." / "shared";

class NcaCli : public medtwin::testing_support::CliFixture {};

// `medtwin nca` on R's Theoph against the published numbers: PKNCA's vignette (aucinf.obs and
// Cmax per subject, subject 1 in full) and WinNonlin 6.3's NCA of the same data with linear-
// up/log-down (Han S. Transl Clin Pharmacol 2018;26:10, "Validation of NCA performed by
// NonCompart"), which PKNCA reproduces: λz, t½, adjusted R², number of λz points, AUClast.
TEST_F(NcaCli, TheophMatchesPkncaAndWinNonlin) {
  const fs::path theoph = kShared / "data" / "theophylline" / "theophylline.csv";
  if (!fs::exists(theoph)) GTEST_SKIP() << "needs ../shared beside the repository";
  std::string err;
  ASSERT_EQ(Run("nca --data " + theoph.string() +
                    " --ignore-column WT --ignore-column DOSE_MG_KG --out " +
                    (dir_ / "nca.json").string(),
                &err),
            0)
      << err;
  struct Published {
    double cmax, tmax, auclast, aucinf, lambda_z, half_life, adj_r2;
    int points;
  };
  const Published expected[12] = {
      {10.50, 1.12, 147.2347485, 214.92363, 0.0484570, 14.3043776, 0.9999995, 3},
      {8.33, 1.92, 88.7312755, 97.37793, 0.1040864, 6.6593416, 0.9957931, 4},
      {8.20, 1.02, 95.8781978, 106.12767, 0.1024443, 6.7660874, 0.9986499, 3},
      {8.60, 1.07, 102.6336232, 114.21620, 0.0992870, 6.9812467, 0.9978483, 3},
      {11.40, 1.00, 118.1793538, 136.30473, 0.0866189, 8.0022640, 0.9979708, 4},
      {6.44, 1.15, 71.6970150, 82.17588, 0.0877957, 7.8949979, 0.9978896, 7},
      {7.09, 3.48, 87.9692274, 100.98763, 0.0883365, 7.8466683, 0.9980053, 4},
      {7.56, 2.02, 86.8065635, 102.15330, 0.0814505, 8.5100379, 0.9887655, 6},
      {9.03, 0.63, 83.9374360, 97.52000, 0.0824586, 8.4059988, 0.9988873, 3},
      {10.21, 3.55, 135.5760701, 167.86003, 0.0749598, 9.2469158, 0.9990174, 3},
      {8.00, 0.98, 77.8934723, 86.90262, 0.0954586, 7.2612365, 0.9999965, 3},
      {9.75, 3.52, 115.2202082, 125.83154, 0.1102595, 6.2865082, 0.9987936, 3}};
  const auto j = nlohmann::json::parse(std::ifstream(dir_ / "nca.json"));
  ASSERT_EQ(j["subjects"].size(), 12u);
  for (int i = 0; i < 12; ++i) {
    const auto& s = j["subjects"][static_cast<std::size_t>(i)];
    const Published& e = expected[i];
    SCOPED_TRACE("ID " + s["id"].get<std::string>());
    EXPECT_EQ(s["cmax"].get<double>(), e.cmax);
    EXPECT_EQ(s["tmax"].get<double>(), e.tmax);
    EXPECT_NEAR(s["auclast"].get<double>(), e.auclast, 1e-6);
    EXPECT_NEAR(s["aucinf"].get<double>(), e.aucinf, 1e-4);
    EXPECT_NEAR(s["lambda_z"].get<double>(), e.lambda_z, 1e-7);
    EXPECT_NEAR(s["half_life"].get<double>(), e.half_life, 1e-6);
    EXPECT_NEAR(s["adj_r_squared"].get<double>(), e.adj_r2, 1e-7);
    EXPECT_EQ(s["lambda_z_points"].get<int>(), e.points);
  }
  std::ifstream csv(dir_ / "nca.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("ID,DOSE,CMAX,TMAX", 0), 0u) << header;
}

}  // namespace
