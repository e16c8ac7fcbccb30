#include "medtwin/pgx/lowest_function.h"

#include <algorithm>
#include <map>

namespace medtwin::pgx::match {
namespace {

constexpr const char* kReference = "Reference";
constexpr const char* kHapB3ExonicRsid = "rs56038477";
constexpr const char* kHapB3IntronicRsid = "rs75017182";
constexpr const char* kHapB3ExonicPartial = "g.97573863C>T";
constexpr const char* kHapB3IntronicPartial = "g.97579893G>C";

MatchData Marshalled(const MatchData& base, bool find_combinations, bool assume_reference,
                     const std::set<std::string>& exclude = {}) {
  MatchData d = base;
  d.MarshallHaplotypes(find_combinations, assume_reference, exclude);
  return d;
}

const Haplotype* Find(const MatchData& data, const std::string& name) {
  for (const auto& h : data.haplotypes()) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

// DPYD's HapB3, called from its intronic and exonic positions (PharmCAT DpydHapB3Matcher).
class HapB3 {
 public:
  HapB3(const MatchData& orig, const VcfData& vcf, std::size_t sample) : orig_(&orig) {
    for (const auto& l : orig.gene().loci) {
      if (l.rsid == kHapB3ExonicRsid) exon_ = &l;
      if (l.rsid == kHapB3IntronicRsid) intron_ = &l;
    }
    bool intronic = false, reference = false;
    for (const auto& a : orig.gene().alleles) {
      if (a.name == kHapB3) definition_ = &a;
      if (a.name == kHapB3Intronic) intronic = true;
      if (a.name == kReference && a.reference) reference = true;
    }
    // Data without HapB3's positions and alleles (another release's naming): no HapB3 rule.
    if (exon_ == nullptr || intron_ == nullptr || definition_ == nullptr || !intronic ||
        !reference) {
      return;
    }
    valid_ = true;
    exon_sample_ = orig.SampleAt(exon_->position);
    intron_sample_ = orig.SampleAt(intron_->position);
    has_other_variants_ = SampleHasVariantsOutside(
        vcf, sample,
        {{exon_->chromosome, exon_->position}, {intron_->chromosome, intron_->position}});
    has_variants_ = (exon_sample_ != nullptr && exon_sample_->has_variant) ||
                    (intron_sample_ != nullptr && intron_sample_->has_variant);
  }

  [[nodiscard]] bool valid() const { return valid_; }
  [[nodiscard]] bool has_variants() const { return has_variants_; }
  [[nodiscard]] bool has_other_variants() const { return has_other_variants_; }
  [[nodiscard]] bool present() const { return num_called_ > 0; }
  [[nodiscard]] int num_called() const { return num_called_; }

  // Unphased calls: how many copies of HapB3 and of the intronic variant alone.
  void CallHaplotypeMatches() {
    if (!valid_) return;
    bool phased = orig_->effectively_phased();
    if (!phased && orig_->using_phase_sets()) {
      const auto e = orig_->PhaseSet(exon_->position);
      const auto i = orig_->PhaseSet(intron_->position);
      if (e && e == i) phased = true;
    }
    if (exon_sample_ != nullptr || intron_sample_ != nullptr) {
      if (intron_sample_ != nullptr) {
        const auto intronic = Strands(*intron_, *intron_sample_);
        const long n_intronic = Called(intronic);
        if (exon_sample_ == nullptr) {
          intron_call_ = intronic;
        } else {
          const auto exonic = Strands(*exon_, *exon_sample_);
          const long n_exonic = Called(exonic);
          if (n_intronic == 0) {
            call_ = exonic;
          } else if (n_intronic == 1) {
            if (n_exonic == 0) {
              intron_call_ = intronic;
            } else if (phased) {
              PhasedStrand(intronic, exonic, 0);
              PhasedStrand(intronic, exonic, 1);
            }
          } else if (n_intronic == 2) {
            if (n_exonic == 0) {
              intron_call_ = intronic;
            } else if (phased) {
              PhasedStrand(intronic, exonic, 0);
              PhasedStrand(intronic, exonic, 1);
            } else if (n_exonic == 2) {
              intron_call_.emplace();
              call_.emplace();
              const long ones_intronic = std::count(intronic.begin(), intronic.end(), "1");
              const long ones_exonic = std::count(exonic.begin(), exonic.end(), "1");
              if (ones_intronic == ones_exonic) {
                for (long x = 0; x < ones_intronic; ++x) call_->push_back("1");
              } else if (ones_intronic > ones_exonic) {
                intron_call_->push_back("1");
                if (ones_exonic == 1) {
                  call_->push_back("1");
                } else if (ones_intronic == 2) {
                  intron_call_->push_back("1");
                }
              } else if (ones_intronic == 1) {
                call_->push_back("1");  // the intronic call wins: one HapB3
              }
            }
          }
        }
      } else {
        call_ = Strands(*exon_, *exon_sample_);
      }
    }
    if (intron_call_) num_called_ += Ones(*intron_call_);
    if (call_) num_called_ += Ones(*call_);
  }

  [[nodiscard]] std::vector<Match> BuildHaplotypeMatches() const {
    std::vector<Match> out;
    auto add = [&](const std::optional<std::vector<std::string>>& calls, const char* name) {
      if (!calls) return;
      const Haplotype* h = Find(*orig_, name);
      if (h == nullptr) return;
      for (int i = 0; i < Ones(*calls); ++i) out.push_back(PlainMatch(*h));
    };
    add(call_, kHapB3);
    add(intron_call_, kHapB3Intronic);
    return out;
  }

  // Adds HapB3 to each strand of phased diplotypes found without it.
  [[nodiscard]] std::vector<DiplotypeMatch> MergePhased(const MatchData& data,
                                                        const std::vector<DiplotypeMatch>& dms) {
    if (!has_variants_) return dms;
    std::vector<DiplotypeMatch> out;
    for (const auto& dm : dms) {
      if (!dm.second) continue;
      Match a = OnStrand(*dm.first.sequences.begin(), data, &dm.first);
      Match b = OnStrand(*dm.second->sequences.begin(), data, &*dm.second);
      out.push_back(MakeDiplotype(std::move(a), std::move(b)));
    }
    SortUnique(out);
    return out;
  }

  // Reference everywhere but HapB3's positions.
  [[nodiscard]] std::vector<DiplotypeMatch> AddPhasedToReference(const MatchData& data) {
    std::vector<Match> haps;
    for (const auto& seq : data.permutations()) haps.push_back(OnStrand(seq, data, nullptr));
    if (haps.empty()) return {};
    std::vector<DiplotypeMatch> out;
    out.push_back(haps.size() == 2 ? MakeDiplotype(haps[0], haps[1])
                                   : MakeDiplotype(haps[0], haps[0]));
    return out;
  }

  // Drops HapB3's positions from the partial variants of combination strands.
  [[nodiscard]] std::vector<DiplotypeMatch> FixPartials(const MatchData& data,
                                                        const std::vector<DiplotypeMatch>& dms) {
    std::vector<DiplotypeMatch> out;
    for (const auto& dm : dms) {
      if (!dm.second) {
        out.push_back(dm);
        continue;
      }
      bool modified = false;
      Match a = dm.first;
      Match b = *dm.second;
      for (Match* m : {&a, &b}) {
        if (HasHapB3Partial(*m)) {
          *m = RemovePartials(data, *m);
          modified = true;
        }
      }
      out.push_back(modified ? MakeDiplotype(std::move(a), std::move(b)) : dm);
    }
    SortUnique(out);
    return out;
  }

 private:
  static long Called(const std::vector<std::string>& calls) {
    return static_cast<long>(
        std::count_if(calls.begin(), calls.end(), [](const std::string& c) { return c != "."; }));
  }
  static int Ones(const std::vector<std::string>& calls) {
    return static_cast<int>(std::count(calls.begin(), calls.end(), "1"));
  }

  // Per strand: "1" HapB3's allele, "0" not, "." missing (only kept when phased).
  [[nodiscard]] std::vector<std::string> Strands(const VariantLocus& locus,
                                                 const SampleAllele& sa) const {
    std::vector<std::string> out;
    std::size_t k = 0;
    for (; k < orig_->gene().loci.size(); ++k) {
      if (orig_->gene().loci[k].position == locus.position) break;
    }
    const std::string want = definition_->alleles[k].value_or(locus.ref);
    if (!sa.allele1) {
      if (sa.phased) out.emplace_back(".");
    } else {
      out.emplace_back(*sa.allele1 == want ? "1" : "0");
    }
    if (sa.allele2) out.emplace_back(*sa.allele2 == want ? "1" : "0");
    return out;
  }

  void PhasedStrand(const std::vector<std::string>& intronic,
                    const std::vector<std::string>& exonic, std::size_t idx) {
    const std::string in = idx < intronic.size() ? intronic[idx] : ".";
    const std::string ex = idx < exonic.size() ? exonic[idx] : ".";
    if (!intron_call_) intron_call_.emplace();
    if (!call_) call_.emplace();
    if (in == "." && ex == ".") {
      intron_call_->push_back(".");
      call_->push_back(".");
    }
    if (in == "0") {
      intron_call_->push_back("0");
      call_->push_back("0");
    } else if (in == "1") {
      if (ex == "0") {
        intron_call_->push_back("1");
        call_->push_back("0");
      } else if (ex == ".") {
        intron_call_->push_back("1");
        call_->push_back(".");
      } else {
        intron_call_->push_back("0");
        call_->push_back("1");
      }
    } else {
      intron_call_->push_back(".");
      call_->push_back(".");
    }
  }

  // What HapB3 adds to one strand (`seq`) of a match (nullptr: a reference strand).
  Match OnStrand(const Sequence& seq, const MatchData& data, const Match* base) {
    auto allele_at = [&](long long pos) -> std::optional<std::string> {
      const auto i = data.IndexOf(pos);
      if (!i) return std::nullopt;
      return seq.alleles[*i];
    };
    const auto intron = allele_at(intron_->position);
    const bool has_intron_locus = intron && *intron != ".";
    const bool has_intron = has_intron_locus && *intron != intron_->ref;
    const auto exon = allele_at(exon_->position);
    const bool has_exon = exon && *exon != "." && *exon != exon_->ref;
    const char* name = kReference;
    if (has_intron) {
      name = has_exon ? kHapB3 : kHapB3Intronic;
    } else if (!has_intron_locus && has_exon) {
      name = kHapB3;  // exonic position only
    }
    return Build(data, name, base);
  }

  Match Build(const MatchData& data, const std::string& name, const Match* base) const {
    const Haplotype* allele = Find(data, name);
    if (allele == nullptr) allele = Find(*orig_, name);
    if (allele == nullptr) {  // not among the alleles seen with these positions
      if (base != nullptr) return *base;
      allele = Find(*orig_, kReference);
    }
    if (base == nullptr) return PlainMatch(*allele);
    if (name == kReference) return *base;
    std::vector<Haplotype> components{*allele};
    if (base->combination) {
      for (const auto& c : base->components) {
        const Haplotype* h = Find(data, c.name);
        components.push_back(h != nullptr ? *h : c);
      }
      return CombinationOf(data.positions(), *base->sequences.begin(), std::move(components), {});
    }
    if (base->name == kReference) return PlainMatch(*allele);
    const Haplotype* h = Find(data, base->name);
    components.push_back(h != nullptr ? *h : *base->haplotype);
    return CombinationOf(data.positions(), *base->sequences.begin(), std::move(components), {});
  }

  static bool HasHapB3Partial(const Match& m) {
    return m.combination && !m.partials.empty() &&
           (m.name.find(kHapB3IntronicPartial) != std::string::npos ||
            m.name.find(kHapB3ExonicPartial) != std::string::npos);
  }

  Match RemovePartials(const MatchData& data, const Match& m) const {
    auto partials = m.partials;
    partials.erase(exon_->position);
    partials.erase(intron_->position);
    if (partials.empty() && m.components.size() == 1 && m.components.front().name == kReference) {
      Match r = PlainMatch(m.components.front());
      r.sequences.insert(*m.sequences.begin());
      return r;
    }
    return CombinationOf(data.positions(), *m.sequences.begin(), m.components, partials);
  }

  const MatchData* orig_;
  const VariantLocus* exon_ = nullptr;
  const VariantLocus* intron_ = nullptr;
  const NamedAllele* definition_ = nullptr;
  const SampleAllele* exon_sample_ = nullptr;
  const SampleAllele* intron_sample_ = nullptr;
  bool valid_ = false, has_variants_ = false, has_other_variants_ = false;
  std::optional<std::vector<std::string>> call_, intron_call_;
  int num_called_ = 0;
};

MatcherResult Diplotypes(std::vector<DiplotypeMatch> dms) {
  MatcherResult r;
  r.called = !dms.empty();
  if (!r.called) r.reason = "no pair of defined alleles explains the genotypes";
  r.diplotypes = std::move(dms);
  return r;
}

// Unphased: the alleles found, each twice when both copies carry it (PharmCAT
// callHaplotypesForLowestFunctionGene).
std::vector<Match> Haplotypes(const MatchData& combo, const std::vector<DiplotypeMatch>& dms,
                              HapB3* hapb3) {
  if (hapb3 != nullptr) hapb3->CallHaplotypeMatches();
  std::set<std::string> homozygous;
  for (const auto& dm : dms) {
    std::map<std::string, int> count;
    for (const Match* m : {&dm.first, dm.second ? &*dm.second : nullptr}) {
      if (m == nullptr) continue;
      for (const auto& n : MatchComponentNames(*m)) {
        if (m->haplotype->num_partials == 0 || n != kReference) ++count[n];
      }
    }
    for (const auto& [n, c] : count) {
      if (c > 1) homozygous.insert(n);
    }
  }
  if (hapb3 != nullptr && hapb3->present()) homozygous.erase(kReference);
  std::vector<Match> found = ComparePermutations(combo);
  const std::size_t n =
      found.size() + (hapb3 != nullptr ? static_cast<std::size_t>(hapb3->num_called()) : 0);
  if (n > 2) {
    std::erase_if(found, [](const Match& m) { return m.name == kReference; });
  }
  std::vector<Match> out;
  for (const Match& m : found) {
    out.push_back(m);
    if (homozygous.erase(m.name) > 0) out.push_back(m);
  }
  if (hapb3 != nullptr) {
    for (auto& m : hapb3->BuildHaplotypeMatches()) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

MatcherResult CallLowestFunctionGene(const MatchData& base, const VcfData& vcf,
                                     std::size_t sample) {
  const MatchData orig = Marshalled(base, false, true);
  const bool dpyd = base.gene().gene == "DPYD";
  std::optional<HapB3> hapb3;
  if (dpyd) hapb3.emplace(orig, vcf, sample);
  const bool with_hapb3 = hapb3 && hapb3->valid() && hapb3->has_variants();
  const std::set<std::string> no_hapb3{kHapB3, kHapB3Intronic};
  const MatchData working = with_hapb3 ? Marshalled(base, false, true, no_hapb3) : orig;

  // Exact diplotypes when the data is effectively phased.
  if (orig.effectively_phased()) {
    auto dms = ComputeDiplotypes(working, false, false, false);
    if (with_hapb3) {
      const MatchData merger = Marshalled(base, false, false);
      if (!dms.empty()) return Diplotypes(hapb3->MergePhased(merger, dms));
      if (!hapb3->has_other_variants()) return Diplotypes(hapb3->AddPhasedToReference(merger));
    }
    if (!dms.empty()) return Diplotypes(std::move(dms));
  }
  // Combinations on each strand when phase is known.
  if (orig.effectively_phased() || orig.using_phase_sets()) {
    const MatchData combo =
        with_hapb3 ? Marshalled(base, true, false, no_hapb3) : Marshalled(base, true, false);
    auto dms = ComputeDiplotypes(combo, true, true, false);
    if (with_hapb3) {
      const MatchData merger = Marshalled(base, false, false);
      if (!dms.empty()) {
        dms = hapb3->FixPartials(merger, dms);
        return Diplotypes(hapb3->MergePhased(merger, dms));
      }
      if (!hapb3->has_other_variants()) return Diplotypes(hapb3->AddPhasedToReference(merger));
    }
    if (!dms.empty()) return Diplotypes(std::move(dms));
  }
  const MatchData combo =
      dpyd ? Marshalled(base, true, false, no_hapb3) : Marshalled(base, true, false);
  auto combo_dms = ComputeDiplotypes(combo, true, false, false);
  if (!combo_dms.empty() && (orig.effectively_phased() || combo.using_phase_sets())) {
    if (with_hapb3) {
      const MatchData merger = Marshalled(base, true, false);
      return Diplotypes(hapb3->MergePhased(merger, combo_dms));
    }
    return Diplotypes(std::move(combo_dms));
  }
  MatcherResult r;
  r.haplotypes = Haplotypes(combo, combo_dms, hapb3 ? &*hapb3 : nullptr);
  r.called = !r.haplotypes.empty();
  if (!r.called) r.reason = "no defined allele matches the genotypes";
  return r;
}

}  // namespace medtwin::pgx::match
