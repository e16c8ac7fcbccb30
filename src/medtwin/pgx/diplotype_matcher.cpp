#include "medtwin/pgx/diplotype_matcher.h"

#include <algorithm>

#include "medtwin/pgx/haplotype_names.h"

namespace medtwin::pgx::match {
namespace {

int CompareSequenceSets(const std::set<Sequence>& a, const std::set<Sequence>& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    if (const int c = i->Compare(*j); c != 0) return c;
  }
  return 0;
}

void InsertUnique(std::vector<Match>& set, Match m) {
  auto at = std::lower_bound(set.begin(), set.end(), m, [](const Match& x, const Match& y) {
    return CompareMatches(x, y) < 0;
  });
  if (at != set.end() && CompareMatches(*at, m) == 0) return;
  set.insert(at, std::move(m));
}

// Groups of covered alleles that can sit together on one strand: alleles taken by number of
// core positions (most first); each joins every group it does not overlap; an allele overlapping
// a group member of a different size is subsumed by it (PharmCAT computeViableCombinations).
std::vector<std::vector<Haplotype>> ViableCombinations(std::vector<Haplotype> covered) {
  std::sort(covered.begin(), covered.end(), [](const Haplotype& a, const Haplotype& b) {
    if (a.core_positions.size() != b.core_positions.size()) {
      return a.core_positions.size() > b.core_positions.size();
    }
    return a.name < b.name;
  });
  covered.erase(std::unique(covered.begin(), covered.end(),
                            [](const Haplotype& a, const Haplotype& b) {
                              return a.core_positions.size() == b.core_positions.size() &&
                                     a.name == b.name;
                            }),
                covered.end());
  auto overlaps = [](const Haplotype& a, const Haplotype& b) {
    return std::any_of(b.core_positions.begin(), b.core_positions.end(),
                       [&](long long p) { return a.IsCore(p); });
  };
  std::vector<std::vector<Haplotype>> combos;
  for (const Haplotype& allele : covered) {
    bool added = false;
    int overlap_count = 0;
    for (auto& combo : combos) {
      bool overlapping = false;
      for (const Haplotype& existing : combo) {
        if (overlaps(existing, allele)) {
          overlapping = true;
          // Same size: probably a missing position; not counted as an overlap.
          if (existing.core_positions.size() != allele.core_positions.size()) {
            ++overlap_count;
            break;
          }
        }
      }
      if (!overlapping) {
        combo.push_back(allele);
        added = true;
      }
    }
    if (!added && overlap_count == 0) combos.push_back({allele});
  }
  for (auto& combo : combos) {
    std::sort(combo.begin(), combo.end(),
              [](const Haplotype& a, const Haplotype& b) { return CompareHaplotypes(a, b) < 0; });
  }
  return combos;
}

std::map<long long, std::string> PartialNames(const MatchData& data, const Sequence& seq,
                                              const std::vector<Haplotype>& covered,
                                              bool find_partials) {
  std::map<long long, std::string> names;
  if (!find_partials) return names;
  for (std::size_t i = 0; i < data.positions().size(); ++i) {
    const VariantLocus& locus = data.positions()[i];
    if (seq.alleles[i] == locus.ref) continue;
    const bool explained = std::any_of(covered.begin(), covered.end(), [&](const Haplotype& h) {
      return h.IsCore(locus.position);
    });
    if (!explained) names[locus.position] = locus.HgvsName(seq.alleles[i]);
  }
  return names;
}

// PharmCAT CombinationMatcher.compute: per sequence, the alleles it carries.
std::vector<Match> MatchCombinations(const MatchData& data, bool find_partials) {
  std::vector<Match> matches;
  const Haplotype* reference = nullptr;
  for (const auto& h : data.haplotypes()) {
    if (h.reference) reference = &h;
  }
  for (const Sequence& seq : data.permutations()) {
    std::vector<Haplotype> covered;
    for (const auto& h : data.haplotypes()) {
      // The sequence carries every allele `h` defines (its core positions; PharmCAT's
      // sampleHasNamedAllele): in combination mode blanks are not filled, so that is Matches.
      if (!h.reference && h.Matches(seq)) covered.push_back(h);
    }
    if (covered.size() <= 1) {
      if (covered.empty() && reference == nullptr) continue;
      const Haplotype& h = covered.empty() ? *reference : covered.front();
      auto partials = PartialNames(data, seq, covered, find_partials);
      if (partials.empty()) {
        Match m = covered.empty() ? PlainMatch(data.Shared(h)) : PlainMatch(h);
        m.sequences.insert(seq);
        InsertUnique(matches, std::move(m));
      } else {
        InsertUnique(matches, CombinationOf(data.positions(), seq, {h}, partials));
      }
    } else {
      for (auto& combo : ViableCombinations(covered)) {
        auto partials = PartialNames(data, seq, combo, find_partials);
        InsertUnique(matches, CombinationOf(data.positions(), seq, std::move(combo), partials));
      }
    }
  }
  return matches;
}

bool ViableComplement(const MatchData& data, const Sequence& a, const Sequence& b) {
  for (std::size_t i = 0; i < data.positions().size(); ++i) {
    const bool same = a.alleles[i] == b.alleles[i];
    if (data.sample()[i].Homozygous() != same) return false;
  }
  return true;
}

// The sequences of `m` this pair uses.
std::vector<const Sequence*> SequencesFor(const Match& m,
                                          const std::vector<const Sequence*>& pair) {
  std::vector<const Sequence*> out;
  if (m.sequences.size() == 1) {
    out.push_back(&*m.sequences.begin());
    return out;
  }
  for (const Sequence& s : m.sequences) {
    if (std::any_of(pair.begin(), pair.end(), [&](const Sequence* p) { return *p == s; })) {
      out.push_back(&s);
    }
  }
  if (out.empty()) {
    for (const Sequence& s : m.sequences) out.push_back(&s);
  }
  return out;
}

int ScorePair(const MatchData& data, const DiplotypeMatch& dm,
              const std::pair<Sequence, std::optional<Sequence>>& pair) {
  const auto& positions = data.positions();
  std::vector<const Sequence*> both{&pair.first};
  if (pair.second) both.push_back(&*pair.second);
  int second_score = 0;
  bool homozygous = false;
  if (dm.second) {
    if (dm.first.name == dm.second->name) {
      homozygous = true;
      const Sequence* s = pair.second ? &*pair.second : &pair.first;
      second_score = dm.second->haplotype->ScoreFor(positions, SequencesFor(*dm.second, {s}));
    } else {
      second_score = dm.second->haplotype->ScoreFor(positions, SequencesFor(*dm.second, both));
    }
  }
  if (homozygous) {
    return dm.first.haplotype->ScoreFor(positions, SequencesFor(dm.first, {&pair.first})) +
           second_score;
  }
  return dm.first.haplotype->ScoreFor(positions, SequencesFor(dm.first, both)) + second_score;
}

}  // namespace

