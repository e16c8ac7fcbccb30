#include "medtwin/twin/pharmacogenomics.h"

namespace medtwin::twin {

std::vector<pgx::GeneCall> GeneCallsOf(const PatientRecord& record) {
  std::vector<pgx::GeneCall> out;
  for (const auto& g : record.genotype) {
    pgx::GeneCall c;
    c.gene = g.gene;
    c.source = "record";
    const auto slash = g.diplotype.find('/');
    if (slash != std::string::npos && slash > 0 && slash + 1 < g.diplotype.size()) {
      c.diplotypes.push_back({g.diplotype.substr(0, slash), g.diplotype.substr(slash + 1), 0});
    }
    c.called = !c.diplotypes.empty() || !g.phenotype.empty();
    if (c.diplotypes.empty() && c.called) c.diplotypes.push_back({"?", "?", 0});
    c.phenotype = g.phenotype;
    c.activity_score = g.activity_score;
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<pgx::DrugGuidance> GuidanceFor(const PatientRecord& record, const std::string& drug) {
  auto table = pgx::GuidanceTable::Default();
  if (!table.ok()) return std::nullopt;
  auto g = (*table)->Guide(drug, GeneCallsOf(record));
  if (!g.ok()) return std::nullopt;
  return *g;
}

}  // namespace medtwin::twin
