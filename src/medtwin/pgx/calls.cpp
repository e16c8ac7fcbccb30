#include "medtwin/pgx/calls.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "medtwin/core/text.h"
#include "medtwin/pgx/haplotype_names.h"

namespace medtwin::pgx {

using nlohmann::json;

Result<std::vector<SampleCalls>> CallVcf(std::istream& vcf, const PgxData& data,
                                         const std::string& name, const MatchOptions& options,
                                         const SampleScope& scope) {
  std::set<Position> wanted;
  std::map<Position, std::string> expected_ref;
  for (const auto& g : data.genes()) {
    for (const auto& l : g.loci) {
      wanted.insert({l.chromosome, l.position});
      expected_ref[{l.chromosome, l.position}] = l.ref;
    }
  }
  MEDTWIN_TRY(VcfData v, ReadVcf(vcf, wanted, expected_ref, name));
  std::vector<SampleCalls> out;
  if (scope.sample.empty() && v.samples.size() > scope.max_samples) {
    return InvalidArgument("sample",
                           std::to_string(v.samples.size()) + " samples: name one with ?sample=");
  }
  if (!scope.sample.empty() &&
      std::find(v.samples.begin(), v.samples.end(), scope.sample) == v.samples.end()) {
    return InvalidArgument("sample", "no sample '" + scope.sample.substr(0, 40) + "'");
  }
  out.reserve(scope.sample.empty() ? v.samples.size() : 1);
  for (std::size_t s = 0; s < v.samples.size(); ++s) {
    // Only the sample asked for is called: the others' genotypes cost nothing.
    if (!scope.sample.empty() && v.samples[s] != scope.sample) continue;
    SampleCalls sc;
    sc.sample = v.samples[s];
    sc.warnings = v.warnings;
    for (const auto& g : data.genes()) {
      sc.genes.push_back(CallGene(g, data.Phenotypes(g.gene), v, s, options));
    }
    out.push_back(std::move(sc));
  }
  return out;
}

Result<std::vector<GeneCall>> ReadOutsideCalls(std::istream& in, const PgxData& data,
                                               const std::string& name) {
  std::vector<GeneCall> out;
  std::map<std::string, std::pair<std::string, std::optional<double>>> stated;  // by gene
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) cols.push_back(c);
    const std::string where = name + ":" + std::to_string(n);
    if (cols.size() < 2 || cols[0].empty()) {
      return InvalidArgument(where, "expected GENE<TAB>DIPLOTYPE[<TAB>PHENOTYPE[<TAB>ACTIVITY]]");
    }
    if (n == 1 && (cols[0] == "gene" || cols[0] == "Gene")) continue;  // a header row
    GeneCall call;
    call.gene = cols[0];
    call.source = "outside call";
    call.called = true;
    call.phased = false;
    const GeneDefinition* def = data.Gene(call.gene);
    if (def == nullptr && !IsOutsideOnlyGene(call.gene)) {
      return InvalidArgument(where + ": gene", "unknown gene '" + call.gene.substr(0, 24) + "'");
    }
    const std::string diplotype = cols[1];
    const std::string phenotype = cols.size() > 2 ? cols[2] : "";
    const std::string activity = cols.size() > 3 ? cols[3] : "";
    if (diplotype.empty() && phenotype.empty() && activity.empty()) {
      return InvalidArgument(where + ": diplotype",
                             "give a diplotype, a phenotype or an activity score");
    }
    if (!diplotype.empty()) {
      const auto slash = diplotype.find('/');
      // A gene medtwin does not define may be called by one allele (MT-RNR1 m.1555A>G).
      const bool one_allele = slash == std::string::npos && def == nullptr;
      if (!one_allele &&
          (slash == std::string::npos || slash == 0 || slash + 1 == diplotype.size())) {
        return InvalidArgument(where + ": diplotype",
                               "'" + diplotype.substr(0, 40) + "' is not ALLELE/ALLELE");
      }
      DiplotypeCall d =
          one_allele ? DiplotypeCall{diplotype, "", 0}
                     : DiplotypeCall{diplotype.substr(0, slash), diplotype.substr(slash + 1), 0};
      // In PharmCAT's allele order ("*2/*1" is reported "*1/*2").
      if (!d.allele2.empty() && CompareHaplotypeNames(d.allele1, d.allele2) > 0) {
        std::swap(d.allele1, d.allele2);
      }
      if (def != nullptr) {
        for (const std::string* a : {&d.allele1, &d.allele2}) {
          const bool known = std::any_of(def->alleles.begin(), def->alleles.end(),
                                         [&](const NamedAllele& x) { return x.name == *a; });
          if (!known) {
            return InvalidArgument(where + ": diplotype",
                                   "unknown " + call.gene + " allele '" + a->substr(0, 24) + "'");
          }
        }
      }
      call.diplotypes.push_back(d);
    }
    std::optional<double> activity_score;
    if (!activity.empty()) {
      activity_score = ParseDouble(activity);
      if (!activity_score || *activity_score < 0 || *activity_score > 10) {
        return InvalidArgument(where + ": activity score",
                               "'" + activity.substr(0, 16) + "' is not a number 0–10");
      }
    }
    // The caller's own phenotype and activity score win over the table's translation; a gene
    // given on several lines is one call with several possible diplotypes (as PharmCAT reads
    // it), keeping what each line said.
    auto& given = stated[call.gene];
    if (!phenotype.empty()) given.first = phenotype;
    if (activity_score) given.second = activity_score;
    auto earlier = std::find_if(out.begin(), out.end(),
                                [&](const GeneCall& c) { return c.gene == call.gene; });
    GeneCall& target = earlier != out.end() ? *earlier : call;
    if (earlier != out.end()) {
      for (auto& d : call.diplotypes) earlier->diplotypes.push_back(std::move(d));
    }
    if (!target.diplotypes.empty()) Translate(target, data.Phenotypes(target.gene));
    if (!given.first.empty()) target.phenotype = given.first;
    if (given.second) target.activity_score = given.second;
    if (earlier != out.end()) continue;
    out.push_back(std::move(call));
  }
  return out;
}

