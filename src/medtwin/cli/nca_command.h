// cli/nca_command.h — `medtwin nca`: noncompartmental analysis of every subject's single-dose
// profile in a record file (Cmax, Tmax, AUClast, λz, t½, AUCinf, CL/F, Vz/F); writes NCA.json
// and a CSV with one row per subject.
#pragma once

#include <string>
#include <vector>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct NcaArgs {
  std::string data_path;
  std::vector<std::string> ignore_columns;
  std::string auc_method = "linear-up/log-down";  // or "linear"
  std::string route = "extravascular";            // or "iv-bolus"
  std::string out_path;                           // NCA.json
  std::string csv_path;                           // default: OUT with .csv
};

[[nodiscard]] Status RunNca(const NcaArgs& args);

// Adds `medtwin nca`.
void AddNcaCommand(CLI::App& app);

}  // namespace medtwin::cli
