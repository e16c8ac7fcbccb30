// Every homozygous and heterozygous pair of defined alleles of every gene, written as a
// multi-sample VCF (one sample per pair) and called back, phased and unphased.
//
// Checked independently of the matcher's search: each called diplotype must reproduce the
// sample's genotype at every position (blank = the reference base, IUPAC codes either base),
// and the true pair must be called — or, for unphased data, be outscored by pairs that explain
// the same genotypes with more defined positions (PharmCAT's documented rule: top score wins,
// ties all reported; an IUPAC wobble counts only where the sample is not reference). DPYD
// follows CPIC's rule: the activity score is the sum of the two lowest-activity variants.
// Exact agreement with PharmCAT itself is pharmcat_test.cpp's job; this checks every pair.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "medtwin/pgx/calls.h"

namespace {

using namespace medtwin::pgx;

// The bases allele `a` puts at locus k.
std::vector<std::string> Bases(const GeneDefinition& g, std::size_t a, std::size_t k) {
  const auto& def = g.alleles[a].alleles[k] ? g.alleles[a].alleles[k] : g.alleles[0].alleles[k];
  return ExpandIupac(*def);
}

// A concrete base for allele `a` at locus k that the VCF line can carry.
std::string Concrete(const GeneDefinition& g, std::size_t a, std::size_t k) {
  const VariantLocus& l = g.loci[k];
  for (const auto& b : Bases(g, a, k)) {
    if (b == l.ref || std::find(l.alts.begin(), l.alts.end(), b) != l.alts.end()) return b;
  }
  return Bases(g, a, k).front();
}

int AlleleIndex(const VariantLocus& l, const std::string& base) {
  if (base == l.ref) return 0;
  auto it = std::find(l.alts.begin(), l.alts.end(), base);
  return it == l.alts.end() ? -1 : 1 + static_cast<int>(it - l.alts.begin());
}

int Score(const GeneDefinition& g, std::size_t a) {
  int s = 0;
  for (const auto& x : g.alleles[a].alleles) s += x ? 1 : 0;
  return s;
}

// Positions where allele `a` has an IUPAC wobble (which may not count towards its score).
int Wobbles(const GeneDefinition& g, std::size_t a) {
  int n = 0;
  for (const auto& x : g.alleles[a].alleles) n += x && ExpandIupac(*x).size() > 1 ? 1 : 0;
  return n;
}

// The defined alleles a reported name stands for (a core allele stands for its sub-alleles).
std::vector<std::size_t> Indices(const GeneDefinition& g, const std::string& name) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < g.alleles.size(); ++i) {
    auto sub = g.suballeles.find(g.alleles[i].name);
    if (g.alleles[i].name == name || (sub != g.suballeles.end() && sub->second == name)) {
      out.push_back(i);
    }
  }
  return out;
}

bool Explains(const GeneDefinition& g, std::size_t x, std::size_t y,
              const std::vector<std::pair<std::string, std::string>>& genotype, bool phased) {
  for (std::size_t k = 0; k < g.loci.size(); ++k) {
    const auto bx = Bases(g, x, k), by = Bases(g, y, k);
    auto in = [](const std::vector<std::string>& v, const std::string& s) {
      return std::find(v.begin(), v.end(), s) != v.end();
    };
    const auto& [a, b] = genotype[k];
    const bool straight = in(bx, a) && in(by, b);
    const bool crossed = in(bx, b) && in(by, a);
    if (phased ? !(straight || crossed) : !(straight || crossed)) return false;
  }
  return true;
}

class EveryPair : public ::testing::TestWithParam<bool> {};