void MergeOutsideCalls(std::vector<SampleCalls>& samples, const std::vector<GeneCall>& outside) {
  for (auto& s : samples) {
    for (const auto& o : outside) {
      auto it = std::find_if(s.genes.begin(), s.genes.end(),
                             [&](const GeneCall& c) { return c.gene == o.gene; });
      if (it != s.genes.end()) {
        *it = o;
      } else {
        s.genes.push_back(o);
      }
    }
  }
}

json GeneCallToJson(const GeneCall& c) {
  json diplotypes = json::array();
  int score = 0;
  for (const auto& d : c.diplotypes) {
    diplotypes.push_back(d.Name());
    score = d.score;
  }
  json j = {{"called", c.called},
            {"diplotypes", diplotypes},
            {"phenotype", c.phenotype.empty() ? json(nullptr) : json(c.phenotype)},
            {"activity_score", c.activity_score ? json(*c.activity_score) : json(nullptr)},
            {"missing_positions", c.missing_positions},
            {"source", c.source}};
  if (c.source == "vcf") {
    j["phased"] = c.phased;
    j["match_score"] = score;
  }
  if (!c.functions.empty()) j["functions"] = c.functions;
  if (!c.matcher_calls.empty()) {
    j[c.matcher_haplotypes ? "matcher_haplotypes" : "matcher_diplotypes"] = c.matcher_calls;
  }
  if (!c.matcher_homozygous.empty()) j["matcher_homozygous"] = c.matcher_homozygous;
  if (!c.inferred_from.empty()) j["inferred_from"] = c.inferred_from;
  if (!c.called) j["reason"] = c.reason;
  return j;
}