int CompareMatches(const Match& a, const Match& b) {
  if (const int c = CompareHaplotypeNames(a.name, b.name); c != 0) return c;
  if (!a.combination && !b.combination && a.haplotype->score != b.haplotype->score) {
    return a.haplotype->score < b.haplotype->score ? -1 : 1;
  }
  return CompareSequenceSets(a.sequences, b.sequences);
}

std::vector<std::string> MatchComponentNames(const Match& m) {
  std::vector<std::string> names;
  if (m.combination) {
    for (const auto& c : m.components) names.push_back(c.name);
  } else {
    names.push_back(m.haplotype->name);
  }
  return names;
}

Match PlainMatch(std::shared_ptr<const Haplotype> h) {
  Match m;
  m.name = h->name;
  m.haplotype = std::move(h);
  return m;
}

Match PlainMatch(const Haplotype& h) { return PlainMatch(std::make_shared<const Haplotype>(h)); }

Match CombinationOf(const std::vector<VariantLocus>& positions, const Sequence& seq,
                    std::vector<Haplotype> components,
                    const std::map<long long, std::string>& partials) {
  std::sort(components.begin(), components.end(),
            [](const Haplotype& a, const Haplotype& b) { return CompareHaplotypes(a, b) < 0; });
  Match m;
  m.combination = true;
  m.sequences.insert(seq);
  m.partials = partials;
  std::string name;
  int count = 0;
  auto append = [&](const std::string& part) {
    if (!name.empty()) name += kCombinationJoiner;
    name += part;
  };
  for (const auto& c : components) {
    if (c.reference) continue;
    if (c.num_combinations > 1 && IsCombinationName(c.name)) {
      append(c.name.substr(1, c.name.size() - 2));
      count += 2;
    } else {
      append(c.name);
      count += 1;
    }
  }
  for (const auto& [pos, partial] : partials) {
    append(partial);
    count += 1;
  }
  m.name = count > 1 ? "[" + name + "]" : name;
  auto merged = std::make_shared<Haplotype>();
  Haplotype& h = *merged;
  h.name = m.name;
  h.alleles.assign(positions.size(), std::nullopt);
  for (const auto& c : components) {
    if (!h.id.empty()) h.id += kCombinationJoiner;
    h.id += c.id;
    for (std::size_t i = 0; i < positions.size() && i < c.alleles.size(); ++i) {
      if (!h.alleles[i]) h.alleles[i] = c.alleles[i];
    }
  }
  h.num_combinations = static_cast<int>(components.size());
  h.num_partials = static_cast<int>(partials.size());
  Initialize(h, positions);
  m.haplotype = std::move(merged);
  m.components = std::move(components);
  return m;
}

DiplotypeMatch MakeDiplotype(Match a, std::optional<Match> b) {
  DiplotypeMatch d;
  if (b) {
    if (CompareMatches(*b, a) < 0) std::swap(a, *b);
    d.name = a.name + "/" + b->name;
    d.score = a.haplotype->score + b->haplotype->score;
  } else {
    d.name = a.name;
    d.score = a.haplotype->score;
  }
  d.first = std::move(a);
  d.second = std::move(b);
  return d;
}

