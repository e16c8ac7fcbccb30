// pgx/matcher.h — genotype → diplotype → phenotype, exactly as PharmCAT's Named Allele
// Matcher calls it (pharmcat.org/methods/NamedAlleleMatcher-101; checked case by case on
// PharmCAT's own test suite, tests/pgx/pharmcat_test.cpp). A blank in an allele definition is the
// reference's base; an allele scores the positions it defines (an IUPAC wobble only where the
// sample is not reference); positions missing from the sample are dropped from every definition
// and listed; the sample's possible haplotypes are its phased strands, every combination of
// unphased heterozygous alleles, and phase sets (FORMAT/PS) kept together; pairs of alleles that
// explain the genotype become diplotypes, best score first (all of them, or only the top-scoring,
// as PharmCAT's --matcher-all-results chooses). For CACNA1S, DPYD, G6PD, NUDT15, RYR1 and TPMT an
// alt no definition has counts as the reference; elsewhere it, or a half call ("./1"), means no
// call. DPYD is called by its lowest-function alleles (lowest_function.h) and its recommended
// diplotype is the two of lowest CPIC activity. Sub-alleles are reported by their core allele
// (SLCO1B1 *45.001 → *45). An SLCO1B1 the matcher cannot call is inferred from rs4149056, as
// PharmCAT's reporter does. A gene with no data is "not called" — never guessed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "medtwin/pgx/definitions.h"
#include "medtwin/pgx/vcf.h"

namespace medtwin::pgx {

struct DiplotypeCall {
  std::string allele1, allele2;  // in PharmCAT's allele order; allele2 "" when haploid
  int score = 0;
  [[nodiscard]] std::string Name() const {
    return allele2.empty() ? allele1 : allele1 + "/" + allele2;
  }
};

// How to call (PharmCAT's options).
struct MatchOptions {
  // Only the top-scoring diplotypes (PharmCAT's default); false: every diplotype that explains
  // the genotypes, best first (its --matcher-all-results, and what its unit tests check).
  bool top_candidate_only = true;
  // When no defined pair explains the genotypes, name each strand by the alleles and variants
  // it carries ("[*2 + *3]", "g.94781859G>A"); PharmCAT's research mode --research-combinations.
  bool find_combinations = false;
};

struct GeneCall {
  std::string gene;
  bool called = false;
  std::string reason;  // why not called
  // The diplotype(s) the phenotype comes from: the matcher's (several when unphased data is
  // ambiguous), or for DPYD the one of lowest activity inferred from them.
  std::vector<DiplotypeCall> diplotypes;
  // What the matcher itself called, in its order, when that differs from `diplotypes`: DPYD's
  // phased diplotypes with combinations ("[A + B]/Reference"), or the alleles found in unphased
  // DPYD data ("c.1627A>G (*5)", "c.1905+1G>A (*2A)").
  std::vector<std::string> matcher_calls;
  bool matcher_haplotypes = false;              // matcher_calls lists alleles, not diplotypes
  std::vector<std::string> matcher_homozygous;  // of those alleles, the ones on both copies
  // Not called by the matcher but inferred from one variant: SLCO1B1 from rs4149056 alone
  // (T → *1, C → *5; PharmCAT's Slco1b1CustomCaller), `matcher_calls` giving the genotype.
  std::string inferred_from;
  std::vector<long long> missing_positions;
  bool phased = false;
  std::string source = "vcf";  // or "outside call"
  // From the phenotype table, when every top diplotype agrees on it.
  std::string phenotype;
  std::optional<double> activity_score;
  std::vector<std::string> functions;  // of allele1 and allele2 of the first diplotype
};

// The call of `gene` for sample `sample` (an index into vcf.samples).
[[nodiscard]] GeneCall CallGene(const GeneDefinition& gene, const GenePhenotypes* phenotypes,
                                const VcfData& vcf, std::size_t sample,
                                const MatchOptions& options = {});

// The names of the matcher's calls: `diplotypes`, or `matcher_calls` when it has them.
[[nodiscard]] std::vector<std::string> MatcherCallNames(const GeneCall& call);

// Fills phenotype, activity score and functions from the table (used for outside calls too).
void Translate(GeneCall& call, const GenePhenotypes* phenotypes);

}  // namespace medtwin::pgx