Result<GeneCall> GeneCallFromJson(const std::string& gene, const json& j) {
  if (!j.is_object() || !j.contains("called") || !j["called"].is_boolean() ||
      !j.contains("diplotypes") || !j["diplotypes"].is_array()) {
    return InvalidArgument(gene, "needs called (true/false) and diplotypes []");
  }
  GeneCall c;
  c.gene = gene;
  c.called = j["called"];
  for (const auto& d : j["diplotypes"]) {
    const std::string name = d.is_string() ? d.get<std::string>() : "";
    const auto slash = name.find('/');
    const bool one_allele = slash == std::string::npos && !name.empty() &&
                            IsOutsideOnlyGene(gene) && j.value("source", "") == "outside call";
    if (one_allele) {
      c.diplotypes.push_back({name, "", 0});
      continue;
    }
    if (slash == std::string::npos || slash == 0 || slash + 1 == name.size()) {
      return InvalidArgument(gene + ": diplotypes", "'" + name.substr(0, 40) + "' is not A/B");
    }
    c.diplotypes.push_back({name.substr(0, slash), name.substr(slash + 1), 0});
  }
  for (const char* key : {"matcher_diplotypes", "matcher_haplotypes"}) {
    if (!j.contains(key) || !j[key].is_array()) continue;
    for (const auto& m : j[key]) {
      if (m.is_string()) c.matcher_calls.push_back(m.get<std::string>());
    }
    c.matcher_haplotypes = std::string(key) == "matcher_haplotypes";
  }
  const bool translation_only =
      c.called && c.diplotypes.empty() && j.value("source", "") == "outside call";
  if (!translation_only && c.called == c.diplotypes.empty()) {
    return InvalidArgument(gene, "a called gene has diplotypes; an uncalled one has none");
  }
  if (j.contains("phenotype") && j["phenotype"].is_string()) c.phenotype = j["phenotype"];
  if (j.contains("activity_score") && j["activity_score"].is_number()) {
    c.activity_score = j["activity_score"].get<double>();
  }
  if (j.contains("source") && j["source"].is_string()) c.source = j["source"];
  if (j.contains("reason") && j["reason"].is_string()) c.reason = j["reason"];
  return c;
}

Result<std::vector<SampleCalls>> CallsFromJson(const json& j) {
  if (!j.is_object() || !j.contains("samples") || !j["samples"].is_array()) {
    return InvalidArgument("samples", "expected {\"samples\": [...]}");
  }
  std::vector<SampleCalls> out;
  for (std::size_t i = 0; i < j["samples"].size(); ++i) {
    const json& s = j["samples"][i];
    const std::string where = "samples[" + std::to_string(i) + "]";
    if (!s.is_object() || !s.contains("sample") || !s["sample"].is_string() ||
        !s.contains("genes") || !s["genes"].is_object()) {
      return InvalidArgument(where, "needs sample and genes {}");
    }
    SampleCalls sc;
    sc.sample = s["sample"];
    for (const auto& [gene, call] : s["genes"].items()) {
      auto c = GeneCallFromJson(gene, call);
      if (!c.ok()) return c.error().WithContext(where);
      sc.genes.push_back(std::move(*c));
    }
    out.push_back(std::move(sc));
  }
  return out;
}

json CallsToJson(const std::vector<SampleCalls>& samples) {
  json out = json::array();
  for (const auto& s : samples) {
    json genes = json::object();
    for (const auto& g : s.genes) genes[g.gene] = GeneCallToJson(g);
    json sample = {{"sample", s.sample}, {"genes", genes}};
    if (!s.warnings.empty()) sample["warnings"] = s.warnings;
    out.push_back(std::move(sample));
  }
  return {{"samples", out}};
}

std::string CallsToTsv(const std::vector<SampleCalls>& samples) {
  std::string out =
      "sample\tgene\tcalled\tdiplotypes\tphenotype\tactivity_score\tmatch_score\t"
      "missing_positions\tsource\n";
  for (const auto& s : samples) {
    for (const auto& g : s.genes) {
      std::string diplotypes, missing;
      int score = 0;
      for (const auto& d : g.diplotypes) {
        diplotypes += (diplotypes.empty() ? "" : "|") + d.Name();
        score = d.score;
      }
      for (long long p : g.missing_positions)
        missing += (missing.empty() ? "" : ",") + std::to_string(p);
      char as[32] = "";
      if (g.activity_score) std::snprintf(as, sizeof as, "%.1f", *g.activity_score);
      out += s.sample + "\t" + g.gene + "\t" + (g.called ? "yes" : "no") + "\t" + diplotypes +
             "\t" + g.phenotype + "\t" + as + "\t" +
             (g.source == "vcf" ? std::to_string(score) : "") + "\t" + missing + "\t" + g.source +
             "\n";
    }
  }
  return out;
}

}  // namespace medtwin::pgx
