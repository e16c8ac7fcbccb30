// pgx/diplotype_matcher.h — from a sample's sequences to ranked diplotypes, as PharmCAT's
// DiplotypeMatcher and CombinationMatcher do it: each allele is matched against every sequence;
// pairs of matched alleles whose sequences together explain the genotype at every position
// become diplotypes, scored by the positions the alleles define (wobbles where the sample is
// reference do not count) and ordered by score, then by allele order. In combination mode an
// allele-less strand is named by the alleles it carries together ("[*5 + *2A]") and any variant
// no allele explains ("g.97573863C>T"). Internal to pgx.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "medtwin/pgx/match_data.h"

namespace medtwin::pgx::match {

// A named allele (or a combination of alleles and partial variants) and the sample sequences
// it matches.
struct Match {
  std::string name;
  std::shared_ptr<const Haplotype> haplotype;  // for a combination: the merged definition
  std::set<Sequence> sequences;
  bool combination = false;
  std::vector<Haplotype> components;          // combination: its alleles, in allele order
  std::map<long long, std::string> partials;  // combination: position → HGVS name
};

// PharmCAT BaseMatch.compareTo: by name, then (two plain matches) score, then sequences.
[[nodiscard]] int CompareMatches(const Match& a, const Match& b);

// The alleles a match names: a combination's components, or its one allele.
[[nodiscard]] std::vector<std::string> MatchComponentNames(const Match& m);

Match PlainMatch(std::shared_ptr<const Haplotype> h);
Match PlainMatch(const Haplotype& h);  // a copy of h
// A combination of `components` (allele order) and partial variants on sequence `seq`.
Match CombinationOf(const std::vector<VariantLocus>& positions, const Sequence& seq,
                    std::vector<Haplotype> components,
                    const std::map<long long, std::string>& partials);

struct DiplotypeMatch {
  Match first;                  // first <= second
  std::optional<Match> second;  // nullopt: haploid
  std::string name;
  int score = 0;
  std::vector<std::pair<Sequence, std::optional<Sequence>>> sequence_pairs;
};

[[nodiscard]] DiplotypeMatch MakeDiplotype(Match a, std::optional<Match> b);
// Score descending, then first, then second (PharmCAT DiplotypeMatch.compareTo).
[[nodiscard]] int CompareDiplotypes(const DiplotypeMatch& a, const DiplotypeMatch& b);
// Sorted, without entries that compare equal (as PharmCAT's TreeSet keeps them).
void SortUnique(std::vector<DiplotypeMatch>& v);

// Alleles matching at least one of the sample's sequences, in match order.
[[nodiscard]] std::vector<Match> ComparePermutations(const MatchData& data);

// PharmCAT DiplotypeMatcher.compute.
[[nodiscard]] std::vector<DiplotypeMatch> ComputeDiplotypes(const MatchData& data,
                                                            bool find_combinations,
                                                            bool find_partials,
                                                            bool top_candidate_only);

}  // namespace medtwin::pgx::match
