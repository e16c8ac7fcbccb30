// cli/vpc_command.h — `medtwin vpc`: a visual predictive check of a population model on a data
// set (Holford 2005; Bergstrand et al., AAPS J 2011;13:143): the data's design simulated many
// times with IIV and residual error, observations binned by time, and per bin the observed 5th,
// 50th and 95th percentiles against the 95 % confidence interval of the same percentiles of the
// simulations. Writes VPC.json, a CSV per bin and an SVG.
#pragma once

#include <string>
#include <vector>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct VpcArgs {
  std::string model;  // population model name or .json (e.g. popfit's model file)
  std::string data_path;
  std::vector<std::string> ignore_columns;
  bool locf = false;
  int replicates = 200;
  int bins = 0;  // 0: one per distinct time when there are at most 12, else 8 equal-count bins
  unsigned seed = 1;
  std::string out_path;   // VPC.json
  std::string csv_path;   // default: OUT with .csv
  std::string plot_path;  // default: OUT with .svg
};

[[nodiscard]] Status RunVpc(const VpcArgs& args);

// Adds `medtwin vpc`.
void AddVpcCommand(CLI::App& app);

}  // namespace medtwin::cli
