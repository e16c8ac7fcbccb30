#include "medtwin/pgx/definitions.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "medtwin/core/data_dir.h"
#include "medtwin/core/text.h"

namespace medtwin::pgx {
namespace {

using nlohmann::json;

Result<json> ReadJson(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::kIoError, path.string(), "cannot open"};
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return InvalidArgument(path.string(), "not valid JSON");
  return j;
}

// A member of the expected type, or an error naming the file and member.
template <typename T>
Result<T> Member(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) return InvalidArgument(where + ": " + key, "missing");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return InvalidArgument(where + ": " + key, "wrong type");
  }
}

Result<GeneDefinition> ParseDefinition(const json& j, const std::string& where) {
  GeneDefinition g;
  MEDTWIN_TRY(g.gene, Member<std::string>(j, "gene", where));
  MEDTWIN_TRY(g.chromosome, Member<std::string>(j, "chromosome", where));
  MEDTWIN_TRY(g.genome_build, Member<std::string>(j, "genomeBuild", where));
  if (!j.contains("variants") || !j["variants"].is_array() || !j.contains("namedAlleles") ||
      !j["namedAlleles"].is_array()) {
    return InvalidArgument(where, "needs arrays 'variants' and 'namedAlleles'");
  }
  for (const auto& v : j["variants"]) {
    VariantLocus locus;
    MEDTWIN_TRY(locus.chromosome, Member<std::string>(v, "chromosome", where));
    MEDTWIN_TRY(locus.position, Member<long long>(v, "position", where));
    if (v.contains("rsid") && v["rsid"].is_string()) locus.rsid = v["rsid"];
    MEDTWIN_TRY(locus.ref, Member<std::string>(v, "ref", where));
    MEDTWIN_TRY(locus.alts, Member<std::vector<std::string>>(v, "alts", where));
    if (v.contains("chromosomeHgvsName") && v["chromosomeHgvsName"].is_string()) {
      // One name per alt, ';'-separated.
      const std::string names = v["chromosomeHgvsName"];
      std::size_t start = 0;
      for (;;) {
        const std::size_t at = names.find(';', start);
        std::string name = names.substr(start, at == std::string::npos ? at : at - start);
        const auto first = name.find_first_not_of(' ');
        const auto last = name.find_last_not_of(' ');
        locus.hgvs.push_back(first == std::string::npos ? ""
                                                        : name.substr(first, last - first + 1));
        if (at == std::string::npos) break;
        start = at + 1;
      }
    }
    g.loci.push_back(std::move(locus));
  }
  for (const auto& a : j["namedAlleles"]) {
    NamedAllele allele;
    MEDTWIN_TRY(allele.name, Member<std::string>(a, "name", where));
    if (a.contains("id") && a["id"].is_string()) allele.id = a["id"];
    if (a.value("structuralVariant", false)) continue;  // not callable from a VCF of SNVs/indels
    if (!a.contains("alleles") || !a["alleles"].is_array() ||
        a["alleles"].size() != g.loci.size()) {
      return InvalidArgument(where + ": " + allele.name, "one allele per variant is required");
    }
    for (const auto& x : a["alleles"]) {
      if (x.is_null()) {
        allele.alleles.emplace_back(std::nullopt);
      } else if (x.is_string()) {
        allele.alleles.emplace_back(x.get<std::string>());
      } else {
        return InvalidArgument(where + ": " + allele.name, "alleles are strings or null");
      }
    }
    allele.reference = a.value("reference", false);
    g.alleles.push_back(std::move(allele));
  }
  if (j.contains("suballelesMap") && j["suballelesMap"].is_object()) {
    for (const auto& [sub, core] : j["suballelesMap"].items()) {
      if (core.is_string()) g.suballeles[sub] = core.get<std::string>();
    }
  }
  for (std::size_t k = 1; k < g.loci.size(); ++k) {
    // The matcher orders a sample's haplotypes by position, as PharmCAT does.
    if (g.loci[k].chromosome != g.loci[0].chromosome ||
        g.loci[k].position <= g.loci[k - 1].position) {
      return InvalidArgument(where + ": variants",
                             "positions must be on one chromosome, ascending and distinct (" +
                                 std::to_string(g.loci[k].position) + ")");
    }
  }
  if (g.alleles.empty() || !g.alleles.front().reference) {
    return InvalidArgument(where, "the first named allele must be the reference");
  }
  for (std::size_t k = 0; k < g.loci.size(); ++k) {
    if (!g.alleles.front().alleles[k]) {
      return InvalidArgument(where, "the reference allele must define every position");
    }
    if (g.loci[k].alts.size() > 30) return InvalidArgument(where, "more than 30 ALT alleles");
  }
  return g;
}

