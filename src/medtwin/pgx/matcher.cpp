#include "medtwin/pgx/matcher.h"

#include <algorithm>
#include <limits>

namespace medtwin::pgx {
namespace {

// The sample's two alleles (strings) at one locus.
struct LocusGenotype {
  std::string a, b;
};

// An allele definition restricted to the loci with data: the accepted bases per locus.
struct Candidate {
  std::size_t index = 0;  // into GeneDefinition::alleles
  std::vector<std::vector<std::string>> bases;  // per available locus
  int score = 0;
};

bool Accepts(const std::vector<std::string>& bases, const std::string& allele) {
  return std::find(bases.begin(), bases.end(), allele) != bases.end();
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
// the diplotype of the two with the lowest activity value.
std::vector<DiplotypeCall> CallDpyd(const GeneDefinition& g, const GenePhenotypes* p,
                                    const std::vector<Candidate>& candidates,
                                    const std::vector<LocusGenotype>& genotype, bool phased) {
  struct Found {
    std::size_t index;
    int copies;  // unphased: 1 or 2; phased: strand bits (1 = first, 2 = second, 3 = both)
    int score;
  };
  std::vector<Found> found;
  for (const auto& c : candidates) {
    if (c.index == 0) continue;
    int copies = 2, strands = 3;
    for (std::size_t k = 0; k < genotype.size(); ++k) {
      if (!g.alleles[c.index].alleles[k]) continue;  // only the positions it defines
      const bool on_a = Accepts(c.bases[k], genotype[k].a);
      const bool on_b = Accepts(c.bases[k], genotype[k].b);
      copies = std::min(copies, static_cast<int>(on_a) + static_cast<int>(on_b));
      strands &= (on_a ? 1 : 0) | (on_b ? 2 : 0);
    }
    if (copies > 0) found.push_back({c.index, phased ? strands : copies, c.score});
  }
  // A variant whose positions are a subset of a found longer one's is part of that haplotype
  // where both are seen: the longer one takes those copies (strands).
  std::vector<Found> kept;
  for (const Found& f : found) {
    Found rest = f;
    for (const auto& other : found) {
      if (other.index == f.index || other.score <= f.score) continue;
      bool subset = true;
      for (std::size_t k = 0; k < genotype.size() && subset; ++k) {
        if (g.alleles[f.index].alleles[k] && !g.alleles[other.index].alleles[k]) subset = false;
      }
      if (!subset) continue;
      rest.copies = phased ? (rest.copies & ~other.copies) : std::max(0, rest.copies - other.copies);
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
  const std::string& ref = g.alleles[0].name;
  std::vector<std::string> picked;
  if (phased) {
    // The lowest-activity variant on each strand.
    for (int strand : {1, 2}) {
      auto it = std::find_if(found.begin(), found.end(),
                             [&](const Found& f) { return (f.copies & strand) != 0; });
      picked.push_back(it == found.end() ? ref : g.alleles[it->index].name);
    }
  } else {
    for (const auto& f : found) {
      for (int c = 0; c < f.copies && picked.size() < 2; ++c) picked.push_back(g.alleles[f.index].name);
    }
    while (picked.size() < 2) picked.push_back(ref);
  }
  auto score = [&](const std::string& name) {
    for (const auto& c : candidates) {
      if (g.alleles[c.index].name == name) return c.score;
    }
    return 0;
  };
  auto order = [&](const std::string& name) {
    for (std::size_t i = 0; i < g.alleles.size(); ++i) {
      if (g.alleles[i].name == name) return i;
    }
    return g.alleles.size();
  };
  if (order(picked[1]) < order(picked[0])) std::swap(picked[0], picked[1]);
  return {{picked[0], picked[1], score(picked[0]) + score(picked[1])}};
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
  // The sample's genotype at each locus, or missing.
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
    const int i2 = r.allele2[sample] == -2 ? i1 : r.allele2[sample];  // haploid: one copy read twice
    LocusGenotype lg{r.Allele(i1), r.Allele(i2)};
    for (const std::string* s : {&lg.a, &lg.b}) {
      const bool known = *s == locus.ref ||
                         std::find(locus.alts.begin(), locus.alts.end(), *s) != locus.alts.end();
      if (!known) {
        call.reason = "undocumented allele " + s->substr(0, 20) + " at " + locus.chromosome + ":" +
                      std::to_string(locus.position) + " (not in any " + g.gene + " definition)";
        return call;
      }
    }
    if (lg.a != lg.b) {
      ++heterozygous;
      if (!r.phased[sample]) all_phased = false;
    }
    available.push_back(k);
    genotype.push_back(std::move(lg));
  }
  if (available.empty()) {
    call.reason = "no genotype at any of the " + std::to_string(g.loci.size()) + " positions";
    return call;
  }
  call.phased = all_phased || heterozygous == 0;
  // The definitions restricted to the loci with data.
  std::vector<Candidate> candidates;
  const NamedAllele& ref = g.alleles[0];
  for (std::size_t i = 0; i < g.alleles.size(); ++i) {
    const NamedAllele& a = g.alleles[i];
    Candidate c;
    c.index = i;
    for (std::size_t k : available) {
      const std::optional<std::string>& def = a.alleles[k] ? a.alleles[k] : ref.alleles[k];
      c.bases.push_back(ExpandIupac(*def));
      if (a.alleles[k]) ++c.score;
    }
    if (i > 0 && c.score == 0) continue;  // every defining position missing: cannot be seen
    candidates.push_back(std::move(c));
  }
  if (g.gene == "DPYD") {
    std::vector<LocusGenotype> full(g.loci.size());
    std::vector<Candidate> widened;
    // CallDpyd reads defining positions by locus index: re-expand over all loci.
    for (const auto& c : candidates) {
      Candidate w;
      w.index = c.index;
      w.score = c.score;
      w.bases.assign(g.loci.size(), {});
      for (std::size_t j = 0; j < available.size(); ++j) w.bases[available[j]] = c.bases[j];
      widened.push_back(std::move(w));
    }
    for (std::size_t j = 0; j < available.size(); ++j) full[available[j]] = genotype[j];
    // Missing loci accept nothing; mark them so that no allele is found through them.
    GeneDefinition visible = g;
    for (std::size_t k = 0; k < g.loci.size(); ++k) {
      if (std::find(available.begin(), available.end(), k) == available.end()) {
        for (auto& a : visible.alleles) a.alleles[k].reset();
      }
    }
    call.diplotypes = CallDpyd(visible, phenotypes, widened, full, call.phased);
    call.called = true;
    Translate(call, phenotypes);
    return call;
  }
  if (call.phased) {
    // Strand by strand: the top-scoring alleles matching each strand exactly.
    std::vector<const Candidate*> best[2];
    for (int s = 0; s < 2; ++s) {
      int top = -1;
      for (const auto& c : candidates) {
        bool match = true;
        for (std::size_t j = 0; j < genotype.size() && match; ++j) {
          match = Accepts(c.bases[j], s == 0 ? genotype[j].a : genotype[j].b);
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
      bool ok = true;
      for (std::size_t j = 0; j < genotype.size() && ok; ++j) {
        ok = Accepts(c.bases[j], genotype[j].a) || Accepts(c.bases[j], genotype[j].b);
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
        bool explains = true;
        for (std::size_t j = 0; j < genotype.size() && explains; ++j) {
          const auto& [a, b] = genotype[j];
          explains = (Accepts(c1.bases[j], a) && Accepts(c2.bases[j], b)) ||
                     (Accepts(c1.bases[j], b) && Accepts(c2.bases[j], a));
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
