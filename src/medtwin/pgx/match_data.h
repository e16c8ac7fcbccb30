// pgx/match_data.h — one sample's genotypes at one gene's positions, arranged as PharmCAT's
// Named Allele Matcher arranges them (haplotype/MatchData, SampleAllele, CombinationUtil):
// the positions with data and those missing; the sample's possible haplotype sequences
// ("permutations": one per strand when phased, every combination of the two alleles at each
// unphased heterozygous position, phase sets (FORMAT/PS) kept together); and the allele
// definitions restricted to the positions with data. Internal to pgx: the matcher builds on it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "medtwin/pgx/definitions.h"
#include "medtwin/pgx/vcf.h"

namespace medtwin::pgx::match {

// A "phased" call without FORMAT/PS (PharmCAT's NULL_PHASE_SET).
inline constexpr int kUnsetPhaseSet = -2147483647 - 1;

// The sample's call at one position.
struct SampleAllele {
  long long position = 0;
  std::optional<std::string> allele1, allele2;  // VCF alleles; nullopt: '.' (or no 2nd: haploid)
  std::string computed1 = ".";                  // what is matched: '.' missing; an undocumented
  std::optional<std::string> computed2;         // alt as the reference where the gene says so
  bool phased = false;
  bool effectively_phased = true;  // phased without a phase set, or homozygous
  std::optional<int> phase_set;
  bool partial = false;       // a half call ("./1", "1/.")
  bool has_variant = false;   // some allele index > 0 (PharmCAT: GT without 0, | and /)
  bool undocumented = false;  // an alt no definition has
  std::string undocumented_allele;
  bool undocumented_as_reference = false;
  [[nodiscard]] bool Homozygous() const { return computed2 && computed1 == *computed2; }
};

// Genes whose undocumented alts are read as the reference (PharmCAT's NamedAlleleMatcher list).
[[nodiscard]] bool TreatsUndocumentedAsReference(const std::string& gene);
// Genes called by the lowest-function rule (PharmCAT Constants.LOWEST_FUNCTION_GENES).
[[nodiscard]] bool IsLowestFunctionGene(const std::string& gene);

// One possible haplotype of the sample: an allele per position with data. Ordered as PharmCAT
// orders its "POS:ALLELE;…" strings (the positions being the same, by the first differing
// allele followed by ';').
struct Sequence {
  std::vector<std::string> alleles;
  // Per position, the allele as an index into the locus' alleles (0 the reference, i the i-th
  // alt), kMissingCode for '.', kOtherCode for anything else: matched as bits.
  std::vector<std::uint8_t> codes;
  [[nodiscard]] int Compare(const Sequence& o) const;
  bool operator<(const Sequence& o) const { return Compare(o) < 0; }
  bool operator==(const Sequence& o) const { return alleles == o.alleles; }
};

inline constexpr std::uint8_t kMissingCode = 62;
inline constexpr std::uint8_t kOtherCode = 63;
// The code of `allele` at `locus` (see Sequence::codes).
[[nodiscard]] std::uint8_t AlleleCode(const VariantLocus& locus, const std::string& allele);

// A named allele over the positions with data.
struct Haplotype {
  std::string name, id;
  bool reference = false;
  std::vector<std::optional<std::string>> alleles;  // per position with data; nullopt: any
  int score = 0;                                    // positions it defines (less partials)
  int num_combinations = 0, num_partials = 0;
  std::vector<std::size_t> wobbles;       // positions (indices) with an IUPAC ambiguity code
  std::vector<std::uint64_t> accepts;     // per position, the codes it matches (all for a blank)
  std::vector<long long> core_positions;  // ascending

  [[nodiscard]] bool IsCore(long long position) const {
    return std::binary_search(core_positions.begin(), core_positions.end(), position);
  }

