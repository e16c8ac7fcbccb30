// cli/simulate_command.h — `medtwin simulate` and `medtwin models`: read NONMEM-style records,
// run a model through them, write one output row per record and optionally an SVG plot.
#pragma once

#include <string>
#include <vector>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct SimulateArgs {
  std::string model;
  std::string data_path;
  std::string out_path;
  std::string plot_path;
  std::string patient;                      // virtual patient (uva_padova), e.g. adult#001
  std::vector<std::string> params;          // NAME=VALUE
  std::vector<std::string> ignore_columns;  // extra data columns to skip
  bool locf = false;                        // --locf: time-varying items act from their record on
  std::string grid;                         // START:END:STEP output rows besides the records
  std::vector<std::string> carry;           // input columns copied to the output
  std::string population;                   // population model: simulate IIV and residual error
  int subjects = 1;                         // replicates of each data subject (--population)
  unsigned seed = 1;
  std::string method = "auto";
  double rtol = 1e-8;
  double atol = 1e-10;
};

// Runs the whole command; the error is one line for stderr ("file:line: COLUMN: reason").
[[nodiscard]] Status RunSimulate(const SimulateArgs& args);

// Text for `medtwin models`: every model with its parameters, units, defaults and bounds.
[[nodiscard]] std::string DescribeModels();

// Adds `medtwin simulate`.
void AddSimulateCommand(CLI::App& app);
// Adds `medtwin models`.
void AddModelsCommand(CLI::App& app);

}  // namespace medtwin::cli