int CompareDiplotypes(const DiplotypeMatch& a, const DiplotypeMatch& b) {
  if (a.score != b.score) return a.score > b.score ? -1 : 1;
  if (const int c = CompareMatches(a.first, b.first); c != 0) return c;
  if (a.second.has_value() != b.second.has_value()) return a.second ? 1 : -1;
  return a.second ? CompareMatches(*a.second, *b.second) : 0;
}

void SortUnique(std::vector<DiplotypeMatch>& v) {
  std::stable_sort(v.begin(), v.end(), [](const DiplotypeMatch& a, const DiplotypeMatch& b) {
    return CompareDiplotypes(a, b) < 0;
  });
  v.erase(std::unique(v.begin(), v.end(),
                      [](const DiplotypeMatch& a, const DiplotypeMatch& b) {
                        return CompareDiplotypes(a, b) == 0;
                      }),
          v.end());
}

std::vector<Match> ComparePermutations(const MatchData& data) {
  std::vector<Match> out;
  for (const auto& h : data.haplotypes()) {
    std::set<Sequence> matched;
    for (const Sequence& seq : data.permutations()) {
      if (h.Matches(seq)) matched.insert(seq);
    }
    if (matched.empty()) continue;
    Match m = PlainMatch(data.Shared(h));
    m.sequences = std::move(matched);
    InsertUnique(out, std::move(m));
  }
  return out;
}

std::vector<DiplotypeMatch> ComputeDiplotypes(const MatchData& data, bool find_combinations,
                                              bool find_partials, bool top_candidate_only) {
  const std::vector<Match> matches =
      find_combinations ? MatchCombinations(data, find_partials) : ComparePermutations(data);
  if (matches.empty()) return {};
  std::vector<DiplotypeMatch> pairs;
  if (data.permutations().size() == 1) {
    // Homozygous everywhere: the one allele twice (once if haploid), or every pair.
    const Sequence& seq = data.permutations().front();
    if (matches.size() == 1) {
      std::optional<Match> second;
      if (!data.haploid()) second = matches.front();
      DiplotypeMatch dm = MakeDiplotype(matches.front(), second);
      dm.sequence_pairs.push_back(
          {seq, data.haploid() ? std::nullopt : std::optional<Sequence>(seq)});
      pairs.push_back(std::move(dm));
    } else {
      for (std::size_t x = 0; x < matches.size(); ++x) {
        for (std::size_t y = x; y < matches.size(); ++y) {
          DiplotypeMatch dm = MakeDiplotype(matches[x], matches[y]);
          dm.sequence_pairs.push_back({seq, seq});
          pairs.push_back(std::move(dm));
        }
      }
    }
  } else {
    // Matches by name (names in text order, each name's matches in match order).
    std::map<std::string, std::vector<const Match*>> by_name;
    for (const Match& m : matches) by_name[m.name].push_back(&m);
    std::vector<std::string> names;
    for (const auto& [n, ms] : by_name) names.push_back(n);
    std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      return CompareHaplotypeNames(a, b) < 0;
    });
    for (std::size_t x = 0; x < names.size(); ++x) {
      for (std::size_t y = x; y < names.size(); ++y) {
        std::vector<const Match*> firsts = by_name[names[x]];
        std::vector<const Match*> seconds = by_name[names[y]];
        if (x == y) {
          if (firsts.size() == 1) {
            // One match with one sequence cannot be on both strands.
            if (firsts.front()->sequences.size() == 1) continue;
          } else if (find_combinations && firsts.front()->combination && firsts.size() == 2) {
            seconds = {firsts.front()};
            firsts = {firsts.back()};
          }
        }
        for (const Match* m1 : firsts) {
          for (const Match* m2 : seconds) {
            std::vector<std::pair<Sequence, std::optional<Sequence>>> seq_pairs;
            for (const Sequence& s1 : m1->sequences) {
              for (const Sequence& s2 : m2->sequences) {
                if (ViableComplement(data, s1, s2)) seq_pairs.emplace_back(s1, s2);
              }
            }
            if (seq_pairs.empty()) continue;
            DiplotypeMatch dm = MakeDiplotype(*m1, *m2);
            dm.sequence_pairs = std::move(seq_pairs);
            pairs.push_back(std::move(dm));
          }
        }
      }
    }
  }
  if (!find_combinations) {
    // Each diplotype scores by its best pair of sequences.
    for (DiplotypeMatch& dm : pairs) {
      int best = 0;
      for (const auto& p : dm.sequence_pairs) best = std::max(best, ScorePair(data, dm, p));
      dm.score = best;
    }
  }
  SortUnique(pairs);
  if (top_candidate_only && pairs.size() > 1) {
    const int top = pairs.front().score;
    std::erase_if(pairs, [&](const DiplotypeMatch& d) { return d.score != top; });
  }
  return pairs;
}

}  // namespace medtwin::pgx::match
