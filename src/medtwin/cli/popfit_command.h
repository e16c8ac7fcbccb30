// cli/popfit_command.h — `medtwin popfit`: population estimation (FOCE-I) of a structural
// model on a multi-subject record file; writes POP.json and a population model file.
#pragma once

#include <string>
#include <vector>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct PopfitArgs {
  std::string model;  // structural model, e.g. pk_1cmt_oral
  std::string data_path;
  std::vector<std::string> iiv;
  std::string error = "additive";
  std::string omega = "diagonal";  // or "full"
  std::vector<std::string> ignore_columns;
  bool locf = false;                    // --locf: time-varying items act from their record on
  std::vector<std::string> fix;         // NAME=VALUE: typical values held (NONMEM FIX)
  std::vector<std::string> init;        // NAME=VALUE: where the estimation starts
  std::vector<std::string> covariates;  // PARAM~COLUMN:KIND[:REFERENCE]
  int max_iterations = 200;             // 0: evaluate the OFV at the initial estimates
  int npde_samples = 1000;              // simulations per subject for NPDE; 0: none
  std::string output;                   // the output DV observes (default: the model's first)
  std::string out_path;
  std::string model_out_path;  // default: OUT with _model.json
  std::string table_path;      // per-observation diagnostics; default: OUT with _table.csv
  std::string plots_prefix;    // goodness-of-fit SVGs PREFIX_dv.svg, PREFIX_cwres.svg
};

[[nodiscard]] Status RunPopfit(const PopfitArgs& args);

// Adds `medtwin popfit`.
void AddPopfitCommand(CLI::App& app);

}  // namespace medtwin::cli
