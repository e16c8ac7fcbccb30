#include "medtwin/pgx/match_data.h"

#include <algorithm>
#include <functional>

#include "medtwin/pgx/haplotype_names.h"

namespace medtwin::pgx::match {
namespace {

// Beyond this many independent choices (unphased heterozygous positions and phase sets) the
// sequences are not enumerated: pairing them grows with the square of their number (2^10: DPYD
// 0.44 s and 92 MB, measured; 2^16 did not finish in 10 minutes), and no case in PharmCAT's
// test suite comes near it. Such a gene is not called, with the reason.

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

bool IsWobble(const std::optional<std::string>& allele) {
  return allele && allele->size() == 1 && IupacBases((*allele)[0]).size() > 1;
}

}  // namespace

bool TreatsUndocumentedAsReference(const std::string& gene) {
  // PharmCAT NamedAlleleMatcher.TREAT_UNDOCUMENTED_VARIATIONS_AS_REFERENCE.
  return gene == "CACNA1S" || gene == "DPYD" || gene == "G6PD" || gene == "NUDT15" ||
         gene == "RYR1" || gene == "TPMT";
}

bool IsLowestFunctionGene(const std::string& gene) { return gene == "DPYD" || gene == "RYR1"; }

bool Haplotype::Matches(const Sequence& seq) const {
  for (std::size_t i = 0; i < accepts.size(); ++i) {
    if (((accepts[i] >> seq.codes[i]) & 1U) == 0) return false;
  }
  return true;
}

int Sequence::Compare(const Sequence& o) const {
  for (std::size_t i = 0; i < alleles.size() && i < o.alleles.size(); ++i) {
    const std::string& a = alleles[i];
    const std::string& b = o.alleles[i];
    if (a == b) continue;
    // As the texts "a;" and "b;" compare.
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t k = 0; k < n; ++k) {
      if (a[k] != b[k])
        return static_cast<unsigned char>(a[k]) < static_cast<unsigned char>(b[k]) ? -1 : 1;
    }
    const unsigned char next_a = a.size() > n ? static_cast<unsigned char>(a[n]) : ';';
    const unsigned char next_b = b.size() > n ? static_cast<unsigned char>(b[n]) : ';';
    return next_a < next_b ? -1 : 1;
  }
  return alleles.size() == o.alleles.size() ? 0 : (alleles.size() < o.alleles.size() ? -1 : 1);
}

std::uint8_t AlleleCode(const VariantLocus& locus, const std::string& allele) {
  if (allele == locus.ref) return 0;
  for (std::size_t i = 0; i < locus.alts.size() && i + 1 < kMissingCode; ++i) {
    if (allele == locus.alts[i]) return static_cast<std::uint8_t>(i + 1);
  }
  return allele == "." ? kMissingCode : kOtherCode;
}

int Haplotype::ScoreFor(const std::vector<VariantLocus>& positions,
                        const std::vector<const Sequence*>& seqs) const {
  int s = score;
  for (std::size_t i : wobbles) {
    const bool all_reference = std::all_of(seqs.begin(), seqs.end(), [&](const Sequence* q) {
      return q->alleles[i] == positions[i].ref;
    });
    if (all_reference) --s;
  }
  return s;
}

int CompareHaplotypes(const Haplotype& a, const Haplotype& b) {
  if (a.reference != b.reference) return a.reference ? -1 : 1;
  if (const int c = CompareHaplotypeNames(a.name, b.name); c != 0) return c;
  return a.id.compare(b.id) < 0 ? -1 : (a.id == b.id ? 0 : 1);
}

// The codes a definition's allele matches at `locus` (PharmCAT matches it as a regular
// expression: an IUPAC code as a class of bases, anything longer literally).
static std::uint64_t AcceptedCodes(const VariantLocus& locus,
                                   const std::optional<std::string>& allele) {
  if (!allele) return ~std::uint64_t{0};
  std::uint64_t bits = 0;
  auto add = [&](const std::string& base) {
    const std::uint8_t code = AlleleCode(locus, base);
    if (code != kOtherCode && code != kMissingCode) bits |= std::uint64_t{1} << code;
  };
  if (allele->size() == 1 && IupacBases((*allele)[0]).size() > 0) {
    for (char b : IupacBases((*allele)[0])) add(std::string(1, b));
  } else {
    add(*allele);
  }
  return bits;
}