Result<GenePhenotypes> ParsePhenotypes(const json& j, const std::string& where) {
  GenePhenotypes p;
  if (!j.contains("namedAlleles") || !j["namedAlleles"].is_array() || !j.contains("diplotypes") ||
      !j["diplotypes"].is_array()) {
    return InvalidArgument(where, "needs arrays 'namedAlleles' and 'diplotypes'");
  }
  for (const auto& a : j["namedAlleles"]) {
    MEDTWIN_TRY(std::string name, Member<std::string>(a, "name", where));
    if (a.contains("functionValue") && a["functionValue"].is_string()) {
      p.function[name] = a["functionValue"];
    }
    if (a.contains("activityValue") && a["activityValue"].is_string()) {
      // "n/a": no activity value assigned.
      if (auto v = ParseDouble(a["activityValue"].get<std::string>())) p.activity_value[name] = *v;
    }
  }
  for (const auto& d : j["diplotypes"]) {
    if (!d.contains("diplotypekey") || !d["diplotypekey"].is_object()) continue;
    std::vector<std::string> names;
    for (const auto& [name, count] : d["diplotypekey"].items()) {
      for (int c = 0; c < (count.is_number_integer() ? count.get<int>() : 0); ++c) {
        names.push_back(name);
      }
    }
    if (names.size() != 2) continue;  // haploid entries (none for these genes)
    DiplotypePhenotype out;
    if (d.contains("phenotype") && d["phenotype"].is_string()) out.phenotype = d["phenotype"];
    if (d.contains("activityScore") && d["activityScore"].is_string()) {
      out.activity_score = ParseDouble(d["activityScore"].get<std::string>());  // "n/a": none
    }
    p.diplotypes[DiplotypeKey(names[0], names[1])] = out;
  }
  return p;
}

}  // namespace

std::string VariantLocus::HgvsName(const std::string& vcf_allele) const {
  if (vcf_allele == ".") return "g." + std::to_string(position) + "?";
  if (vcf_allele == ref) return "g." + std::to_string(position) + "=";
  for (std::size_t i = 0; i < alts.size(); ++i) {
    if (vcf_allele == alts[i] && i < hgvs.size()) return hgvs[i];
  }
  return "g." + std::to_string(position) + ref + ">" + vcf_allele;
}

bool IsOutsideOnlyGene(const std::string& gene) {
  return gene == "CYP2D6" || gene == "HLA-A" || gene == "HLA-B" || gene == "CYP3A4" ||
         gene == "G6PD" || gene == "NAT2" || gene == "IFNL3" || gene == "RYR1" ||
         gene == "CACNA1S" || gene == "CFTR" || gene == "ABCG2" || gene == "MT-RNR1";
}

std::string DiplotypeKey(const std::string& a, const std::string& b) {
  return a < b ? a + "/" + b : b + "/" + a;
}

std::string_view IupacBases(char code) {
  switch (code) {
    case 'A':
      return "A";
    case 'C':
      return "C";
    case 'G':
      return "G";
    case 'T':
      return "T";
    case 'R':
      return "AG";
    case 'Y':
      return "CT";
    case 'S':
      return "GC";
    case 'W':
      return "AT";
    case 'K':
      return "GT";
    case 'M':
      return "AC";
    case 'B':
      return "CGT";
    case 'D':
      return "AGT";
    case 'H':
      return "ACT";
    case 'V':
      return "ACG";
    case 'N':
      return "ACGT";
    default:
      return "";
  }
}

std::vector<std::string> ExpandIupac(const std::string& allele) {
  if (allele.size() != 1 || IupacBases(allele[0]).empty()) return {allele};
  std::vector<std::string> out;
  for (char b : IupacBases(allele[0])) out.emplace_back(1, b);
  return out;
}

Result<PgxData> PgxData::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  PgxData data;
  const fs::path alleles = fs::path(dir) / "alleles";
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(alleles, ec)) {
    if (entry.path().filename().string().ends_with("_translation.json")) {
      files.push_back(entry.path());
    }
  }
  if (ec) return Error{ErrorCode::kIoError, alleles.string(), ec.message()};
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    MEDTWIN_TRY(json j, ReadJson(f));
    MEDTWIN_TRY(GeneDefinition g, ParseDefinition(j, f.filename().string()));
    if (IsOutsideOnlyGene(g.gene)) {
      return InvalidArgument(f.filename().string() + ": gene",
                             g.gene +
                                 " is taken only as an outside call: PharmCAT calls it with "
                                 "rules medtwin does not implement");
    }
    const fs::path pheno = fs::path(dir) / "phenotype" / (g.gene + ".json");
    if (fs::exists(pheno)) {
      MEDTWIN_TRY(json pj, ReadJson(pheno));
      MEDTWIN_TRY(GenePhenotypes p, ParsePhenotypes(pj, pheno.filename().string()));
      data.phenotypes_[g.gene] = std::move(p);
    }
    data.genes_.push_back(std::move(g));
  }
  if (data.genes_.empty()) return NotFound(alleles.string(), "no *_translation.json files");
  return data;
}

Result<const PgxData*> PgxData::Default() {
  return LoadedOnce<PgxData>([] { return Load(DataDirectory() + "/pgx"); });
}

const GeneDefinition* PgxData::Gene(const std::string& gene) const {
  for (const auto& g : genes_) {
    if (g.gene == gene) return &g;
  }
  return nullptr;
}

const GenePhenotypes* PgxData::Phenotypes(const std::string& gene) const {
  auto it = phenotypes_.find(gene);
  return it == phenotypes_.end() ? nullptr : &it->second;
}

}  // namespace medtwin::pgx
