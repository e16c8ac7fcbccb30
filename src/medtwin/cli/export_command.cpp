#include "medtwin/cli/export_command.h"

#include <sys/stat.h>
#include <chrono>

#include <cstdio>
#include <fstream>
#include <sstream>

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

}  // namespace medtwin::cli
