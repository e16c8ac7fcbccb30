// pgx/calls.h — every sample of a VCF called for every defined gene, outside calls (CYP2D6,
// HLA, or any gene called elsewhere) merged in, and the result as CALLS.json:
// {"samples": [{"sample": NAME, "genes": {"CYP2C19": {"called": true, "diplotypes": ["*1/*2"],
//   "phenotype": "Intermediate Metabolizer", "activity_score": null, "missing_positions": […],
//   …}}}]} — or as a TSV table.
#pragma once

#include <nlohmann/json.hpp>

#include <istream>
#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/pgx/matcher.h"

namespace medtwin::pgx {

struct SampleCalls {
  std::string sample;
  std::vector<GeneCall> genes;        // in gene order
  std::vector<std::string> warnings;  // about the VCF's records (positions, never sample data)
};

// Which samples of a VCF to call.
struct SampleScope {
  std::string sample;                                      // only this one ("": every sample)
  std::size_t max_samples = static_cast<std::size_t>(-1);  // more, unless one is named: error
};

// Reads a VCF and calls its samples (all, or as `scope` says) for every gene in `data`.
// Errors name the file's line and field, or "sample" for a scope the file does not fit.
[[nodiscard]] Result<std::vector<SampleCalls>> CallVcf(std::istream& vcf, const PgxData& data,
                                                       const std::string& name = "VCF",
                                                       const MatchOptions& options = {},
                                                       const SampleScope& scope = {});

// Outside calls, one per line: GENE <tab> DIPLOTYPE [<tab> PHENOTYPE [<tab> ACTIVITY SCORE]]
// ('#' comments and blank lines skipped; DIPLOTYPE may be empty when a phenotype or an
// activity score is given; one allele for a gene medtwin does not define, e.g. MT-RNR1).
// Known genes' diplotypes must use defined alleles, are put in PharmCAT's allele order ("*2/*1"
// → "*1/*2") and translated by the phenotype table; a gene on several lines is one call with
// several possible diplotypes; unknown genes are an error naming the line.
[[nodiscard]] Result<std::vector<GeneCall>> ReadOutsideCalls(std::istream& in, const PgxData& data,
                                                             const std::string& name = "TSV");

// Outside calls replace the VCF's call of the same gene (in every sample).
void MergeOutsideCalls(std::vector<SampleCalls>& samples, const std::vector<GeneCall>& outside);

[[nodiscard]] nlohmann::json GeneCallToJson(const GeneCall& call);
// Back from GeneCallToJson / CALLS.json (errors name the sample and gene).
[[nodiscard]] Result<GeneCall> GeneCallFromJson(const std::string& gene, const nlohmann::json& j);
[[nodiscard]] Result<std::vector<SampleCalls>> CallsFromJson(const nlohmann::json& j);
[[nodiscard]] nlohmann::json CallsToJson(const std::vector<SampleCalls>& samples);
// sample, gene, called, diplotypes ("|"-separated when ambiguous), phenotype, activity score,
// match score, missing positions.
[[nodiscard]] std::string CallsToTsv(const std::vector<SampleCalls>& samples);

}  // namespace medtwin::pgx
