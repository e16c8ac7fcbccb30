// The reference tool's own example: PharmCAT's example VCF called here gives the diplotype,
// phenotype, activity score and match score of PharmCAT's report for every gene medtwin has
// definitions for; the outside call in the report (CYP2D6 *1/*3) comes through as given.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "medtwin/pgx/calls.h"

namespace {

using medtwin::pgx::CallVcf;
using medtwin::pgx::PgxData;

const std::string kExamples = std::string(MEDTWIN_SOURCE_DIR) + "/tests/data/pgx/";

struct ReportRow {
  std::string diplotype, phenotype, activity, match_score;
};

std::map<std::string, ReportRow> ReadReport() {
  std::ifstream in(kExamples + "pharmcat.example.report.tsv");
  std::map<std::string, ReportRow> rows;
  std::string line;
  std::getline(in, line);  // tool version
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> c;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, '\t');) c.push_back(f);
    if (c.size() < 12) continue;
    rows[c[0]] = {c[1], c[2], c[3], c[11]};
  }
  return rows;
}

TEST(PgxExample, EveryDefinedGeneAgreesWithTheReferenceToolsReport) {
  auto data = PgxData::Default();
  ASSERT_TRUE(data.ok()) << data.error().ToString();
  std::ifstream vcf(kExamples + "pharmcat.example.vcf");
  ASSERT_TRUE(vcf.good()) << "tests/data/pgx missing";
  auto calls = CallVcf(vcf, **data);
  ASSERT_TRUE(calls.ok()) << calls.error().ToString();
  ASSERT_EQ(calls->size(), 1u);
  EXPECT_EQ((*calls)[0].sample, "Sample_1");
  const auto report = ReadReport();
  ASSERT_GT(report.size(), 15u);
  int compared = 0;
  for (const auto& g : (*calls)[0].genes) {
    auto it = report.find(g.gene);
    ASSERT_NE(it, report.end()) << g.gene;
    const ReportRow& want = it->second;
    ASSERT_TRUE(g.called) << g.gene << ": " << g.reason;
    ASSERT_EQ(g.diplotypes.size(), 1u) << g.gene;
    EXPECT_EQ(g.diplotypes[0].Name(), want.diplotype) << g.gene;
    EXPECT_EQ(g.phenotype, want.phenotype) << g.gene;
    if (want.activity.empty()) {
      EXPECT_FALSE(g.activity_score.has_value()) << g.gene;
    } else {
      ASSERT_TRUE(g.activity_score.has_value()) << g.gene;
      EXPECT_DOUBLE_EQ(*g.activity_score, std::stod(want.activity)) << g.gene;
    }
    EXPECT_EQ(std::to_string(g.diplotypes[0].score), want.match_score) << g.gene;
    EXPECT_TRUE(g.missing_positions.empty()) << g.gene;
    ++compared;
  }
  EXPECT_EQ(compared,
            11);  // CYP2B6 CYP2C19 CYP2C9 CYP3A5 CYP4F2 DPYD NUDT15 SLCO1B1 TPMT UGT1A1 VKORC1
}

TEST(PgxExample, TheMatchFilesDiplotypesToo) {
  // The reference tool's matcher output (match.json) names the same diplotypes.
  auto data = PgxData::Default();
  ASSERT_TRUE(data.ok());
  std::ifstream vcf(kExamples + "pharmcat.example.vcf");
  auto calls = CallVcf(vcf, **data);
  ASSERT_TRUE(calls.ok());
  std::ifstream in(kExamples + "pharmcat.example.match.json");
  const auto match = nlohmann::json::parse(in);
  std::map<std::string, std::string> want;
  for (const auto& r : match["results"]) {
    if (!r["diplotypes"].empty()) want[r["gene"]] = r["diplotypes"][0]["name"];
  }
  for (const auto& g : (*calls)[0].genes) {
    ASSERT_TRUE(want.contains(g.gene)) << g.gene;
    EXPECT_EQ(g.diplotypes[0].Name(), want[g.gene]) << g.gene;
  }
}