  [[nodiscard]] bool Matches(const Sequence& seq) const;
  // The score for these sequences: a wobble position where every sequence has the reference
  // allele does not count (PharmCAT NamedAllele.scoreForSample).
  [[nodiscard]] int ScoreFor(const std::vector<VariantLocus>& positions,
                             const std::vector<const Sequence*>& seqs) const;
};

// Reference first, then by name (PharmCAT NamedAllele.compareTo).
[[nodiscard]] int CompareHaplotypes(const Haplotype& a, const Haplotype& b);

// Computes score, wobbles and core positions from the alleles.
void Initialize(Haplotype& h, const std::vector<VariantLocus>& positions);

// At most this many independent choices (unphased heterozygous positions and phase sets) are
// enumerated; see match_data.cpp.
inline constexpr int kMaxChoices = 10;

class MatchData {
 public:
  // The sample's alleles at `gene`'s positions. `find_combinations`: PharmCAT's research mode
  // (undocumented alts kept as they are, except for lowest-function genes).
  MatchData(const GeneDefinition& gene, const VcfData& vcf, std::size_t sample,
            bool find_combinations);

  // The definitions over the positions with data (those defining none dropped when positions
  // are missing); `assume_reference` fills an allele's blanks with the reference's alleles
  // (keeping its score); `exclude` leaves alleles out by name.
  void MarshallHaplotypes(bool find_combinations, bool assume_reference,
                          const std::set<std::string>& exclude = {});

  [[nodiscard]] const GeneDefinition& gene() const { return *gene_; }
  [[nodiscard]] std::size_t num_sample_alleles() const { return sample_->size(); }
  [[nodiscard]] const std::vector<VariantLocus>& positions() const { return *positions_; }
  [[nodiscard]] const std::vector<SampleAllele>& sample() const {
    return *sample_;
  }  // per position
  [[nodiscard]] const std::vector<long long>& missing_positions() const { return missing_; }
  [[nodiscard]] const std::vector<Haplotype>& haplotypes() const { return *haplotypes_; }
  // `h`, one of haplotypes(), shared without a copy.
  [[nodiscard]] std::shared_ptr<const Haplotype> Shared(const Haplotype& h) const {
    return {haplotypes_, &h};
  }
  [[nodiscard]] const std::vector<Sequence>& permutations() const { return *permutations_; }
  [[nodiscard]] bool haploid() const { return haploid_; }
  [[nodiscard]] bool phased() const { return phased_; }
  // At most two possible haplotypes (false when there were too many to enumerate).
  [[nodiscard]] bool effectively_phased() const { return !too_many_ && permutations_->size() <= 2; }
  [[nodiscard]] bool using_phase_sets() const;
  [[nodiscard]] std::optional<int> PhaseSet(long long position) const;
  [[nodiscard]] bool HasPartialMissingAlleles() const;
  // Index of `position` among the positions with data, if it has data.
  [[nodiscard]] std::optional<std::size_t> IndexOf(long long position) const;
  // The sample's allele at the position (by VCF position), or nullopt.
  [[nodiscard]] const SampleAllele* SampleAt(long long position) const;
  // Too many unphased heterozygous positions to enumerate the sequences.
  [[nodiscard]] bool TooManyPermutations() const { return too_many_; }

 private:
  void GeneratePermutations();

  const GeneDefinition* gene_;
  std::shared_ptr<const std::vector<VariantLocus>> positions_;  // shared by equal sets
  std::string positions_key_;  // which of the gene's loci have data ('1'/'0' per locus)
  std::shared_ptr<const std::vector<SampleAllele>> sample_;  // shared by copies
  std::vector<long long> missing_;
  // Shared: copies of the data (one per way of marshalling) do not copy them.
  std::shared_ptr<const std::vector<Haplotype>> haplotypes_ =
      std::make_shared<const std::vector<Haplotype>>();
  std::shared_ptr<const std::vector<Sequence>> permutations_ =
      std::make_shared<const std::vector<Sequence>>();
  std::map<int, std::set<long long>> phase_sets_;
  bool haploid_ = false, phased_ = true, too_many_ = false;
};

// Some position of the VCF medtwin reads (any of its genes) carries a non-reference allele for
// the sample, other than `except`. PharmCAT's DpydHapB3Matcher.hasNonHapB3Variants looks at
// every position PharmCAT knows, including genes medtwin does not call from a VCF; the final
// call is the same unless those alone carry variants.
[[nodiscard]] bool SampleHasVariantsOutside(const VcfData& vcf, std::size_t sample,
                                            const std::set<Position>& except);

}  // namespace medtwin::pgx::match
