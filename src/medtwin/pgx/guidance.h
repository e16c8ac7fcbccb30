// pgx/guidance.h — what a genotype means for a drug: the CPIC recommendation (action, strength,
// text, source) for the patient's phenotypes, from data/pgx/guidance.json (condensed from the
// CPIC guidelines cited there; nothing drug-specific is in the code). A drug whose genes were not
// called gets "no genotype", never a guess.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/pgx/matcher.h"

namespace medtwin::pgx {

struct DrugGuidance {
  std::string drug;
  // "standard", "reduce dose", "increase dose", "alternative", "avoid", "genotype-guided dose";
  // "no genotype" (a gene it needs was not called) or "no recommendation" (a phenotype the
  // guideline does not act on, e.g. Indeterminate).
  std::string action;
  std::string strength;  // CPIC classification: strong, moderate, optional
  std::string recommendation;
  std::string source;
  std::vector<std::string> genotype;  // "CYP2C19 *2/*2: Poor Metabolizer" per gene used
  std::optional<std::pair<double, double>> dose_factor;  // of the standard dose, when given
  // True when the genotype argues against the standard prescription (an alert when the drug is
  // prescribed).
  [[nodiscard]] bool Conflicts() const {
    return action != "standard" && action != "no genotype" && action != "no recommendation" &&
           action != "genotype-guided dose";
  }
};

class GuidanceTable {
 public:
  [[nodiscard]] static Result<GuidanceTable> Load(const std::string& path);
  [[nodiscard]] static Result<const GuidanceTable*> Default();  // data/pgx/guidance.json

  [[nodiscard]] std::vector<std::string> Drugs() const;
  // The guidance for `drug` (case-insensitive) given one sample's calls; NotFound for a drug
  // the table does not cover.
  [[nodiscard]] Result<DrugGuidance> Guide(const std::string& drug,
                                           const std::vector<GeneCall>& calls) const;

 private:
  nlohmann::json table_;
};

[[nodiscard]] nlohmann::json GuidanceToJson(const DrugGuidance& g);

}  // namespace medtwin::pgx
