// pgx/matcher.h — genotype → diplotype → phenotype, as PharmCAT's Named Allele Matcher does it
// (pharmcat.org/methods/NamedAlleleMatcher-101): a blank in an allele definition is the
// reference allele's base; an allele's score is the number of positions it defines; positions
// missing from the sample are dropped from every definition (and listed); phased data is
// matched strand by strand; unphased data by every pair of alleles that together explain each
// position's genotype, keeping the top-scoring pairs (ties are all reported: without phase they
// are equally possible). DPYD follows CPIC's rule instead: the two lowest-activity variants
// found (Reference for none), decreased/no-function variants presumed on different copies.
// A gene with no data, or with a base no definition knows, is "not called" — never guessed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "medtwin/pgx/definitions.h"
#include "medtwin/pgx/vcf.h"

namespace medtwin::pgx {

struct DiplotypeCall {
  std::string allele1, allele2;  // allele1 <= allele2 in the definition order
  int score = 0;
  [[nodiscard]] std::string Name() const { return allele1 + "/" + allele2; }
};

struct GeneCall {
  std::string gene;
  bool called = false;
  std::string reason;                     // why not called
  std::vector<DiplotypeCall> diplotypes;  // top-scoring; several when unphased data is ambiguous
  std::vector<long long> missing_positions;
  bool phased = false;
  std::string source = "vcf";  // or "outside call"
  // From the phenotype table, when every top diplotype agrees on it.
  std::string phenotype;
  std::optional<double> activity_score;
  std::vector<std::string> functions;  // of allele1 and allele2 of the first diplotype
};

// The call of `gene` for sample `sample` (an index into vcf.samples).
[[nodiscard]] GeneCall CallGene(const GeneDefinition& gene, const GenePhenotypes* phenotypes,
                                const VcfData& vcf, std::size_t sample);

// Fills phenotype, activity score and functions from the table (used for outside calls too).
void Translate(GeneCall& call, const GenePhenotypes* phenotypes);

}  // namespace medtwin::pgx
