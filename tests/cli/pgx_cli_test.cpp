// `medtwin pgx call` as a user runs it: the example VCF plus an outside-calls TSV give
// CALLS.json in the documented shape and a TSV table; bad input is a one-line error naming
// the file, line and field.
#include <nlohmann/json.hpp>

#include "../support/cli_fixture.h"

namespace {

using medtwin::testing_support::CliFixture;

const std::string kVcf =
    std::string(MEDTWIN_SOURCE_DIR) + "/tests/data/pgx/pharmcat.example.vcf";

class PgxCli : public CliFixture {};

TEST_F(PgxCli, CallsJsonAndTsvFromAVcfAndOutsideCalls) {
  std::ofstream(dir_ / "outside.tsv") << "CYP2D6\t*1/*3\tIntermediate Metabolizer\t1.0\n";
  std::string err;
  ASSERT_EQ(Run("pgx call --vcf " + kVcf + " --outside-calls " + (dir_ / "outside.tsv").string() +
                    " --out " + (dir_ / "calls.json").string() + " --tsv " +
                    (dir_ / "calls.tsv").string(),
                &err),
            0)
      << err;
  EXPECT_NE(err.find("1 sample(s), 12 of 12 gene calls made"), std::string::npos) << err;
  EXPECT_EQ(err.find("Sample_1"), std::string::npos);  // no sample identifiers in logs
  const auto calls = nlohmann::json::parse(Read(dir_ / "calls.json"));
  const auto& sample = calls["samples"][0];
  EXPECT_EQ(sample["sample"], "Sample_1");
  const auto& cyp2c19 = sample["genes"]["CYP2C19"];
  EXPECT_EQ(cyp2c19["called"], true);
  EXPECT_EQ(cyp2c19["diplotypes"], nlohmann::json::array({"*38/*38"}));
  EXPECT_EQ(cyp2c19["phenotype"], "Normal Metabolizer");
  EXPECT_TRUE(cyp2c19["activity_score"].is_null());
  EXPECT_TRUE(cyp2c19["missing_positions"].is_array());
  EXPECT_EQ(sample["genes"]["CYP2C9"]["activity_score"], 2.0);
  EXPECT_EQ(sample["genes"]["CYP2D6"]["source"], "outside call");
  const std::string tsv = Read(dir_ / "calls.tsv");
  EXPECT_NE(tsv.find("Sample_1\tCYP2C9\tyes\t*1/*1\tNormal Metabolizer\t2.0\t166\t\tvcf"),
            std::string::npos)
      << tsv;
}

TEST_F(PgxCli, GuideReadsTheCallsFile) {
  std::ofstream(dir_ / "outside.tsv") << "HLA-B\t*15:02/*57:01\n";
  std::string err;
  ASSERT_EQ(Run("pgx call --vcf " + kVcf + " --outside-calls " + (dir_ / "outside.tsv").string() +
                    " --out " + (dir_ / "calls.json").string(),
                &err),
            0)
      << err;
  for (const auto& [drug, action] : std::vector<std::pair<std::string, std::string>>{
           {"clopidogrel", "standard"}, {"abacavir", "avoid"}, {"codeine", "no genotype"}}) {
    ASSERT_EQ(Run("pgx guide --calls " + (dir_ / "calls.json").string() + " --drug " + drug +
                      " --out " + (dir_ / "g.json").string(),
                  &err),
              0)
        << err;
    const auto g = nlohmann::json::parse(Read(dir_ / "g.json"));
    ASSERT_EQ(g["guidance"].size(), 1u);
    EXPECT_EQ(g["guidance"][0]["action"], action) << drug;
    EXPECT_EQ(g["guidance"][0]["sample"], "Sample_1");
    EXPECT_NE(g["guidance"][0]["source"].get<std::string>().find("CPIC"), std::string::npos);
  }
  EXPECT_NE(Run("pgx guide --calls " + (dir_ / "calls.json").string() + " --drug aspirin", &err),
            0);
  EXPECT_NE(err.find("aspirin"), std::string::npos) << err;
  EXPECT_NE(Run("pgx guide --calls " + (dir_ / "calls.json").string() +
                    " --drug clopidogrel --sample nobody",
                &err),
            0);
  EXPECT_NE(err.find("--sample"), std::string::npos) << err;
}

TEST_F(PgxCli, BadInputIsOneLineNamingWhere) {
  std::ofstream(dir_ / "bad.vcf") << "##fileformat=VCFv4.2\n"
                                  << "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
                                  << "chr10\t94942290\t.\tC\tT\t.\tPASS\t.\tGT\t0/7\n";
  std::ofstream(dir_ / "calls.tsv") << "CYP2D6\t*1/*3\nWARF1\t*1/*1\n";
  std::string err;
  EXPECT_NE(Run("pgx call --vcf " + (dir_ / "bad.vcf").string() + " --out x.json", &err), 0);
  EXPECT_NE(err.find("bad.vcf:3: GT"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(Run("pgx call --vcf " + kVcf + " --outside-calls " + (dir_ / "calls.tsv").string() +
                    " --out x.json",
                &err),
            0);
  EXPECT_NE(err.find("calls.tsv:2: gene"), std::string::npos) << err;
  EXPECT_NE(Run("pgx call --vcf /nonexistent.vcf --out x.json", &err), 0);
  EXPECT_NE(err.find("--vcf"), std::string::npos) << err;
  EXPECT_NE(Run("pgx call --vcf " + kVcf, &err), 0);
  EXPECT_NE(err.find("--out"), std::string::npos) << err;
}

}  // namespace
