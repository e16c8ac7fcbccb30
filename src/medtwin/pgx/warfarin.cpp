#include "medtwin/pgx/warfarin.h"

#include <algorithm>

namespace medtwin::pgx {

IwpcGenotypes WarfarinGenotypes(const std::vector<GeneCall>& calls, const PgxData& data) {
  IwpcGenotypes out;
  auto find = [&](const std::string& gene) -> const GeneCall* {
    for (const auto& c : calls) {
      if (c.gene == gene && c.called && c.diplotypes.size() == 1) return &c;
    }
    return nullptr;
  };
  if (const GeneCall* c = find("CYP2C9")) {
    const GenePhenotypes* p = data.Phenotypes("CYP2C9");
    auto as_iwpc = [&](const std::string& allele) -> std::string {
      if (allele == "*1" || allele == "*2" || allele == "*3") return allele;
      if (p == nullptr) return "";
      auto it = p->activity_value.find(allele);
      if (it == p->activity_value.end()) return "";
      if (it->second >= 1) return "*1";
      if (it->second >= 0.5) return "*2";
      return "*3";
    };
    std::string a = as_iwpc(c->diplotypes[0].allele1), b = as_iwpc(c->diplotypes[0].allele2);
    if (!a.empty() && !b.empty()) {
      if (b < a) std::swap(a, b);
      out.cyp2c9 = a + "/" + b;
      if (out.cyp2c9 != c->diplotypes[0].Name()) {
        out.notes.push_back("CYP2C9 " + c->diplotypes[0].Name() + " entered as " + out.cyp2c9 +
                            " by activity value");
      }
    } else {
      out.notes.push_back("CYP2C9 " + c->diplotypes[0].Name() +
                          ": an allele without activity value; entered as unknown");
    }
  } else {
    out.notes.push_back("CYP2C9 not called: entered as unknown");
  }
  if (const GeneCall* v = find("VKORC1")) {
    if (v->phenotype == "-1639 GG") out.vkorc1 = "G/G";
    if (v->phenotype == "-1639 AG" || v->phenotype == "-1639 GA") out.vkorc1 = "A/G";
    if (v->phenotype == "-1639 AA") out.vkorc1 = "A/A";
    if (out.vkorc1.empty() && !v->diplotypes.empty()) {
      // No phenotype label we know: count the -1639 A (rs9923231 variant) alleles of the call.
      const std::string& a = v->diplotypes[0].allele1;
      const std::string& b = v->diplotypes[0].allele2;
      auto variant = [](const std::string& allele) {
        return allele.find("rs9923231 variant") != std::string::npos;
      };
      auto reference = [](const std::string& allele) {
        return allele.find("rs9923231 reference") != std::string::npos;
      };
      if ((variant(a) || reference(a)) && (variant(b) || reference(b))) {
        const int n = (variant(a) ? 1 : 0) + (variant(b) ? 1 : 0);
        out.vkorc1 = n == 0 ? "G/G" : n == 1 ? "A/G" : "A/A";
      }
    }
    if (out.vkorc1.empty()) out.notes.push_back("VKORC1 phenotype unknown: entered as unknown");
  } else {
    out.notes.push_back("VKORC1 not called: entered as unknown");
  }
  return out;
}

}  // namespace medtwin::pgx
