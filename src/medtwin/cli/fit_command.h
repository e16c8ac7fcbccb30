// cli/fit_command.h — `medtwin fit`: Bayesian MAP individualization of every subject in a
// record file under a population model; writes FIT.json and optionally an SVG per run.
#pragma once

#include <string>
#include <vector>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct FitArgs {
  std::string model;  // population model name (data/models/NAME.json) or a .json path
  std::string data_path;
  std::vector<std::string> ignore_columns;  // extra data columns to accept and skip
  bool locf = false;                        // --locf: time-varying items act from their record on
  std::string out_path;
  std::string plot_path;
  // Exposure windows "FROM:TO" in hours after the first dose; empty: each day
  // (0:24, 24:48, …) up to the one holding the last record.
  std::vector<std::string> auc_windows;
};

[[nodiscard]] Status RunFit(const FitArgs& args);

// Adds `medtwin fit`.
void AddFitCommand(CLI::App& app);

}  // namespace medtwin::cli
