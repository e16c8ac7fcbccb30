// cli/dose_command.h — `medtwin dose`: fit each patient (MAP), then recommend the maintenance
// regimen most likely to reach the target, with alternatives, a forecast with quantile bands
// and an optional plot.
#pragma once

#include <string>
#include <vector>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct DoseArgs {
  std::string model;
  std::string data_path;
  std::vector<std::string> ignore_columns;  // extra data columns to accept and skip
  std::vector<std::string> targets;         // "auc24=400:600", "trough=10:20"
  std::vector<double> intervals_h = {8, 12, 24};
  double infusion_h = 1;
  double dose_step_mg = 250;
  double dose_max_mg = 4000;
  double start_h = -1;  // < 0: the next dose time implied by the records
  int samples = 500;
  std::vector<std::string> what_if;  // proposed regimens "DOSE@II" or "DOSE@II/INFUSION_H"
  std::string out_path;              // ADVICE.json
  std::string forecast_path;         // CSV; default: OUT with .json replaced by _forecast.csv
  std::string plot_path;
};

[[nodiscard]] Status RunDose(const DoseArgs& args);

// Adds `medtwin dose`.
void AddDoseCommand(CLI::App& app);

}  // namespace medtwin::cli
