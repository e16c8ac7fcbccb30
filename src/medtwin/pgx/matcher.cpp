#include "medtwin/pgx/matcher.h"

#include <algorithm>
#include <map>

#include "medtwin/pgx/haplotype_names.h"
#include "medtwin/pgx/lowest_function.h"

namespace medtwin::pgx {
namespace {

using match::DiplotypeMatch;
using match::Match;
using match::MatchData;
using match::MatcherResult;

// PharmCAT reports a sub-allele by its core allele (DiplotypeMatch.handleSuballeleConversion).
std::string CoreNames(const GeneDefinition& g, std::string name) {
  for (const auto& [sub, core] : g.suballeles) {
    for (std::size_t at = name.find(sub); at != std::string::npos;
         at = name.find(sub, at + core.size())) {
      name.replace(at, sub.size(), core);
    }
  }
  return name;
}

// CPIC activity value of a DPYD allele; none for partial variants.
std::optional<double> Activity(const GenePhenotypes* p, const std::string& name) {
  if (p == nullptr) return std::nullopt;
  auto it = p->activity_value.find(name);
  if (it == p->activity_value.end()) return std::nullopt;
  return it->second;
}

// Lowest activity first (an allele without one first of all), then by name (PharmCAT
// LowestFunctionGeneCaller.DpydActivityComparator).
void SortByActivity(std::vector<std::string>& names, const GenePhenotypes* p) {
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    const auto x = Activity(p, a);
    const auto y = Activity(p, b);
    if (x.has_value() != y.has_value()) return !x.has_value();
    if (x && *x != *y) return *x < *y;
    return CompareHaplotypeNames(a, b) < 0;
  });
}

// The recommended DPYD diplotype (PharmCAT LowestFunctionGeneCaller): per phased diplotype, the
// lowest-activity allele of each strand, and of those the pair of lowest total activity; for
// unphased alleles, the two of lowest activity.
DiplotypeCall LowestFunctionDiplotype(const MatcherResult& r, const GenePhenotypes* p) {
  auto total = [&](const DiplotypeCall& d) {
    return Activity(p, d.allele1).value_or(2.0) +
           (d.allele2.empty() ? 0.0 : Activity(p, d.allele2).value_or(2.0));
  };
  if (r.diplotypes.empty()) {
    std::vector<std::string> names;
    for (const Match& m : r.haplotypes) {
      for (auto& n : match::MatchComponentNames(m)) names.push_back(std::move(n));
    }
    SortByActivity(names, p);
    return {names.at(0), names.size() > 1 ? names[1] : "", 0};
  }
  std::optional<DiplotypeCall> best;
  for (const DiplotypeMatch& dm : r.diplotypes) {
    auto first = match::MatchComponentNames(dm.first);
    SortByActivity(first, p);
    DiplotypeCall d{first.front(), "", dm.score};
    if (dm.second) {
      auto second = match::MatchComponentNames(*dm.second);
      SortByActivity(second, p);
      d.allele2 = second.front();
    }
    if (!best) {
      best = d;
      continue;
    }
    const double a = total(d), b = total(*best);
    int c = a < b ? -1 : (b < a ? 1 : 0);
    if (c == 0) c = CompareHaplotypeNames(d.allele1, best->allele1);
    if (c == 0) c = CompareHaplotypeNames(d.allele2, best->allele2);
    if (c < 0) best = d;
  }
  return *best;
}

std::string Locus(const GeneDefinition& g, long long position) {
  return g.chromosome + ":" + std::to_string(position);
}

// Why a standard gene gets no call.
std::string NoCallReason(const MatchData& data) {
  for (const auto& sa : data.sample()) {
    if (sa.undocumented && !sa.undocumented_as_reference) {
      return "undocumented allele " + sa.undocumented_allele.substr(0, 20) + " at " +
             Locus(data.gene(), sa.position) + " (not in any " + data.gene().gene + " definition)";
    }
  }
  return "no pair of defined alleles explains the genotypes";
}

MatcherResult CallStandardGene(const MatchData& base, const MatchOptions& options) {
  MatcherResult r;
  MatchData data = base;
  data.MarshallHaplotypes(false, true);
  auto combinations = [&] {
    MatchData combo = base;
    combo.MarshallHaplotypes(true, false);
    MatcherResult c;
    c.diplotypes = match::ComputeDiplotypes(combo, true, true, false);
    c.called = !c.diplotypes.empty();
    if (!c.called) c.reason = NoCallReason(combo);
    return c;
  };
  if (data.HasPartialMissingAlleles()) {
    if (options.find_combinations) return combinations();
    for (const auto& sa : data.sample()) {
      if (sa.partial) {
        r.reason = "half-called genotype at " + Locus(data.gene(), sa.position) +
                   " (one allele missing): the other copy is unknown";
        break;
      }
    }
    return r;
  }
  r.diplotypes = match::ComputeDiplotypes(data, false, false, options.top_candidate_only);
  if (r.diplotypes.empty()) {
    if (options.find_combinations) return combinations();
    r.reason = NoCallReason(data);
    return r;
  }
  r.called = true;
  return r;
}

