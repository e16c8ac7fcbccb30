// twin/pharmacogenomics.h — the patient's genotype meeting their prescriptions: CPIC guidance
// (pgx::GuidanceTable) for a drug given the record's genotype calls, and the alert a
// conflicting prescription raises.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "medtwin/pgx/guidance.h"
#include "medtwin/record/patient.h"

namespace medtwin::twin {

// The record's calls as the matcher's GeneCalls (diplotype "A/B" split, phenotype, score).
[[nodiscard]] std::vector<pgx::GeneCall> GeneCallsOf(const record::PatientRecord& record);

// CPIC guidance for `drug` (any case) and the record's genotype; nullopt when the drug is not
// covered or the guidance table cannot be loaded.
[[nodiscard]] std::optional<pgx::DrugGuidance> GuidanceFor(const record::PatientRecord& record,
                                                           const std::string& drug);

}  // namespace medtwin::twin
