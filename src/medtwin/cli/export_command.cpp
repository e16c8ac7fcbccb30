#include "medtwin/cli/export_command.h"

#include <CLI/CLI.hpp>

#include <sys/stat.h>
#include <chrono>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "medtwin/cli/command.h"
#include "medtwin/server/research.h"
#include "medtwin/server/service.h"

namespace medtwin::cli {

Status RunExport(const ExportArgs& args) {
  if (!args.deidentify) {
    return InvalidArgument("--deidentify", "only de-identified exports leave the server");
  }
  if (args.k < 2 || args.k > 100) return InvalidArgument("--k", "2..100");
  MEDTWIN_TRY(auto secret, security::ReadKeyFile(args.key_file));
  MEDTWIN_TRY(auto store, store::OpenStore(args.store));
  security::DeidentifyOptions options;
  options.k = args.k;
  MEDTWIN_TRY(options.salt, server::ExportSalt(args.study));
  options.as_of.us_since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
  std::unique_ptr<security::DataKeyRing> keys;
  if (!args.data_key.empty()) {
    MEDTWIN_TRY(auto ring, security::DataKeyRing::FromFile(args.data_key));
    keys = std::make_unique<security::DataKeyRing>(std::move(ring));
  }
  MEDTWIN_TRY(auto summary, server::ResearchCohort(*store, secret, options, keys.get()));
  MEDTWIN_RETURN_IF_ERROR(security::WriteCohortCsv(summary.cohort, args.out));
  MEDTWIN_RETURN_IF_ERROR(security::WriteCohortFhirNdjson(summary.cohort, args.out));
  std::fprintf(stderr,
               "medtwin export: %zu of %d patients (%d consenting, %d suppressed for k=%d, ages "
               "in %s), %zu observations → %s\n",
               summary.cohort.patients.size(), summary.patients_in_store, summary.consenting,
               summary.cohort.suppressed, args.k, summary.cohort.age_generalization.c_str(),
               summary.cohort.observations.size(), args.out.c_str());
  return Ok{};
}

Status RunKeysNew(const std::string& ring_file) {
  MEDTWIN_TRY(std::string line, security::NewDataKeyLine());
  std::string old;
  if (std::ifstream in(ring_file); in) {
    std::stringstream ss;
    ss << in.rdbuf();
    old = ss.str();
  }
  const std::string tmp = ring_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << line << "\n" << old;
    if (!out.flush()) return Error{ErrorCode::kIoError, ring_file, "cannot write"};
  }
  ::chmod(tmp.c_str(), 0600);
  if (std::rename(tmp.c_str(), ring_file.c_str()) != 0) {
    return Error{ErrorCode::kIoError, ring_file, "cannot write"};
  }
  MEDTWIN_TRY(auto ring, security::DataKeyRing::FromFile(ring_file));
  std::fprintf(stderr, "medtwin keys: new data key %s at the top of %s\n",
               ring.current_id().c_str(), ring_file.c_str());
  return Ok{};
}

Status RunKeysRotate(const std::string& store_url, const std::string& ring_file) {
  MEDTWIN_TRY(auto ring, security::DataKeyRing::FromFile(ring_file));
  MEDTWIN_TRY(auto store, store::OpenStore(store_url));
  MEDTWIN_TRY(auto rows, store->LoadPatients());
  std::size_t n = 0;
  for (const auto& row : rows) {
    MEDTWIN_TRY(auto p, server::PatientFromStored(row.body, &ring));
    MEDTWIN_TRY(std::string sealed, server::SealedPatientBody(p, &ring));
    MEDTWIN_RETURN_IF_ERROR(store->UpsertPatient({row.id, sealed}));
    ++n;
  }
  std::fprintf(stderr, "medtwin keys: %zu patients re-encrypted with key %s\n", n,
               ring.current_id().c_str());
  return Ok{};
}

void AddExportCommand(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  auto* export_cmd = app.add_subcommand(
      "export",
      "Research data out of a store: only patients whose consent allows research now, with HIPAA\n"
      "Safe Harbor de-identification (pseudonyms, dates shifted per patient, ages over 89 as\n"
      "90+, no device ids) and k-anonymity on age and sex; CSV and FHIR NDJSON.");
  export_cmd->add_flag("--deidentify", args->deidentify, "De-identify (required)");
  export_cmd->add_option("--store", args->store, "sqlite:PATH or postgresql://…")->required();
  export_cmd->add_option("--key", args->key_file, "The server's --auth-key file")->required();
  export_cmd->add_option("--out", args->out, "Directory to write")->required();
  export_cmd->add_option("--k", args->k, "k-anonymity on (age, sex, condition codes)")
      ->capture_default_str();
  export_cmd->add_option("--study", args->study,
                         "A study key: the same pseudonyms in every export of the study (by\n"
                         "default each export's pseudonyms and date shifts are its own)");
  export_cmd->add_option("--data-key", args->data_key,
                         "The server's data key ring, if identifiers are stored encrypted");

  OnChosen(export_cmd, [args] { return Report("export", RunExport(*args)); });
}

void AddKeysCommand(CLI::App& app) {
  auto* keys = app.add_subcommand(
      "keys", "Data keys for identifiers at rest (AES-256-GCM): make one, rotate the store");
  keys->require_subcommand(1);
  struct KeysArgs {
    std::string ring_file, store;
  };
  auto args = std::make_shared<KeysArgs>();
  auto* keys_new = keys->add_subcommand("new", "Put a new key at the top of a key ring file");
  keys_new->add_option("--ring", args->ring_file, "Key ring file (created if missing)")->required();
  auto* keys_rotate = keys->add_subcommand(
      "rotate", "Re-encrypt every stored patient's identifiers with the ring's first key");
  keys_rotate->add_option("--store", args->store, "sqlite:PATH or postgresql://…")->required();
  keys_rotate->add_option("--data-key", args->ring_file, "Key ring file")->required();

  OnChosen(keys_new, [args] { return Report("keys new", RunKeysNew(args->ring_file)); });
  OnChosen(keys_rotate,
           [args] { return Report("keys rotate", RunKeysRotate(args->store, args->ring_file)); });
}

}  // namespace medtwin::cli
