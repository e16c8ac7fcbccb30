// cli/dose_command.h — `medtwin dose`: fit each patient (MAP), then recommend the maintenance
// regimen most likely to reach the target, with alternatives, a forecast with quantile bands
// and an optional plot.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct DoseArgs {
  std::string model;
  std::string data_path;
  std::vector<std::string> ignore_columns;  // extra data columns to accept and skip
  bool locf = false;                        // --locf: time-varying items act from their record on
  // The menu and targets; unset (empty, NaN) ones come from the model file's "dosing".
  std::vector<std::string> targets;  // "auc24=400:600", "trough=10:20", "peak=0:20", ...
  std::vector<double> intervals_h;
  double infusion_h = std::numeric_limits<double>::quiet_NaN();
  double dose_step_mg = std::numeric_limits<double>::quiet_NaN();
  double dose_max_mg = std::numeric_limits<double>::quiet_NaN();
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