TEST(PgxExample, OutsideCallsComeThroughAndReplaceTheVcfCall) {
  auto data = PgxData::Default();
  ASSERT_TRUE(data.ok());
  std::istringstream tsv(
      "# outside calls\nCYP2D6\t*1/*3\tIntermediate Metabolizer\t1.0\n"
      "HLA-B\t*15:02/*57:01\n"
      "CYP2C19\t*1/*2\n");
  auto outside = medtwin::pgx::ReadOutsideCalls(tsv, **data);
  ASSERT_TRUE(outside.ok()) << outside.error().ToString();
  ASSERT_EQ(outside->size(), 3u);
  const auto report = ReadReport();
  const auto& cyp2d6 = (*outside)[0];
  EXPECT_EQ(cyp2d6.diplotypes[0].Name(), report.at("CYP2D6").diplotype);
  EXPECT_EQ(cyp2d6.phenotype, report.at("CYP2D6").phenotype);
  EXPECT_DOUBLE_EQ(*cyp2d6.activity_score, std::stod(report.at("CYP2D6").activity));
  // A known gene's outside diplotype is translated by its phenotype table.
  EXPECT_EQ((*outside)[2].phenotype, "Intermediate Metabolizer");
  std::ifstream vcf(kExamples + "pharmcat.example.vcf");
  auto calls = CallVcf(vcf, **data);
  ASSERT_TRUE(calls.ok());
  medtwin::pgx::MergeOutsideCalls(*calls, *outside);
  const auto json = medtwin::pgx::CallsToJson(*calls);
  const auto& genes = json["samples"][0]["genes"];
  EXPECT_EQ(genes["CYP2C19"]["diplotypes"][0], "*1/*2");
  EXPECT_EQ(genes["CYP2C19"]["source"], "outside call");
  EXPECT_EQ(genes["CYP2D6"]["phenotype"], "Intermediate Metabolizer");
  EXPECT_EQ(genes["HLA-B"]["diplotypes"][0], "*15:02/*57:01");
  EXPECT_TRUE(genes["HLA-B"]["phenotype"].is_null());
  EXPECT_EQ(genes["TPMT"]["phenotype"], "Normal Metabolizer");

  auto bad = [&](const std::string& text, const std::string& field) {
    std::istringstream in(text);
    auto r = medtwin::pgx::ReadOutsideCalls(in, **data, "calls.tsv");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().field, field) << r.error().ToString();
  };
  bad("CYP2D6\t*1/*3\nFOO1\t*1/*1\n", "calls.tsv:2: gene");
  bad("CYP2C19\t*1/*99\n", "calls.tsv:1: diplotype");
  bad("CYP2C19\t*1\n", "calls.tsv:1: diplotype");
  bad("CYP2C19\t\t\t\n", "calls.tsv:1: diplotype");
  // A gene on two lines: one call with both diplotypes, in PharmCAT's allele order (PharmCAT
  // PipelineTest.outsideCallCollision2Files, testOutsideCallDiplotypeNormalization).
  std::istringstream twice("CYP4F2\t*1/*3\nCYP4F2\t*9/*4\n");
  auto both = medtwin::pgx::ReadOutsideCalls(twice, **data, "calls.tsv");
  ASSERT_TRUE(both.ok()) << both.error().ToString();
  ASSERT_EQ(both->size(), 1u);
  ASSERT_EQ((*both)[0].diplotypes.size(), 2u);
  EXPECT_EQ((*both)[0].diplotypes[1].Name(), "*4/*9");
  // An activity score alone, and one allele of a gene medtwin does not define.
  std::istringstream terse("CYP2D6\t\t\t1.25\nMT-RNR1\tm.1555A>G\n");
  auto t = medtwin::pgx::ReadOutsideCalls(terse, **data, "calls.tsv");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_DOUBLE_EQ(*(*t)[0].activity_score, 1.25);
  EXPECT_EQ((*t)[1].diplotypes[0].Name(), "m.1555A>G");
  bad("CYP2D6\t*1/*3\tIM\tlots\n", "calls.tsv:1: activity score");
  bad("CYP2D6\n", "calls.tsv:1");
}

}  // namespace