// SLCO1B1 from rs4149056 alone when the matcher makes no call (PharmCAT Slco1b1CustomCaller:
// the statin guideline turns on this variant; T is *1's base, C is *5's).
void InferSlco1b1(const MatchData& data, const GenePhenotypes* p, GeneCall& call) {
  constexpr const char* kRsid = "rs4149056";
  for (std::size_t i = 0; i < data.positions().size(); ++i) {
    if (data.positions()[i].rsid != kRsid) continue;
    const auto& sa = data.sample()[i];
    if (!sa.allele1 || !sa.allele2) return;
    std::string a = *sa.allele1, b = *sa.allele2;
    if (a < b) std::swap(a, b);  // T before C: *1 before *5
    auto star = [](const std::string& base) -> std::string {
      return base == "T" ? "*1" : (base == "C" ? "*5" : "");
    };
    if (star(a).empty() || star(b).empty()) return;
    call.called = true;
    call.inferred_from = kRsid;
    call.diplotypes = {{star(a), star(b), 0}};
    call.matcher_calls = {std::string(kRsid) + " " + b + "/" + kRsid + " " + a};
    Translate(call, p);
    return;
  }
}

}  // namespace

void Translate(GeneCall& call, const GenePhenotypes* p) {
  call.phenotype.clear();
  call.activity_score.reset();
  call.functions.clear();
  if (p == nullptr || call.diplotypes.empty()) return;
  std::optional<DiplotypePhenotype> agreed;
  bool same = true;
  for (const auto& d : call.diplotypes) {
    auto it = p->diplotypes.find(DiplotypeKey(d.allele1, d.allele2));
    if (it == p->diplotypes.end()) {
      same = false;
      break;
    }
    if (!agreed) {
      agreed = it->second;
    } else if (agreed->phenotype != it->second.phenotype ||
               agreed->activity_score != it->second.activity_score) {
      same = false;
    }
  }
  if (same && agreed) {
    call.phenotype = agreed->phenotype;
    call.activity_score = agreed->activity_score;
  } else if (!same) {
    call.phenotype = "Indeterminate";  // the possible diplotypes translate differently
  }
  for (const auto& name : {call.diplotypes[0].allele1, call.diplotypes[0].allele2}) {
    if (name.empty()) continue;
    auto it = p->function.find(name);
    call.functions.push_back(it == p->function.end() ? "" : it->second);
  }
}

GeneCall CallGene(const GeneDefinition& g, const GenePhenotypes* phenotypes, const VcfData& vcf,
                  std::size_t sample, const MatchOptions& options) {
  GeneCall call;
  call.gene = g.gene;
  const MatchData base(g, vcf, sample, options.find_combinations);
  call.missing_positions = base.missing_positions();
  if (base.num_sample_alleles() == 0) {
    call.reason = "no genotype at any of the " + std::to_string(g.loci.size()) + " positions";
    return call;
  }
  if (base.TooManyPermutations()) {
    call.reason = "more than " + std::to_string(match::kMaxChoices) +
                  " unphased heterozygous positions (or phase sets): too many possible "
                  "haplotypes to resolve without phase";
    if (g.gene == "SLCO1B1") InferSlco1b1(base, phenotypes, call);
    return call;
  }
  call.phased = base.effectively_phased();
  const bool lowest = match::IsLowestFunctionGene(g.gene);
  MatcherResult r =
      lowest ? match::CallLowestFunctionGene(base, vcf, sample) : CallStandardGene(base, options);
  if (!r.called) {
    call.reason = r.reason;
    if (g.gene == "SLCO1B1") InferSlco1b1(base, phenotypes, call);
    return call;
  }
  call.called = true;
  for (const DiplotypeMatch& dm : r.diplotypes) {
    call.diplotypes.push_back(
        {CoreNames(g, dm.first.name), dm.second ? CoreNames(g, dm.second->name) : "", dm.score});
  }
  if (lowest) {
    for (const auto& d : call.diplotypes) call.matcher_calls.push_back(d.Name());
    // Alleles found without phase: each once, in name order; those on both copies listed
    // (PharmCAT GeneReport's source diplotypes and homozygous components).
    std::map<std::string, int> copies;
    for (const Match& m : r.haplotypes) {
      for (const auto& n : match::MatchComponentNames(m)) ++copies[n];
      if (std::find(call.matcher_calls.begin(), call.matcher_calls.end(), m.name) ==
          call.matcher_calls.end()) {
        call.matcher_calls.push_back(m.name);
      }
    }
    std::sort(call.matcher_calls.begin() + static_cast<std::ptrdiff_t>(call.diplotypes.size()),
              call.matcher_calls.end(), [](const std::string& a, const std::string& b) {
                return CompareHaplotypeNames(a, b) < 0;
              });
    for (const auto& [n, c] : copies) {
      if (c > 1) call.matcher_homozygous.push_back(n);
    }
    call.matcher_haplotypes = r.diplotypes.empty();
    call.diplotypes = {LowestFunctionDiplotype(r, phenotypes)};
  }
  Translate(call, phenotypes);
  return call;
}

std::vector<std::string> MatcherCallNames(const GeneCall& call) {
  if (!call.matcher_calls.empty()) return call.matcher_calls;
  std::vector<std::string> names;
  for (const auto& d : call.diplotypes) names.push_back(d.Name());
  return names;
}

}  // namespace medtwin::pgx
