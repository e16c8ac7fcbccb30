#include "medtwin/pgx/matcher.h"

#include <algorithm>
#include <limits>

namespace medtwin::pgx {
namespace {

// The sample's two alleles at one locus, as indices into the locus' alleles (0 = ref).
struct LocusGenotype {
  int a = 0, b = 0;
};

// An allele restricted to the loci with data: its score there.
struct Candidate {
  std::size_t index = 0;  // into GeneDefinition::alleles
  int score = 0;
};

inline bool Accepts(const NamedAllele& allele, std::size_t locus, int which) {
  return ((allele.accepts[locus] >> which) & 1U) != 0;
}

void KeepTop(std::vector<DiplotypeCall>& calls, DiplotypeCall d) {
  if (!calls.empty() && d.score < calls.front().score) return;
  if (!calls.empty() && d.score > calls.front().score) calls.clear();
  for (const auto& c : calls) {
    if (c.allele1 == d.allele1 && c.allele2 == d.allele2) return;
  }
  calls.push_back(std::move(d));
}

DiplotypeCall Make(const GeneDefinition& g, const Candidate& x, const Candidate& y) {
  const Candidate& first = x.index <= y.index ? x : y;
  const Candidate& second = x.index <= y.index ? y : x;
  return {g.alleles[first.index].name, g.alleles[second.index].name, x.score + y.score};
}

// DPYD (CPIC 2017, PharmCAT's exception): the variants present, each with its copy number, and
// the diplotype of the two with the lowest activity value. `available[j]` is the locus of
// genotype[j].
std::vector<DiplotypeCall> CallDpyd(const GeneDefinition& g, const GenePhenotypes* p,
                                    const std::vector<Candidate>& candidates,
                                    const std::vector<std::size_t>& available,
                                    const std::vector<LocusGenotype>& genotype, bool phased) {
  struct Found {
    std::size_t index;
    int copies;  // unphased: 1 or 2; phased: strand bits (1 = first, 2 = second, 3 = both)
    int score;
  };
  std::vector<Found> found;
  for (const auto& c : candidates) {
    if (c.index == 0) continue;
    const NamedAllele& a = g.alleles[c.index];
    int copies = 2, strands = 3;
    for (std::size_t j = 0; j < available.size(); ++j) {
      const std::size_t k = available[j];
      if (!a.alleles[k]) continue;  // only the positions it defines
      const bool on_a = Accepts(a, k, genotype[j].a);
      const bool on_b = Accepts(a, k, genotype[j].b);
      copies = std::min(copies, static_cast<int>(on_a) + static_cast<int>(on_b));
      strands &= (on_a ? 1 : 0) | (on_b ? 2 : 0);
    }
    if (copies > 0) found.push_back({c.index, phased ? strands : copies, c.score});
  }
  // A variant whose (seen) positions are a subset of a found longer one's is part of that
  // haplotype where both are seen: the longer one takes those copies (strands).
  auto defines = [&](std::size_t allele, std::size_t k) {
    return g.alleles[allele].alleles[k].has_value();
  };
  std::vector<Found> kept;
  for (const Found& f : found) {
    Found rest = f;
    for (const auto& other : found) {
      if (other.index == f.index || other.score <= f.score) continue;
      bool subset = true;
      for (std::size_t k : available) {
        if (defines(f.index, k) && !defines(other.index, k)) subset = false;
      }
      if (!subset) continue;
      rest.copies =
          phased ? (rest.copies & ~other.copies) : std::max(0, rest.copies - other.copies);
    }
    if (rest.copies > 0) kept.push_back(rest);
  }
  found = std::move(kept);
  auto activity = [&](std::size_t index) {
    if (p == nullptr) return 1.0;
    auto it = p->activity_value.find(g.alleles[index].name);
    return it == p->activity_value.end() ? 1.0 : it->second;
  };
  std::stable_sort(found.begin(), found.end(), [&](const Found& a, const Found& b) {
    return activity(a.index) < activity(b.index);
  });
  std::vector<std::size_t> picked;
  if (phased) {
    // The lowest-activity variant on each strand.
    for (int strand : {1, 2}) {
      auto it = std::find_if(found.begin(), found.end(),
                             [&](const Found& f) { return (f.copies & strand) != 0; });
      picked.push_back(it == found.end() ? 0 : it->index);
    }
  } else {
    for (const auto& f : found) {
      for (int c = 0; c < f.copies && picked.size() < 2; ++c) picked.push_back(f.index);
    }
    while (picked.size() < 2) picked.push_back(0);
  }
  std::sort(picked.begin(), picked.end());
  auto score = [&](std::size_t index) {
    for (const auto& c : candidates) {
      if (c.index == index) return c.score;
    }
    return 0;
  };
  return {
      {g.alleles[picked[0]].name, g.alleles[picked[1]].name, score(picked[0]) + score(picked[1])}};
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
    auto it = p->function.find(name);
    call.functions.push_back(it == p->function.end() ? "" : it->second);
  }
}

GeneCall CallGene(const GeneDefinition& g, const GenePhenotypes* phenotypes, const VcfData& vcf,
                  std::size_t sample) {
  GeneCall call;
  call.gene = g.gene;
  // The sample's genotype at each locus (as the locus' allele indices), or missing.
  std::vector<std::size_t> available;
  std::vector<LocusGenotype> genotype;
  bool all_phased = true;
  int heterozygous = 0;
  for (std::size_t k = 0; k < g.loci.size(); ++k) {
    const VariantLocus& locus = g.loci[k];
    auto it = vcf.records.find({locus.chromosome, locus.position});
    if (it == vcf.records.end() || it->second.allele1[sample] < 0) {
      call.missing_positions.push_back(locus.position);
      continue;
    }
    const VcfRecord& r = it->second;
    const int i1 = r.allele1[sample];
    const int i2 = r.allele2[sample] == -2 ? i1 : r.allele2[sample];  // haploid: one copy twice
    LocusGenotype lg;
    int* out[2] = {&lg.a, &lg.b};
    const int in[2] = {i1, i2};
    for (int h = 0; h < 2; ++h) {
      const std::string& s = r.Allele(in[h]);
      int index = s == locus.ref ? 0 : -1;
      for (std::size_t i = 0; index < 0 && i < locus.alts.size(); ++i) {
        if (s == locus.alts[i]) index = static_cast<int>(i) + 1;
      }
      if (index < 0) {
        call.reason = "undocumented allele " + s.substr(0, 20) + " at " + locus.chromosome + ":" +
                      std::to_string(locus.position) + " (not in any " + g.gene + " definition)";
        return call;
      }
      *out[h] = index;
    }
    if (lg.a != lg.b) {
      ++heterozygous;
      if (!r.phased[sample]) all_phased = false;
    }
    available.push_back(k);
    genotype.push_back(lg);
  }
  if (available.empty()) {
    call.reason = "no genotype at any of the " + std::to_string(g.loci.size()) + " positions";
    return call;
  }
  call.phased = all_phased || heterozygous == 0;
  // Scores over the loci with data; an allele whose every defining position is missing
  // cannot be seen.
  std::vector<Candidate> candidates;
  const bool complete = call.missing_positions.empty();
  for (std::size_t i = 0; i < g.alleles.size(); ++i) {
    int score = g.alleles[i].score;
    if (!complete) {
      score = 0;
      for (std::size_t k : available) score += g.alleles[i].alleles[k] ? 1 : 0;
    }
    if (i > 0 && score == 0) continue;
    candidates.push_back({i, score});
  }
  if (g.gene == "DPYD") {
    call.diplotypes = CallDpyd(g, phenotypes, candidates, available, genotype, call.phased);
    call.called = true;
    Translate(call, phenotypes);
    return call;
  }
  const std::size_t n = available.size();
  if (call.phased) {
    // Strand by strand: the top-scoring alleles matching each strand exactly.
    std::vector<const Candidate*> best[2];
    for (int s = 0; s < 2; ++s) {
      int top = -1;
      for (const auto& c : candidates) {
        const NamedAllele& a = g.alleles[c.index];
        bool match = true;
        for (std::size_t j = 0; j < n && match; ++j) {
          match = Accepts(a, available[j], s == 0 ? genotype[j].a : genotype[j].b);
        }
        if (!match) continue;
        if (c.score > top) {
          top = c.score;
          best[s].clear();
        }
        if (c.score == top) best[s].push_back(&c);
      }
    }
    for (const Candidate* x : best[0]) {
      for (const Candidate* y : best[1]) KeepTop(call.diplotypes, Make(g, *x, *y));
    }
  } else {
    // Alleles compatible with the genotype at every locus, then pairs explaining it.
    std::vector<const Candidate*> compatible;
    for (const auto& c : candidates) {
      const NamedAllele& a = g.alleles[c.index];
      bool ok = true;
      for (std::size_t j = 0; j < n && ok; ++j) {
        ok = Accepts(a, available[j], genotype[j].a) || Accepts(a, available[j], genotype[j].b);
      }
      if (ok) compatible.push_back(&c);
    }
    for (std::size_t x = 0; x < compatible.size(); ++x) {
      for (std::size_t y = x; y < compatible.size(); ++y) {
        const Candidate& c1 = *compatible[x];
        const Candidate& c2 = *compatible[y];
        if (!call.diplotypes.empty() && c1.score + c2.score < call.diplotypes.front().score) {
          continue;
        }
        const NamedAllele& a1 = g.alleles[c1.index];
        const NamedAllele& a2 = g.alleles[c2.index];
        bool explains = true;
        for (std::size_t j = 0; j < n && explains; ++j) {
          const std::size_t k = available[j];
          const auto [a, b] = genotype[j];
          explains =
              (Accepts(a1, k, a) && Accepts(a2, k, b)) || (Accepts(a1, k, b) && Accepts(a2, k, a));
        }
        if (explains) KeepTop(call.diplotypes, Make(g, c1, c2));
      }
    }
  }
  if (call.diplotypes.empty()) {
    call.reason = "no pair of defined alleles explains the genotypes";
    return call;
  }
  std::sort(call.diplotypes.begin(), call.diplotypes.end(),
            [](const DiplotypeCall& a, const DiplotypeCall& b) { return a.Name() < b.Name(); });
  call.called = true;
  Translate(call, phenotypes);
  return call;
}

}  // namespace medtwin::pgx
