// pgx/definitions.h — the pharmacogenomic reference data, loaded from data/pgx (PharmCAT's
// CPIC/ClinPGx files): each gene's star-allele definitions on GRCh38 and its phenotype table
// (allele function and activity value, diplotype phenotype and activity score). Nothing about
// alleles is written into the code; a gene is known when its files are.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"

namespace medtwin::pgx {

// One defining position: VCF-style reference and alternate alleles.
struct VariantLocus {
  std::string chromosome;  // "chr10"
  long long position = 0;  // 1-based, GRCh38
  std::string rsid;
  std::string ref;
  std::vector<std::string> alts;
  // HGVS name of each alt on the chromosome ("g.97573863C>T"), to name a variant no allele
  // explains (PharmCAT's partial alleles).
  std::vector<std::string> hgvs;
  // PharmCAT's name for `vcf_allele` here: the alt's HGVS name, "g.POS=" for the reference,
  // "g.POS?" for a missing call.
  [[nodiscard]] std::string HgvsName(const std::string& vcf_allele) const;
};

// A named allele: its allele at each locus (nullopt: the reference allele's; a one-letter IUPAC
// code such as R = A/G: either base).
struct NamedAllele {
  std::string name;
  std::string id;  // PharmCAT's (ClinPGx) allele id: the tie-break of its allele order
  std::vector<std::optional<std::string>> alleles;  // one per GeneDefinition::loci
  bool reference = false;
};

struct GeneDefinition {
  std::string gene;
  std::string chromosome;
  std::string genome_build;  // "GRCh38.p14"
  std::vector<VariantLocus> loci;
  std::vector<NamedAllele> alleles;  // alleles[0] is the reference
  // Sub-alleles reported by their core allele ("*45.001" → "*45"; PharmCAT's suballelesMap).
  std::map<std::string, std::string> suballeles;
  // What the matcher derives from these definitions (the positions and alleles over a given
  // set of positions with data), kept once built: every sample with the same positions shares
  // it. Internal to pgx; a copy of the definition starts with an empty one.
  struct DerivedCache {
    static constexpr std::size_t kMaxEntries = 32;  // per kind: DPYD's alleles are ~0.4 MB
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<const std::vector<VariantLocus>>> positions;
    std::map<std::string, std::shared_ptr<const void>> haplotypes;  // match::Haplotype vectors
  };
  struct DerivedCacheHandle {
    std::shared_ptr<DerivedCache> cache = std::make_shared<DerivedCache>();
    DerivedCacheHandle() = default;
    DerivedCacheHandle(const DerivedCacheHandle&) {}
    DerivedCacheHandle& operator=(const DerivedCacheHandle&) {
      cache = std::make_shared<DerivedCache>();
      return *this;
    }
    DerivedCacheHandle(DerivedCacheHandle&&) noexcept = default;
    DerivedCacheHandle& operator=(DerivedCacheHandle&&) noexcept = default;
    ~DerivedCacheHandle() = default;
  };
  DerivedCacheHandle derived;
};

// One diplotype's translation.
struct DiplotypePhenotype {
  std::string phenotype;                 // "Intermediate Metabolizer"; "" when none is assigned
  std::optional<double> activity_score;  // CPIC genes scored by activity only
};

struct GenePhenotypes {
  std::map<std::string, std::string> function;           // allele → "No function" …
  std::map<std::string, double> activity_value;          // allele → 0, 0.5, 1 … (if scored)
  std::map<std::string, DiplotypePhenotype> diplotypes;  // key: DiplotypeKey(a, b)
};

// Genes accepted only as outside calls, never called from a VCF here: PharmCAT calls them with
// rules of their own (CYP2D6's research caller, G6PD's X-chromosome caller, RYR1's malignancy
// order, NAT2's unphased priorities, HLA by other tools), which medtwin does not implement.
[[nodiscard]] bool IsOutsideOnlyGene(const std::string& gene);

// The order-free key of a diplotype ("*1/*2" and "*2/*1" are the same).
[[nodiscard]] std::string DiplotypeKey(const std::string& a, const std::string& b);

// Every gene with allele definitions under `dir` (alleles/<GENE>_translation.json) and its
// phenotype table when there is one (phenotype/<GENE>.json). Errors name the file and field.
class PgxData {
 public:
  [[nodiscard]] static Result<PgxData> Load(const std::string& dir);
  // data/pgx under DataDirectory(), loaded once per process.
  [[nodiscard]] static Result<const PgxData*> Default();

  [[nodiscard]] const std::vector<GeneDefinition>& genes() const { return genes_; }
  [[nodiscard]] const GeneDefinition* Gene(const std::string& gene) const;
  [[nodiscard]] const GenePhenotypes* Phenotypes(const std::string& gene) const;

 private:
  std::vector<GeneDefinition> genes_;
  std::map<std::string, GenePhenotypes> phenotypes_;
};

// `load()` run once per process, thread-safe, for data files read at run time; each call site
// (each lambda type) has its own result.
template <typename T, typename Loader>
[[nodiscard]] Result<const T*> LoadedOnce(Loader load) {
  static std::once_flag once;
  static std::optional<Result<T>> loaded;
  std::call_once(once, [&] { loaded.emplace(load()); });
  if (!loaded->ok()) return loaded->error();
  return &**loaded;
}

// The bases an allele in a definition stands for: itself, or the bases of an IUPAC code
// ("R" → A, G; "N" → A, C, G, T).
[[nodiscard]] std::vector<std::string> ExpandIupac(const std::string& allele);
// The bases of a one-letter IUPAC code ("" if `code` is not one).
[[nodiscard]] std::string_view IupacBases(char code);

}  // namespace medtwin::pgx
