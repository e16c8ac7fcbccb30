// medtwin — the command-line entry point: the list of subcommands, each declared with its
// options in its own *_command.cpp (cli/command.h).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "medtwin/cli/audit_command.h"
#include "medtwin/cli/command.h"
#include "medtwin/cli/devices_command.h"
#include "medtwin/cli/dose_command.h"
#include "medtwin/cli/export_command.h"
#include "medtwin/cli/fit_command.h"
#include "medtwin/cli/nca_command.h"
#include "medtwin/cli/pgx_command.h"
#include "medtwin/cli/popfit_command.h"
#include "medtwin/cli/serve_command.h"
#include "medtwin/cli/simulate_command.h"
#include "medtwin/cli/token_command.h"
#include "medtwin/cli/trial_command.h"
#include "medtwin/cli/vpc_command.h"

namespace {

int Main(int argc, char** argv) {
  namespace cli = medtwin::cli;
  CLI::App app{
      "medtwin — a patient digital twin engine.\n"
      "Simulates PK models through NONMEM-style dosing records, individualizes them from drug\n"
      "levels (MAP), recommends regimens and estimates population models (FOCE-I).",
      "medtwin"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "medtwin 0.1.0");
  cli::AddSimulateCommand(app);
  cli::AddFitCommand(app);
  cli::AddDoseCommand(app);
  cli::AddPopfitCommand(app);
  cli::AddNcaCommand(app);
  cli::AddVpcCommand(app);
  cli::AddTrialCommand(app);
  cli::AddPgxCommand(app);
  cli::AddWarfarinTrialCommand(app);
  cli::AddServeCommand(app);
  cli::AddDevicesCommand(app);
  cli::AddModelsCommand(app);
  cli::AddRoutesCommand(app);
  cli::AddAuditCommand(app);
  cli::AddExportCommand(app);
  cli::AddKeysCommand(app);
  cli::AddTokenCommand(app);
  return cli::ParseAndRun(app, argc, argv);
}

}  // namespace

// The last line of defence: no exception leaves the process unexplained.
int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "medtwin: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "medtwin: internal error\n");
  }
  return 1;
}
