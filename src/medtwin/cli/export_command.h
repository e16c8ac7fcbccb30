// cli/export_command.h — `medtwin export --deidentify --store URL --key FILE --out DIR [--k 5]`:
// the research cohort of consenting patients, de-identified (Safe Harbor, k-anonymity), as CSV
// (patients.csv, observations.csv) and FHIR R4 NDJSON (Patient.ndjson, Observation.ndjson).
// FILE is the server's --auth-key (pseudonyms and date shifts are keyed by it, so repeated
// exports agree).
#pragma once

#include <string>

#include "medtwin/core/result.h"

namespace medtwin::cli {

struct ExportArgs {
  bool deidentify = false;
  std::string store, key_file, out;
  int k = 5;
};

[[nodiscard]] Status RunExport(const ExportArgs& args);

}  // namespace medtwin::cli
