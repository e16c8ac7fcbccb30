#include "medtwin/cli/export_command.h"

#include <chrono>
#include <cstdio>

#include "medtwin/server/research.h"

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
  options.as_of.us_since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
  MEDTWIN_TRY(auto summary, server::ResearchCohort(*store, secret, options));
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

}  // namespace medtwin::cli
