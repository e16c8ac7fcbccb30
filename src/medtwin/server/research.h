// server/research.h — the de-identified research cohort: patients whose consent allowed
// research at the time of the export (withdrawal ends it for every later export), with their
// observations, through security::Deidentify (Safe Harbor + k-anonymity). Shared by the API
// (GET /api/v1/research/cohort, researchers) and `medtwin export --deidentify`.
#pragma once

#include "medtwin/security/deidentify.h"
#include "medtwin/security/field_crypto.h"
#include "medtwin/store/store.h"

namespace medtwin::server {

struct CohortSummary {
  security::DeidentifiedCohort cohort;
  int patients_in_store = 0;
  int consenting = 0;
};

// `keys`: the data keys when identifiers are stored encrypted (birth dates give ages).
[[nodiscard]] Result<CohortSummary> ResearchCohort(store::Store& store,
                                                   const security::SigningKey& secret,
                                                   const security::DeidentifyOptions& options,
                                                   const security::DataKeyRing* keys);

// The salt of one export: random (this export's pseudonyms and shifts match no other's), or
// for a named study "study:NAME" (the same in every export of that study; administrators only).
[[nodiscard]] Result<std::string> ExportSalt(const std::string& study);

}  // namespace medtwin::server
