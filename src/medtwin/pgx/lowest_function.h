// pgx/lowest_function.h — calling a gene by its lowest-function alleles (DPYD, RYR1), as
// PharmCAT's NamedAlleleMatcher.callLowestFunctionGene and DpydHapB3Matcher do. Phased (or
// effectively phased) data gets diplotypes, exact or, failing that, with each strand named by
// the alleles it carries ("[c.1627A>G (*5) + c.1905+1G>A (*2A)]"); unphased data gets the list of
// alleles found, each twice when both copies carry it, from which the two of lowest function are
// taken (CPIC DPYD 2017 update; PharmCAT's reporter). DPYD's HapB3 is called from its two
// positions separately: the intronic c.1129-5923C>G decides, the exonic c.1236G>A only refines.
// Internal to pgx.
#pragma once

#include <string>
#include <vector>

#include "medtwin/pgx/diplotype_matcher.h"

namespace medtwin::pgx::match {

struct MatcherResult {
  bool called = false;
  std::string reason;                      // when not called
  std::vector<DiplotypeMatch> diplotypes;  // ranked
  std::vector<Match> haplotypes;           // lowest-function genes without phase
};

// `base`: the sample's data for the gene (haplotypes not yet marshalled).
[[nodiscard]] MatcherResult CallLowestFunctionGene(const MatchData& base, const VcfData& vcf,
                                                   std::size_t sample);

inline constexpr const char* kHapB3 = "c.1129-5923C>G, c.1236G>A (HapB3)";
inline constexpr const char* kHapB3Intronic = "c.1129-5923C>G";

}  // namespace medtwin::pgx::match