void Initialize(Haplotype& h, const std::vector<VariantLocus>& positions) {
  h.score = 0;
  h.wobbles.clear();
  h.core_positions.clear();
  h.accepts.assign(h.alleles.size(), 0);
  for (std::size_t i = 0; i < h.alleles.size(); ++i) {
    h.accepts[i] = AcceptedCodes(positions[i], h.alleles[i]);
    if (!h.alleles[i]) continue;
    if (IsWobble(h.alleles[i])) h.wobbles.push_back(i);
    ++h.score;
    if (!h.reference) h.core_positions.push_back(positions[i].position);
  }
  std::sort(h.core_positions.begin(), h.core_positions.end());
  h.score -= h.num_partials;
}

MatchData::MatchData(const GeneDefinition& gene, const VcfData& vcf, std::size_t sample,
                     bool find_combinations)
    : gene_(&gene) {
  std::vector<SampleAllele> alleles_here;
  const bool treat = TreatsUndocumentedAsReference(gene.gene) &&
                     (IsLowestFunctionGene(gene.gene) || !find_combinations);
  // Which loci have data, one character each: the key of the cached positions.
  std::string positions_key(gene.loci.size() + 2, '0');
  positions_key[0] = 'P';
  positions_key[1] = '@';
  std::size_t locus_number = 0;
  std::vector<const VariantLocus*> with_data;
  for (const VariantLocus& locus : gene.loci) {
    ++locus_number;
    auto it = vcf.records.find({locus.chromosome, locus.position});
    if (it == vcf.records.end()) {
      missing_.push_back(locus.position);
      continue;
    }
    const VcfRecord& r = it->second;
    const int i1 = r.allele1[sample];
    const int i2 = r.allele2[sample];  // -2: a one-allele GT
    const bool two_parts = i2 != -2;
    std::vector<int> called;
    for (int i : {i1, i2}) {
      if (i >= 0) called.push_back(i);
    }
    // No call, a half call of the reference ("./0"), a REF with N, or a called allele that is
    // no base ('*', N, a symbolic <…>): PharmCAT reads it as missing.
    auto unusable = [&](int i) {
      const std::string& a = r.Allele(i);
      return a == "*" || a.starts_with("<") || a.find_first_of("Nn") != std::string::npos;
    };
    if (called.empty() || (called.size() == 1 && called[0] == 0 && locus.chromosome != "chrX") ||
        r.ref.find_first_of("Nn") != std::string::npos ||
        std::any_of(called.begin(), called.end(), unusable)) {
      missing_.push_back(locus.position);
      continue;
    }
    SampleAllele sa;
    sa.position = locus.position;
    // Alts no definition has (unless the file has only SNVs where an indel is defined: then
    // nothing can be checked).
    std::set<std::string> undocumented;
    const bool expect_multi = std::any_of(locus.alts.begin(), locus.alts.end(),
                                          [](const std::string& a) { return a.size() > 1; });
    const bool has_multi = std::any_of(r.alts.begin(), r.alts.end(), [](const std::string& a) {
      return a.size() > 1 && !a.starts_with("<");
    });
    if (!(expect_multi && !has_multi)) {
      for (int i : called) {
        if (i == 0) continue;
        const std::string alt = Upper(r.Allele(i));
        if (alt.starts_with("<")) continue;
        if (std::find(locus.alts.begin(), locus.alts.end(), alt) == locus.alts.end()) {
          undocumented.insert(alt);
        }
      }
    }
    sa.undocumented = !undocumented.empty();
    if (sa.undocumented) sa.undocumented_allele = *undocumented.begin();
    auto compute = [&](const std::string& allele) {
      if (treat && undocumented.contains(allele)) {
        sa.undocumented_as_reference = true;
        return Upper(r.ref);
      }
      return allele;
    };
    if (i1 >= 0) {
      sa.allele1 = Upper(r.Allele(i1));
      sa.computed1 = compute(*sa.allele1);
    }
    if (i2 >= 0) {
      sa.allele2 = Upper(r.Allele(i2));
      sa.computed2 = compute(*sa.allele2);
    } else if (two_parts) {
      sa.computed2 = ".";
    }
    sa.partial = i1 < 0 || (two_parts && i2 < 0);
    sa.has_variant = std::any_of(called.begin(), called.end(), [](int i) { return i > 0; });
    // A one-allele GT has no '/': PharmCAT counts it as phased.
    sa.phased = two_parts ? static_cast<bool>(r.phased[sample]) : true;
    const bool distinct = called.size() == 2 && called[0] != called[1];
    if (!sa.phased) {
      sa.effectively_phased = !distinct;
    } else if (r.phase_set[sample] != kNoPhaseSet) {
      sa.phase_set = r.phase_set[sample];
      sa.effectively_phased = !distinct;
    }
    if (!sa.phased) phased_ = false;
    if (sa.phased) phase_sets_[sa.phase_set.value_or(kUnsetPhaseSet)].insert(locus.position);
    with_data.push_back(&locus);
    positions_key[locus_number + 1] = '1';
    alleles_here.push_back(std::move(sa));
  }
  GeneDefinition::DerivedCache& cache = *gene.derived.cache;
  {
    std::lock_guard lock(cache.mutex);
    if (auto it = cache.positions.find(positions_key); it != cache.positions.end()) {
      positions_ = it->second;
    }
  }
  if (!positions_) {
    std::vector<VariantLocus> positions;
    for (const VariantLocus* l : with_data) positions.push_back(*l);
    positions_ = std::make_shared<const std::vector<VariantLocus>>(std::move(positions));
    std::lock_guard lock(cache.mutex);
    if (cache.positions.size() >= GeneDefinition::DerivedCache::kMaxEntries) {
      cache.positions.clear();
    }
    cache.positions.emplace(positions_key, positions_);
  }
  positions_key_ = positions_key.substr(2);
  std::size_t no1 = 0, no2 = 0;
  sample_ = std::make_shared<const std::vector<SampleAllele>>(std::move(alleles_here));
  for (const auto& sa : *sample_) {
    if (!sa.allele1) ++no1;
    if (!sa.allele2) ++no2;
  }
  haploid_ = !sample_->empty() && (no1 == sample_->size() || no2 == sample_->size());
  if (!sample_->empty()) GeneratePermutations();
}

