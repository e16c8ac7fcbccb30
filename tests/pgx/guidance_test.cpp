// From genotype to prescribing advice: VCFs written from the allele definitions are called, and
// the CPIC recommendation for each drug checked against the guideline's tables (the
// expectations below are the guideline's, read from the cited papers, not from the data file).
#include <gtest/gtest.h>

#include <algorithm>

#include <sstream>

#include "medtwin/decide/warfarin_dose.h"
#include "medtwin/pgx/calls.h"
#include "medtwin/pgx/guidance.h"
#include "medtwin/pgx/warfarin.h"

namespace {

using namespace medtwin::pgx;

struct Genotype {
  std::string gene, allele1, allele2;
};

// A one-sample, phased VCF with every position of each listed gene (other genes absent).
std::vector<GeneCall> Calls(const std::vector<Genotype>& genotypes,
                            const std::vector<GeneCall>& outside = {}) {
  const PgxData& data = **PgxData::Default();
  std::ostringstream vcf;
  vcf << "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n";
  for (const auto& gt : genotypes) {
    const GeneDefinition* g = data.Gene(gt.gene);
    EXPECT_NE(g, nullptr) << gt.gene;
    // The lowest VCF allele index allele `name` allows at locus k (blank: the reference's
    // base; an IUPAC code: either base).
    auto index = [&](const std::string& name, std::size_t k) {
      const auto& l = g->loci[k];
      for (const auto& a : g->alleles) {
        if (a.name != name) continue;
        const std::string& def = a.alleles[k] ? *a.alleles[k] : *g->alleles.front().alleles[k];
        const auto bases = ExpandIupac(def);
        auto allows = [&](const std::string& b) {
          return std::find(bases.begin(), bases.end(), b) != bases.end();
        };
        if (allows(l.ref)) return 0;
        for (std::size_t i = 0; i < l.alts.size(); ++i) {
          if (allows(l.alts[i])) return static_cast<int>(i) + 1;
        }
      }
      ADD_FAILURE() << gt.gene << " has no allele " << name;
      return 0;
    };
    for (std::size_t k = 0; k < g->loci.size(); ++k) {
      const auto& l = g->loci[k];
      vcf << l.chromosome << "\t" << l.position << "\t.\t" << l.ref << "\t";
      for (std::size_t i = 0; i < l.alts.size(); ++i) vcf << (i ? "," : "") << l.alts[i];
      vcf << "\t.\tPASS\t.\tGT\t" << index(gt.allele1, k) << "|" << index(gt.allele2, k) << "\n";
    }
  }
  std::istringstream in(vcf.str());
  auto calls = CallVcf(in, data);
  EXPECT_TRUE(calls.ok()) << calls.error().ToString();
  if (!calls.ok()) return {};
  MergeOutsideCalls(*calls, outside);
  return (*calls)[0].genes;
}

DrugGuidance Guide(const std::string& drug, const std::vector<GeneCall>& calls) {
  auto table = GuidanceTable::Default();
  EXPECT_TRUE(table.ok()) << table.error().ToString();
  auto g = (*table)->Guide(drug, calls);
  EXPECT_TRUE(g.ok()) << g.error().ToString();
  return g.ok() ? *g : DrugGuidance{};
}

GeneCall Outside(const std::string& gene, const std::string& a, const std::string& b,
                 const std::string& phenotype = "") {
  GeneCall c;
  c.gene = gene;
  c.called = true;
  c.source = "outside call";
  c.diplotypes.push_back({a, b, 0});
  c.phenotype = phenotype;
  return c;
}

TEST(PgxGuidance, ClopidogrelFollowsCyp2c19) {
  // CPIC 2022: PM avoid (strong), IM avoid standard dose (moderate), NM/RM/UM standard.
  auto pm = Guide("clopidogrel", Calls({{"CYP2C19", "*2", "*2"}}));
  EXPECT_EQ(pm.action, "alternative");
  EXPECT_EQ(pm.strength, "strong");
  EXPECT_NE(pm.recommendation.find("prasugrel or ticagrelor"), std::string::npos);
  EXPECT_TRUE(pm.Conflicts());
  ASSERT_EQ(pm.genotype.size(), 1u);
  EXPECT_EQ(pm.genotype[0], "CYP2C19 *2/*2: Poor Metabolizer");
  auto im = Guide("Clopidogrel", Calls({{"CYP2C19", "*1", "*2"}}));
  EXPECT_EQ(im.action, "alternative");
  EXPECT_EQ(im.strength, "moderate");
  auto nm = Guide("clopidogrel", Calls({{"CYP2C19", "*38", "*38"}}));
  EXPECT_EQ(nm.action, "standard");
  EXPECT_FALSE(nm.Conflicts());
  auto um = Guide("clopidogrel", Calls({{"CYP2C19", "*17", "*17"}}));
  EXPECT_EQ(um.action, "standard");
  EXPECT_NE(um.genotype[0].find("Ultrarapid"), std::string::npos);
}

TEST(PgxGuidance, SimvastatinFollowsSlco1b1) {
  // c.521T>C (*5): one copy decreased function, two poor function — both an alternative statin
  // or simvastatin < 20 mg/day (CPIC 2022).
  auto poor = Guide("simvastatin", Calls({{"SLCO1B1", "*5", "*5"}}));
  EXPECT_EQ(poor.action, "alternative");
  EXPECT_NE(poor.genotype[0].find("Poor Function"), std::string::npos);
  EXPECT_NE(poor.recommendation.find("< 20 mg/day"), std::string::npos);
  auto decreased = Guide("simvastatin", Calls({{"SLCO1B1", "*1", "*5"}}));
  EXPECT_EQ(decreased.action, "alternative");
  EXPECT_NE(decreased.genotype[0].find("Decreased Function"), std::string::npos);
  EXPECT_EQ(Guide("simvastatin", Calls({{"SLCO1B1", "*1", "*1"}})).action, "standard");
}

TEST(PgxGuidance, ThiopurinesReadTpmtAndNudt15TheMoreSevereFirst) {
  // CPIC 2018: TPMT or NUDT15 PM → alternative (non-malignant) / drastic reduction; IM → start
  // at 30-80 % of the normal dose; both NM → normal dose.
  auto pm = Guide("azathioprine", Calls({{"TPMT", "*3A", "*3A"}, {"NUDT15", "*1", "*1"}}));
  EXPECT_EQ(pm.action, "avoid");
  auto nudt15_pm = Guide("azathioprine", Calls({{"TPMT", "*1", "*1"}, {"NUDT15", "*3", "*3"}}));
  EXPECT_EQ(nudt15_pm.action, "avoid");
  auto im = Guide("azathioprine", Calls({{"TPMT", "*1", "*3A"}, {"NUDT15", "*1", "*1"}}));
  EXPECT_EQ(im.action, "reduce dose");
  ASSERT_TRUE(im.dose_factor.has_value());
  EXPECT_DOUBLE_EQ(im.dose_factor->first, 0.3);
  EXPECT_DOUBLE_EQ(im.dose_factor->second, 0.8);
  EXPECT_EQ(Guide("mercaptopurine", Calls({{"TPMT", "*1", "*1"}, {"NUDT15", "*1", "*1"}})).action,
            "standard");
  // NUDT15 not genotyped: a normal TPMT alone is not enough for "standard".
  auto half = Guide("azathioprine", Calls({{"TPMT", "*1", "*1"}}));
  EXPECT_EQ(half.action, "no genotype");
  EXPECT_NE(half.recommendation.find("NUDT15"), std::string::npos);
  EXPECT_FALSE(half.Conflicts());
}

TEST(PgxGuidance, FluoropyrimidinesFollowTheDpydActivityScore) {
  // CPIC 2017: AS 2 normal dose; 1 or 1.5 reduce the starting dose by 50 %; 0.5 or 0 avoid.
  auto normal = Guide("fluorouracil", Calls({{"DPYD", "Reference", "Reference"}}));
  EXPECT_EQ(normal.action, "standard");
  auto het_2a = Guide("capecitabine", Calls({{"DPYD", "Reference", "c.1905+1G>A (*2A)"}}));
  EXPECT_EQ(het_2a.action, "reduce dose");  // AS 1
  ASSERT_TRUE(het_2a.dose_factor.has_value());
  EXPECT_DOUBLE_EQ(het_2a.dose_factor->first, 0.5);
  auto hapb3 =
      Guide("fluorouracil", Calls({{"DPYD", "Reference", "c.1129-5923C>G, c.1236G>A (HapB3)"}}));
  EXPECT_EQ(hapb3.action, "reduce dose");  // AS 1.5
  EXPECT_NE(hapb3.genotype[0].find("activity score 1.5"), std::string::npos) << hapb3.genotype[0];
  auto hom_2a = Guide("fluorouracil", Calls({{"DPYD", "c.1905+1G>A (*2A)", "c.1905+1G>A (*2A)"}}));
  EXPECT_EQ(hom_2a.action, "avoid");  // AS 0
  EXPECT_EQ(hom_2a.strength, "strong");
}

TEST(PgxGuidance, OutsideCallsDriveHlaAndCyp2d6Drugs) {
  // The reference tool's example outside calls: HLA-B *15:02/*57:01, CYP2D6 *1/*3 (IM).
  const auto calls = Calls({}, {Outside("HLA-B", "*15:02", "*57:01"),
                                Outside("CYP2D6", "*1", "*3", "Intermediate Metabolizer")});
  EXPECT_EQ(Guide("abacavir", calls).action, "avoid");
  EXPECT_EQ(Guide("carbamazepine", calls).action, "avoid");
  EXPECT_EQ(Guide("allopurinol", calls).action, "standard");  // no *58:01
  EXPECT_EQ(Guide("codeine", calls).action, "standard");
  EXPECT_EQ(Guide("codeine", calls).strength, "moderate");
  EXPECT_EQ(Guide("codeine", {Outside("CYP2D6", "*4", "*4", "Poor Metabolizer")}).action, "avoid");
  EXPECT_EQ(Guide("abacavir", {Outside("HLA-B", "*57:011", "*07:02")}).action, "standard");
}

TEST(PgxGuidance, UnknownDrugsAndUncalledGenesAreSaidPlainly) {
  auto table = GuidanceTable::Default();
  ASSERT_TRUE(table.ok());
  auto unknown = (*table)->Guide("aspirin", {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "drug");
  EXPECT_NE(unknown.error().message.find("clopidogrel"), std::string::npos);
  auto none = Guide("clopidogrel", Calls({{"TPMT", "*1", "*1"}}));
  EXPECT_EQ(none.action, "no genotype");
  EXPECT_NE(none.recommendation.find("CYP2C19"), std::string::npos);
  EXPECT_EQ((*table)->Drugs().size(), 15u);
  // Warfarin points to the dosing algorithm rather than a fixed dose.
  EXPECT_EQ(
      Guide("warfarin", Calls({{"CYP2C9", "*1", "*3"},
                               {"VKORC1", "rs9923231 reference (C)", "rs9923231 variant (T)"}}))
          .action,
      "genotype-guided dose");
}

TEST(PgxWarfarin, CalledGenotypesFeedTheIwpcAlgorithm) {
  const PgxData& data = **PgxData::Default();
  const std::string ref = "rs9923231 reference (C)", variant = "rs9923231 variant (T)";
  auto g = WarfarinGenotypes(Calls({{"CYP2C9", "*1", "*3"}, {"VKORC1", ref, variant}}), data);
  EXPECT_EQ(g.cyp2c9, "*1/*3");
  EXPECT_EQ(g.vkorc1, "A/G");  // rs9923231 T on the plus strand is -1639 A
  EXPECT_TRUE(g.notes.empty());
  // *11 (decreased function, activity 0.5) enters as *2, with a note.
  auto eleven = WarfarinGenotypes(Calls({{"CYP2C9", "*1", "*11"}, {"VKORC1", ref, ref}}), data);
  EXPECT_EQ(eleven.cyp2c9, "*1/*2");
  EXPECT_EQ(eleven.vkorc1, "G/G");
  ASSERT_EQ(eleven.notes.size(), 1u);
  EXPECT_NE(eleven.notes[0].find("activity value"), std::string::npos);
  // A hand-entered record: the heterozygote label in either order, or no label we know but
  // the rs9923231 alleles in the diplotype (counted: one variant = -1639 A/G).
  auto vkorc1 = [](std::vector<GeneCall>& calls) -> GeneCall& {
    for (auto& c : calls) {
      if (c.gene == "VKORC1") return c;
    }
    ADD_FAILURE() << "no VKORC1 call";
    return calls.front();
  };
  std::vector<GeneCall> typed = Calls({{"VKORC1", ref, variant}});
  vkorc1(typed).phenotype = "-1639 GA";
  EXPECT_EQ(WarfarinGenotypes(typed, data).vkorc1, "A/G");
  vkorc1(typed).phenotype = "heterozygous";
  EXPECT_EQ(WarfarinGenotypes(typed, data).vkorc1, "A/G");
  std::vector<GeneCall> two = Calls({{"VKORC1", variant, variant}});
  vkorc1(two).phenotype.clear();
  EXPECT_EQ(WarfarinGenotypes(two, data).vkorc1, "A/A");
  // Nothing called: both unknown.
  auto none = WarfarinGenotypes({}, data);
  EXPECT_EQ(none.cyp2c9, "");
  EXPECT_EQ(none.vkorc1, "");
  // A *3/*3, -1639 AA patient needs far less warfarin than a *1/*1, GG one of the same build.
  medtwin::decide::WarfarinPatient p;
  p.age_years = 60;
  p.height_cm = 175;
  p.weight_kg = 78;
  p.race = medtwin::decide::IwpcRace::kWhite;
  const auto slow =
      WarfarinGenotypes(Calls({{"CYP2C9", "*3", "*3"}, {"VKORC1", variant, variant}}), data);
  const auto fast = WarfarinGenotypes(Calls({{"CYP2C9", "*1", "*1"}, {"VKORC1", ref, ref}}), data);
  p.cyp2c9 = slow.cyp2c9;
  p.vkorc1 = slow.vkorc1;
  const double slow_mg = medtwin::decide::IwpcPharmacogeneticDose(p)->weekly_mg;
  p.cyp2c9 = fast.cyp2c9;
  p.vkorc1 = fast.vkorc1;
  const double fast_mg = medtwin::decide::IwpcPharmacogeneticDose(p)->weekly_mg;
  EXPECT_LT(slow_mg, 0.3 * fast_mg);
}

TEST(PgxGuidance, CallsSurviveTheJsonRoundTrip) {
  const auto calls = Calls({{"CYP2C19", "*2", "*17"}});
  SampleCalls s{"S", calls, {}};
  auto back = CallsFromJson(CallsToJson({s}));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(Guide("clopidogrel", (*back)[0].genes).action, Guide("clopidogrel", calls).action);
  auto bad = CallsFromJson(nlohmann::json::parse(
      R"({"samples":[{"sample":"S","genes":{"CYP2C19":{"called":true,"diplotypes":["*2"]}}}]})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().field.find("CYP2C19"), std::string::npos);
}

}  // namespace
