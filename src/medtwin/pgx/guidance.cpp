#include "medtwin/pgx/guidance.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <mutex>

#include "medtwin/core/data_dir.h"
#include "medtwin/core/format.h"

namespace medtwin::pgx {
namespace {

using nlohmann::json;

const GeneCall* Find(const std::vector<GeneCall>& calls, const std::string& gene) {
  for (const auto& c : calls) {
    if (c.gene == gene) return &c;
  }
  return nullptr;
}

bool Carries(const GeneCall& call, const std::string& allele) {
  for (const auto& d : call.diplotypes) {
    for (const std::string& a : {d.allele1, d.allele2}) {
      // "*57:01", "HLA-B*57:01" and "*57:01:01" all carry *57:01.
      const auto at = a.find(allele);
      if (at == std::string::npos) continue;
      const std::size_t end = at + allele.size();
      if (end == a.size() || a[end] == ':') return true;
    }
  }
  return false;
}

// Does `call` satisfy one condition ({"phenotypes"}, {"activity_score": [lo, hi]},
// {"carries"}, {"lacks"})?
bool Holds(const GeneCall& call, const json& condition) {
  if (condition.contains("phenotypes")) {
    for (const auto& p : condition["phenotypes"]) {
      if (p == call.phenotype) return true;
    }
    return false;
  }
  if (condition.contains("activity_score")) {
    if (!call.activity_score) return false;
    const double lo = condition["activity_score"][0], hi = condition["activity_score"][1];
    return *call.activity_score >= lo - 1e-9 && *call.activity_score <= hi + 1e-9;
  }
  if (condition.contains("carries")) return Carries(call, condition["carries"]);
  if (condition.contains("lacks"))
    return !call.diplotypes.empty() && !Carries(call, condition["lacks"]);
  return false;
}

std::string Describe(const GeneCall& c) {
  std::string out = c.gene + " ";
  for (std::size_t i = 0; i < c.diplotypes.size(); ++i) {
    out += (i ? " or " : "") + c.diplotypes[i].Name();
  }
  if (!c.phenotype.empty()) out += ": " + c.phenotype;
  if (c.activity_score) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " (activity score %.1f)", *c.activity_score);
    out += buf;
  }
  return out;
}

}  // namespace

Result<GuidanceTable> GuidanceTable::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::kIoError, path, "cannot open"};
  GuidanceTable t;
  t.table_ = json::parse(in, nullptr, false);
  if (t.table_.is_discarded() || !t.table_.contains("drugs") || !t.table_["drugs"].is_array()) {
    return InvalidArgument(path, "expected {\"drugs\": [...]}");
  }
  // Validate the shape once, so that Guide cannot meet a surprise.
  for (const auto& d : t.table_["drugs"]) {
    const std::string where = path + ": " + d.value("drug", "?");
    if (!d.contains("drug") || !d["drug"].is_string() || !d.contains("source") ||
        !d.contains("rules") || !d["rules"].is_array()) {
      return InvalidArgument(where, "a drug needs drug, source and rules");
    }
    for (const auto& r : d["rules"]) {
      if (!r.contains("when") || !r["when"].is_object() || r["when"].empty() ||
          !r.contains("action") || !r["action"].is_string() || !r.contains("recommendation") ||
          !r["recommendation"].is_string() || !r.contains("strength")) {
        return InvalidArgument(where, "a rule needs when, action, strength and recommendation");
      }
      for (const auto& [gene, c] : r["when"].items()) {
        const bool ok = c.is_object() &&
                        ((c.contains("phenotypes") && c["phenotypes"].is_array()) ||
                         (c.contains("activity_score") && c["activity_score"].is_array() &&
                          c["activity_score"].size() == 2 && c["activity_score"][0].is_number() &&
                          c["activity_score"][1].is_number()) ||
                         (c.contains("carries") && c["carries"].is_string()) ||
                         (c.contains("lacks") && c["lacks"].is_string()));
        if (!ok) return InvalidArgument(where + ": " + gene, "unknown condition");
      }
    }
  }
  return t;
}

Result<const GuidanceTable*> GuidanceTable::Default() {
  return LoadedOnce<GuidanceTable>([] { return Load(DataDirectory() + "/pgx/guidance.json"); });
}

std::vector<std::string> GuidanceTable::Drugs() const {
  std::vector<std::string> out;
  for (const auto& d : table_["drugs"]) out.push_back(d["drug"]);
  return out;
}

Result<DrugGuidance> GuidanceTable::Guide(const std::string& drug,
                                          const std::vector<GeneCall>& calls) const {
  const std::string want = ToLowerAscii(drug);
  for (const auto& d : table_["drugs"]) {
    if (d["drug"] != want) continue;
    DrugGuidance g;
    g.drug = want;
    g.source = d["source"];
    // The genes the drug's rules read, called or not.
    std::vector<std::string> genes, missing;
    for (const auto& r : d["rules"]) {
      for (const auto& [gene, c] : r["when"].items()) {
        if (std::find(genes.begin(), genes.end(), gene) == genes.end()) genes.push_back(gene);
      }
    }
    for (const auto& gene : genes) {
      const GeneCall* c = Find(calls, gene);
      if (c == nullptr || !c->called) {
        missing.push_back(gene +
                          (c == nullptr ? " (no call)" : " (not called: " + c->reason + ")"));
      } else {
        g.genotype.push_back(Describe(*c));
      }
    }
    for (const auto& r : d["rules"]) {
      bool all = true;
      for (const auto& [gene, c] : r["when"].items()) {
        const GeneCall* call = Find(calls, gene);
        all = all && call != nullptr && call->called && Holds(*call, c);
      }
      if (!all) continue;
      g.action = r["action"];
      g.strength = r["strength"];
      g.recommendation = r["recommendation"];
      if (r.contains("dose_factor")) {
        g.dose_factor =
            std::make_pair(r["dose_factor"][0].get<double>(), r["dose_factor"][1].get<double>());
      }
      return g;
    }
    if (!missing.empty()) {
      g.action = "no genotype";
      g.recommendation = "No genotype-guided recommendation: ";
      for (std::size_t i = 0; i < missing.size(); ++i) {
        g.recommendation += (i ? "; " : "") + missing[i];
      }
      g.recommendation += ".";
    } else {
      g.action = "no recommendation";
      g.recommendation = "The guideline gives no genotype-based action for this genotype.";
    }
    return g;
  }
  std::string known;
  for (const auto& name : Drugs()) known += (known.empty() ? "" : ", ") + name;
  return NotFound("drug", "no guidance for '" + drug.substr(0, 40) + "' (covered: " + known + ")");
}

nlohmann::json GuidanceToJson(const DrugGuidance& g) {
  json j = {{"drug", g.drug},
            {"action", g.action},
            {"strength", g.strength.empty() ? json(nullptr) : json(g.strength)},
            {"recommendation", g.recommendation},
            {"genotype", g.genotype},
            {"conflicts_with_standard_prescribing", g.Conflicts()},
            {"source", g.source}};
  if (g.dose_factor) j["dose_factor"] = {g.dose_factor->first, g.dose_factor->second};
  return j;
}

}  // namespace medtwin::pgx
