#include "medtwin/twin/pharmacogenomics.h"

namespace medtwin::twin {

std::vector<pgx::GeneCall> GeneCallsOf(const record::PatientRecord& record) {
  std::vector<pgx::GeneCall> out;
  for (const auto& g : record.genotype) {
    pgx::GeneCall c;
    c.gene = g.gene;
    c.source = "record";
    // "A/B", or "A/B or C/D" for an unphased call that could not be resolved.
    std::size_t start = 0;
    while (start < g.diplotype.size()) {
      const std::size_t end = std::min(g.diplotype.find(" or ", start), g.diplotype.size());
      const std::string one = g.diplotype.substr(start, end - start);
      const auto slash = one.find('/');
      if (slash != std::string::npos && slash > 0 && slash + 1 < one.size()) {
        c.diplotypes.push_back({one.substr(0, slash), one.substr(slash + 1), 0});
      }
      start = end + 4;
    }
    c.called = !c.diplotypes.empty() || !g.phenotype.empty();
    if (c.diplotypes.empty() && c.called) c.diplotypes.push_back({"?", "?", 0});
    c.phenotype = g.phenotype;
    c.activity_score = g.activity_score;
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<pgx::DrugGuidance> GuidanceFor(const record::PatientRecord& record,
                                             const std::string& drug) {
  auto table = pgx::GuidanceTable::Default();
  if (!table.ok()) return std::nullopt;
  auto g = (*table)->Guide(drug, GeneCallsOf(record));
  if (!g.ok()) return std::nullopt;
  return *g;
}

}  // namespace medtwin::twin