bool MatchData::using_phase_sets() const {
  if (phase_sets_.empty()) return false;
  if (phase_sets_.contains(kUnsetPhaseSet)) return phase_sets_.size() > 1;
  return true;
}

std::optional<int> MatchData::PhaseSet(long long position) const {
  if (!using_phase_sets()) return std::nullopt;
  for (const auto& [ps, positions] : phase_sets_) {
    if (positions.contains(position)) return ps;
  }
  return std::nullopt;
}

bool MatchData::HasPartialMissingAlleles() const {
  return std::any_of(sample_->begin(), sample_->end(),
                     [](const SampleAllele& s) { return s.partial; });
}

std::optional<std::size_t> MatchData::IndexOf(long long position) const {
  for (std::size_t i = 0; i < positions_->size(); ++i) {
    if ((*positions_)[i].position == position) return i;
  }
  return std::nullopt;
}

const SampleAllele* MatchData::SampleAt(long long position) const {
  const auto i = IndexOf(position);
  return i ? &(*sample_)[*i] : nullptr;
}

// PharmCAT CombinationUtil.generatePermutations: strand 1 (and strand 2 unless haploid), each
// phased position taking its strand's allele, each unphased heterozygous position either
// allele, and the positions of one phase set together (either all first alleles or all
// second).
void MatchData::GeneratePermutations() {
  int choices = 0;
  std::set<int> sets;
  for (const auto& sa : *sample_) {
    if (sa.effectively_phased) continue;
    if (sa.phase_set) {
      sets.insert(*sa.phase_set);
    } else {
      ++choices;
    }
  }
  if (choices + static_cast<int>(sets.size()) > kMaxChoices) {
    too_many_ = true;
    return;
  }
  bool blank1 = true, blank2 = true;
  for (const auto& sa : *sample_) {
    if (sa.allele1) blank1 = false;
    if (sa.allele2) blank2 = false;
  }
  std::vector<Sequence> out;
  std::vector<std::string> alleles(sample_->size());
  std::map<int, bool> phase_choice;
  auto allele_of = [](const SampleAllele& sa, bool first) {
    if (first) return sa.computed1;
    return sa.computed2 ? *sa.computed2 : std::string("null");
  };
  std::function<void(std::size_t, bool, bool)> walk = [&](std::size_t k, bool haploid, bool first) {
    if (k == sample_->size()) {
      Sequence seq;
      seq.alleles = alleles;
      seq.codes.resize(alleles.size());
      for (std::size_t i = 0; i < alleles.size(); ++i) {
        seq.codes[i] = AlleleCode((*positions_)[i], alleles[i]);
      }
      out.push_back(std::move(seq));
      return;
    }
    const SampleAllele& sa = (*sample_)[k];
    if (sa.effectively_phased || haploid) {
      alleles[k] = allele_of(sa, first);
      walk(k + 1, haploid, first);
    } else if (sa.phase_set) {
      auto it = phase_choice.find(*sa.phase_set);
      if (it != phase_choice.end()) {
        alleles[k] = allele_of(sa, it->second);
        walk(k + 1, false, first);
      } else {
        for (bool in_set : {true, false}) {
          phase_choice[*sa.phase_set] = in_set;
          alleles[k] = allele_of(sa, in_set);
          walk(k + 1, false, first);
        }
        phase_choice.erase(*sa.phase_set);
      }
    } else {
      for (bool which : {true, false}) {
        alleles[k] = allele_of(sa, which);
        walk(k + 1, false, first);
      }
    }
  };
  if (!blank1) walk(0, blank2, true);
  if (!blank2) {
    phase_choice.clear();
    walk(0, blank1, false);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  permutations_ = std::make_shared<const std::vector<Sequence>>(std::move(out));
}

void MatchData::MarshallHaplotypes(bool find_combinations, bool assume_reference,
                                   const std::set<std::string>& exclude) {
  // The same positions give the same alleles: built once per definition and key.
  std::string key = std::string(find_combinations ? "C" : "-") + (assume_reference ? "R" : "-");
  for (const auto& name : exclude) key += "|" + name;
  key += "@";
  key += positions_key_;
  GeneDefinition::DerivedCache& cache = *gene_->derived.cache;
  {
    std::lock_guard lock(cache.mutex);
    if (auto it = cache.haplotypes.find(key); it != cache.haplotypes.end()) {
      haplotypes_ = std::static_pointer_cast<const std::vector<Haplotype>>(it->second);
      return;
    }
  }
  std::vector<Haplotype> haplotypes;
  // Each position with data, as an index into the definition's loci.
  std::vector<std::size_t> locus_index;
  for (const auto& p : *positions_) {
    for (std::size_t k = 0; k < gene_->loci.size(); ++k) {
      if (gene_->loci[k].position == p.position) locus_index.push_back(k);
    }
  }
  const NamedAllele& ref_def = gene_->alleles.front();
  for (const NamedAllele& a : gene_->alleles) {
    if (exclude.contains(a.name)) continue;
    if (find_combinations && gene_->gene == "UGT1A1" && a.name.find('+') != std::string::npos) {
      continue;  // UGT1A1's defined combinations are found as combinations instead
    }
    Haplotype h;
    h.name = a.name;
    h.id = a.id;
    h.reference = a.reference;
    for (std::size_t k : locus_index) h.alleles.push_back(a.alleles[k]);
    Initialize(h, *positions_);
    if (!missing_.empty() && h.score == 0) continue;
    if (assume_reference && !h.reference) {
      const int score = h.score;
      for (std::size_t i = 0; i < h.alleles.size(); ++i) {
        if (h.alleles[i]) continue;
        const std::optional<std::string>& r = ref_def.alleles[locus_index[i]];
        h.alleles[i] = IsWobble(r) ? (*positions_)[i].ref : r;
      }
      Initialize(h, *positions_);
      h.score = score;
    }
    haplotypes.push_back(std::move(h));
  }
  std::stable_sort(
      haplotypes.begin(), haplotypes.end(),
      [](const Haplotype& x, const Haplotype& y) { return CompareHaplotypes(x, y) < 0; });
  auto shared = std::make_shared<const std::vector<Haplotype>>(std::move(haplotypes));
  {
    std::lock_guard lock(cache.mutex);
    // Bounded: a file with many different missing-position patterns must not grow it forever.
    if (cache.haplotypes.size() >= GeneDefinition::DerivedCache::kMaxEntries) {
      cache.haplotypes.clear();
    }
    cache.haplotypes.emplace(key, shared);
  }
  haplotypes_ = std::move(shared);
}

bool SampleHasVariantsOutside(const VcfData& vcf, std::size_t sample,
                              const std::set<Position>& except) {
  for (const auto& [pos, r] : vcf.records) {
    if (except.contains(pos)) continue;
    if (r.allele1[sample] > 0 || r.allele2[sample] > 0) return true;
  }
  return false;
}

}  // namespace medtwin::pgx::match
