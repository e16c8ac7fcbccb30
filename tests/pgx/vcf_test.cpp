// Reading VCFs: the errors a user can act on (each naming the line and field), missing
// positions reported and a gene without data "not called", undocumented alleles not guessed,
// multi-sample files, and mutated files never crashing the reader.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "../support/mutate.h"
#include "medtwin/pgx/calls.h"

namespace {

using namespace medtwin::pgx;

const std::string kHeader =
    "##fileformat=VCFv4.2\n##contig=<ID=chr10,assembly=GRCh38.p14>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\n";

// CYP2C9 *2 (rs1799853, chr10:94942290 C>T) and *3 (rs1057910, chr10:94981296 A>C).
const std::string kStar2 = "chr10\t94942290\trs1799853\tC\tT\t.\tPASS\t.\tGT";
const std::string kStar3 = "chr10\t94981296\trs1057910\tA\tC\t.\tPASS\t.\tGT";

medtwin::Result<std::vector<SampleCalls>> Call(const std::string& vcf) {
  auto data = PgxData::Default();
  if (!data.ok()) return data.error();
  std::istringstream in(vcf);
  return CallVcf(in, **data, "in.vcf");
}

const GeneCall& Gene(const SampleCalls& s, const std::string& gene) {
  for (const auto& g : s.genes) {
    if (g.gene == gene) return g;
  }
  static GeneCall none;
  return none;
}

// Every CYP2C9 position in the file (reference unless *2 or *3) but one, left out.
std::string Cyp2c9Vcf(const std::string& star2_gt, const std::string& star3_gt,
                      long long* left_out) {
  const GeneDefinition* g = (*PgxData::Default())->Gene("CYP2C9");
  std::string vcf = kHeader;
  *left_out = 0;
  for (const auto& l : g->loci) {
    if (l.position == 94942290) {
      vcf += kStar2 + "\t" + star2_gt + "\n";
    } else if (l.position == 94981296) {
      vcf += kStar3 + "\t" + star3_gt + "\n";
    } else if (*left_out == 0) {
      *left_out = l.position;
    } else {
      vcf += l.chromosome + "\t" + std::to_string(l.position) + "\t.\t" + l.ref + "\t" + l.alts[0] +
             "\t.\tPASS\t.\tGT\t0/0\t0/0\n";
    }
  }
  return vcf;
}

TEST(PgxVcf, MultiSampleCallsWithMissingPositionsListed) {
  // One CYP2C9 position left out: listed as missing, the call made from the rest. Every other
  // gene has no data at all: not called.
  long long left_out = 0;
  auto calls = Call(Cyp2c9Vcf("0/1\t0|0", "0/1\t1|1", &left_out));
  ASSERT_TRUE(calls.ok()) << calls.error().ToString();
  ASSERT_EQ(calls->size(), 2u);
  const GeneCall& a = Gene((*calls)[0], "CYP2C9");
  ASSERT_TRUE(a.called) << a.reason;
  ASSERT_EQ(a.diplotypes.size(), 1u) << CallsToJson(*calls).dump();
  EXPECT_EQ(a.diplotypes[0].Name(), "*2/*3");  // unphased, but *2 and *3 cannot be one allele
  // CPIC: one decreased (0.5) and one no-function (0) allele, AS 0.5: poor metabolizer.
  EXPECT_EQ(a.phenotype, "Poor Metabolizer");
  EXPECT_DOUBLE_EQ(*a.activity_score, 0.5);
  EXPECT_EQ(a.missing_positions, std::vector<long long>{left_out});
  const GeneCall& b = Gene((*calls)[1], "CYP2C9");
  EXPECT_EQ(b.diplotypes[0].Name(), "*3/*3");
  EXPECT_EQ(b.phenotype, "Poor Metabolizer");
  EXPECT_DOUBLE_EQ(*b.activity_score, 0.0);
  const GeneCall& tpmt = Gene((*calls)[0], "TPMT");
  EXPECT_FALSE(tpmt.called);
  EXPECT_NE(tpmt.reason.find("no genotype"), std::string::npos);
  EXPECT_TRUE(tpmt.diplotypes.empty());
  const auto json = CallsToJson(*calls);
  EXPECT_EQ(json["samples"][1]["sample"], "B");
  EXPECT_EQ(json["samples"][0]["genes"]["TPMT"]["called"], false);
  EXPECT_EQ(json["samples"][0]["genes"]["CYP2C9"]["diplotypes"][0], "*2/*3");
}

TEST(PgxVcf, UndocumentedAllelesAndMissingGenotypesAreNotGuessed) {
  // An ALT the definitions do not have at a defining position: CYP2C9 not called.
  auto odd = Call(kHeader + "chr10\t94942290\t.\tC\tG\t.\tPASS\t.\tGT\t0/1\t0/0\n");
  ASSERT_TRUE(odd.ok()) << odd.error().ToString();
  EXPECT_FALSE(Gene((*odd)[0], "CYP2C9").called);
  EXPECT_NE(Gene((*odd)[0], "CYP2C9").reason.find("undocumented"), std::string::npos);
  EXPECT_TRUE(Gene((*odd)[1], "CYP2C9").called);  // the other sample has only the REF there
  // ./. is a missing position.
  auto missing = Call(kHeader + kStar2 + "\t./.\t0/0\n");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(Gene((*missing)[0], "CYP2C9").called);
  EXPECT_TRUE(Gene((*missing)[1], "CYP2C9").called);
  // "10" for "chr10", Windows line ends and FORMAT fields after GT are fine.
  auto plain =
      Call(kHeader + "10\t94942290\trs1799853\tC\tT\t.\tPASS\t.\tGT:DP\t1/1:30\t0/1:12\r\n");
  ASSERT_TRUE(plain.ok()) << plain.error().ToString();
  EXPECT_EQ(Gene((*plain)[0], "CYP2C9").diplotypes[0].Name(), "*2/*2");
}

TEST(PgxVcf, RecordsPharmCatSetsAsideAreWarnedAbout) {
  // A repeated position: the first usable record wins, with a warning (PharmCAT
  // PipelineTest.testDuplicateEntry*). The second says *2/*2; the first, *1/*2, is used.
  auto twice = Call(kHeader + kStar2 + "\t0/1\t0/0\n" + kStar2 + "\t1/1\t1/1\n");
  ASSERT_TRUE(twice.ok()) << twice.error().ToString();
  EXPECT_EQ(Gene((*twice)[0], "CYP2C9").diplotypes[0].Name(), "*1/*2");
  ASSERT_EQ((*twice)[0].warnings.size(), 1u);
  EXPECT_NE((*twice)[0].warnings[0].find("repeats line 4"), std::string::npos);
  // A REF written from a neighbouring base where the definition has the full indel: the
  // record is set aside (the position is missing), and a later usable record is taken.
  const std::string nudt15_ref = "chr13\t48037782\t.\tA\tC\t.\tPASS\t.\tGT\t0/1\t0/0\n";
  const std::string nudt15 =
      "chr13\t48037782\t.\tAGGAGTC\tA,AGGAGTCGGAGTC\t.\tPASS\t.\tGT\t0/2\t0/0\n";
  auto aside = Call(kHeader + nudt15_ref + nudt15);
  ASSERT_TRUE(aside.ok()) << aside.error().ToString();
  EXPECT_NE((*aside)[0].warnings.at(0).find("record ignored"), std::string::npos);
  EXPECT_TRUE(Gene((*aside)[0], "NUDT15").called);
  // Comment lines among the records (PharmCAT's test files have them) are skipped.
  auto commented = Call(kHeader + "# missing: rs1799853\n" + kStar2 + "\t0/1\t0/0\n");
  ASSERT_TRUE(commented.ok()) << commented.error().ToString();
  // More than two alleles: the first two are used, as PharmCAT does, with a warning.
  auto triple = Call(kHeader + kStar2 + "\t0/1/1\t0/0\n");
  ASSERT_TRUE(triple.ok()) << triple.error().ToString();
  EXPECT_EQ(Gene((*triple)[0], "CYP2C9").diplotypes[0].Name(), "*1/*2");
  EXPECT_NE((*triple)[0].warnings.at(0).find("first two"), std::string::npos);
  // A heterozygous GT whose reads are all on one allele (AD): the call is set aside
  // (PharmCAT testAdField), so CYP2C9 is called from its other positions.
  auto ad =
      Call(kHeader + "chr10\t94942290\trs1799853\tC\tT\t.\tPASS\t.\tGT:AD\t0/1:0,12\t0/0:9,0\n" +
           kStar3 + "\t0/0\t0/0\n");
  ASSERT_TRUE(ad.ok()) << ad.error().ToString();
  EXPECT_TRUE(Gene((*ad)[0], "CYP2C9").called);
  EXPECT_EQ(Gene((*ad)[0], "CYP2C9").missing_positions.size(),
            Gene((*ad)[1], "CYP2C9").missing_positions.size() + 1);
  // A '*' or symbolic allele called: the position is missing for that sample.
  auto star = Call(kHeader + "chr10\t94942290\trs1799853\tC\tT,*\t.\tPASS\t.\tGT\t0/2\t0/1\n" +
                   kStar3 + "\t0/0\t0/0\n");
  ASSERT_TRUE(star.ok()) << star.error().ToString();
  EXPECT_TRUE(Gene((*star)[0], "CYP2C9").called);
  EXPECT_EQ(Gene((*star)[1], "CYP2C9").diplotypes[0].Name(), "*1/*2");
  // A repeated position whose first record has no call for a sample: that sample takes the
  // second record's call (PharmCAT: the first usable call wins).
  auto nocall_first = Call(kHeader + kStar2 + "\t./.\t0/0\n" + kStar2 + "\t0/1\t1/1\n");
  ASSERT_TRUE(nocall_first.ok()) << nocall_first.error().ToString();
  EXPECT_EQ(Gene((*nocall_first)[0], "CYP2C9").diplotypes[0].Name(), "*1/*2");
  EXPECT_EQ(Gene((*nocall_first)[1], "CYP2C9").diplotypes[0].Name(), "*1/*1");
  // A bad phase set names its field.
  auto r = Call(kHeader + "chr10\t94942290\trs1799853\tC\tT\t.\tPASS\t.\tGT:PS\t0|1:x\t0|0:.\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "in.vcf:4: PS");
}

TEST(PgxVcf, SecondHeaderLineIsAnError) {
  // Found by fuzz_vcf: a second #CHROM line added its samples to the first's, and the records
  // read before it had too few genotypes for them (a heap overflow in the matcher).
  const std::string second = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tC\n";
  auto r = Call(kHeader + kStar2 + "\t0/1\t0/0\n" + second);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "in.vcf:5: header");
}

TEST(PgxVcf, BadInputIsAnErrorNamingTheLineAndField) {
  auto expect = [](const std::string& vcf, const std::string& field, const std::string& words) {
    auto r = Call(vcf);
    ASSERT_FALSE(r.ok()) << vcf;
    EXPECT_EQ(r.error().field, field) << r.error().ToString();
    EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().ToString();
  };
  expect("##fileformat=VCFv4.2\n##reference=file:///ref/hs37d5.fa\n", "in.vcf:2: header", "GRCh37");
  expect("##fileformat=VCFv4.2\n##contig=<ID=10,assembly=GRCh37>\n", "in.vcf:2: header", "GRCh37");
  // A REF that is not GRCh38's at a defining position gives the build away.
  expect(kHeader + "chr10\t94942290\t.\tG\tT\t.\tPASS\t.\tGT\t0/1\t0/0\n", "in.vcf:4: REF",
         "GRCh38 has C");
  expect(kHeader + kStar2 + "\t0/1\n", "in.vcf:4: line", "columns");
  expect(kHeader + "chr10\tx94942290\t.\tC\tT\t.\tPASS\t.\tGT\t0/1\t0/0\n", "in.vcf:4: POS",
         "integer");
  expect(kHeader + "chr10\t94942290\t.\tC\tT\t.\tPASS\t.\tDP\t3\t4\n", "in.vcf:4: FORMAT", "GT");
  expect(kHeader + kStar2 + "\t0/2\t0/0\n", "in.vcf:4: GT", "sample A");
  expect(kHeader + "chr10\t94942290\t.\tC\tT,Q\t.\tPASS\t.\tGT\t0/1\t0/0\n", "in.vcf:4: ALT",
         "not an allele");
  expect(kStar2 + "\t0/1\n", "in.vcf:1: header", "before the #CHROM");
  expect("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n",
         "in.vcf:2: header", "no sample");
  expect("", "in.vcf", "no #CHROM");
}

TEST(PgxVcf, MutatedFilesNeverCrashTheReader) {
  std::ifstream in(std::string(MEDTWIN_SOURCE_DIR) + "/tests/data/pgx/pharmcat.example.vcf");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::mt19937 rng(20261125);
  int ok = 0, errors = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string mutated =
        medtwin::testing_support::Mutate(text, rng, "0123456789./|\t\n#ACGTN,:chr-", 12, 40);
    auto r = Call(mutated);
    if (r.ok()) {
      ++ok;
      for (const auto& s : *r) {
        for (const auto& g : s.genes) {
          EXPECT_EQ(g.called, !g.diplotypes.empty());  // a call has a diplotype; no call has none
        }
      }
    } else {
      ++errors;
      EXPECT_NE(r.error().field.find("in.vcf"), std::string::npos) << r.error().ToString();
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(errors, 0);
}

}  // namespace

namespace {

TEST(PgxData, GenesCalledOnlyOutsideAreRefusedAsDefinitions) {
  // RYR1 definitions would be called by DPYD's rules here; PharmCAT has its own for RYR1.
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("medtwin-ryr1-" + std::to_string(::getpid()));
  fs::create_directories(dir / "alleles");
  std::ifstream in(std::string(MEDTWIN_SOURCE_DIR) + "/data/pgx/alleles/TPMT_translation.json");
  auto j = nlohmann::json::parse(in);
  j["gene"] = "RYR1";
  std::ofstream(dir / "alleles" / "RYR1_translation.json") << j.dump();
  auto data = medtwin::pgx::PgxData::Load(dir.string());
  fs::remove_all(dir);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("outside call"), std::string::npos)
      << data.error().ToString();
}

}  // namespace
