// cli/export_command.h — `medtwin export --deidentify --store URL --key FILE --out DIR [--k 5]`:
// the research cohort of consenting patients, de-identified (Safe Harbor, k-anonymity), as CSV
// (patients.csv, observations.csv) and FHIR R4 NDJSON (Patient.ndjson, Observation.ndjson).
// FILE is the server's --auth-key (pseudonyms and date shifts are keyed by it, so repeated
// exports agree).
#pragma once

#include <string>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct ExportArgs {
  bool deidentify = false;
  std::string store, key_file, out, data_key;
  std::string study;  // a stable study key (linkable exports); empty: unlinkable
  int k = 5;
};

[[nodiscard]] Status RunExport(const ExportArgs& args);

// `medtwin keys new --ring FILE`: adds a new data key at the top of the ring (creating the file;
// older keys stay to read what they sealed). `medtwin keys rotate --store URL --data-key FILE`:
// re-encrypts every stored patient's identifiers with the ring's first key, after which older
// keys can be removed.
[[nodiscard]] Status RunKeysNew(const std::string& ring_file);
[[nodiscard]] Status RunKeysRotate(const std::string& store, const std::string& ring_file);

// Adds `medtwin export`.
void AddExportCommand(CLI::App& app);
// Adds `medtwin keys new|rotate`.
void AddKeysCommand(CLI::App& app);

}  // namespace medtwin::cli