TEST_P(EveryPair, CalledBack) {
  const bool phased = GetParam();
  auto data = PgxData::Default();
  ASSERT_TRUE(data.ok()) << data.error().ToString();
  int pairs = 0, exact = 0, outscored = 0;
  for (const auto& g : (*data)->genes()) {
    // The pairs, and the VCF with one sample per pair.
    std::vector<std::pair<std::size_t, std::size_t>> truth;
    for (std::size_t i = 0; i < g.alleles.size(); ++i) {
      for (std::size_t j = i; j < g.alleles.size(); ++j) truth.emplace_back(i, j);
    }
    std::ostringstream vcf;
    vcf << "##fileformat=VCFv4.2\n##contig=<ID=" << g.chromosome << ",assembly=GRCh38.p14>\n"
        << "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT";
    for (std::size_t s = 0; s < truth.size(); ++s) vcf << "\tS" << s;
    vcf << "\n";
    std::vector<std::vector<std::pair<std::string, std::string>>> genotypes(truth.size());
    for (std::size_t k = 0; k < g.loci.size(); ++k) {
      const VariantLocus& l = g.loci[k];
      vcf << l.chromosome << "\t" << l.position << "\t" << (l.rsid.empty() ? "." : l.rsid) << "\t"
          << l.ref << "\t";
      for (std::size_t a = 0; a < l.alts.size(); ++a) vcf << (a ? "," : "") << l.alts[a];
      if (l.alts.empty()) vcf << ".";
      vcf << "\t.\tPASS\t.\tGT";
      for (std::size_t s = 0; s < truth.size(); ++s) {
        const std::string x = Concrete(g, truth[s].first, k), y = Concrete(g, truth[s].second, k);
        genotypes[s].emplace_back(x, y);
        vcf << "\t" << AlleleIndex(l, x) << (phased ? "|" : "/") << AlleleIndex(l, y);
      }
      vcf << "\n";
    }
    // Only this gene's definitions, so other genes do not need data.
    std::istringstream in(vcf.str());
    std::set<Position> wanted;
    for (const auto& l : g.loci) wanted.insert({l.chromosome, l.position});
    auto v = ReadVcf(in, wanted, {});
    ASSERT_TRUE(v.ok()) << g.gene << ": " << v.error().ToString();
    const GenePhenotypes* p = (*data)->Phenotypes(g.gene);
    for (std::size_t s = 0; s < truth.size(); ++s) {
      const auto [ti, tj] = truth[s];
      const GeneCall call = CallGene(g, p, *v, s);
      ++pairs;
      ASSERT_TRUE(call.called) << g.gene << " " << g.alleles[ti].name << "/" << g.alleles[tj].name
                               << ": " << call.reason;
      ASSERT_FALSE(call.diplotypes.empty());
      if (g.gene == "DPYD") {
        if (p == nullptr) continue;
        auto av = [&](std::size_t a) {
          auto it = p->activity_value.find(g.alleles[a].name);
          return it == p->activity_value.end() ? 1.0 : it->second;
        };
        ASSERT_TRUE(call.activity_score.has_value())
            << g.alleles[ti].name << "/" << g.alleles[tj].name;
        EXPECT_DOUBLE_EQ(*call.activity_score, av(ti) + av(tj))
            << "DPYD " << g.alleles[ti].name << "/" << g.alleles[tj].name << " called "
            << call.diplotypes[0].Name();
        ++exact;
        continue;
      }
      bool has_truth = false;
      for (const auto& d : call.diplotypes) {
        const auto xs = Indices(g, d.allele1), ys = Indices(g, d.allele2);
        ASSERT_FALSE(xs.empty() || ys.empty()) << g.gene << ": " << d.Name();
        bool explains = false;
        for (std::size_t x : xs) {
          for (std::size_t y : ys) {
            if (!Explains(g, x, y, genotypes[s], phased)) continue;
            explains = true;
            EXPECT_LE(d.score, Score(g, x) + Score(g, y));
            EXPECT_GE(d.score, Score(g, x) + Score(g, y) - Wobbles(g, x) - Wobbles(g, y));
            has_truth |= (x == ti && y == tj) || (x == tj && y == ti);
          }
        }
        EXPECT_TRUE(explains) << g.gene << ": " << d.Name()
                              << " does not reproduce the genotype of " << g.alleles[ti].name << "/"
                              << g.alleles[tj].name;
      }
      if (has_truth) {
        ++exact;
      } else {
        // Only a better-scoring explanation may displace the truth.
        EXPECT_GT(call.diplotypes.front().score,
                  Score(g, ti) + Score(g, tj) - Wobbles(g, ti) - Wobbles(g, tj))
            << g.gene << " " << g.alleles[ti].name << "/" << g.alleles[tj].name << " called "
            << call.diplotypes.front().Name();
        ++outscored;
      }
    }
  }
  std::printf("%s: %d pairs, %d called back, %d outscored by more specific alleles\n",
              phased ? "phased" : "unphased", pairs, exact, outscored);
  EXPECT_GT(pairs, 10000);
  EXPECT_GT(exact, pairs * 9 / 10);
}

INSTANTIATE_TEST_SUITE_P(Pgx, EveryPair, ::testing::Values(true, false),
                         [](const auto& param_info) {
                           return param_info.param ? "Phased" : "Unphased";
                         });

}  // namespace
