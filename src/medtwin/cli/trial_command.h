// cli/trial_command.h — `medtwin trial`: an in-silico trial of a glucose controller on the
// UVA/Padova virtual cohort; writes a cohort table (CSV, Markdown), per-patient traces, a JSON
// summary and plots (ambulatory glucose profile, control-variability grid) into a directory.
#pragma once

#include <cstdint>
#include <string>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct TrialArgs {
  std::string model = "uva_padova";
  std::string cohort = "all";
  int days = 1;
  std::string controller = "bb";
  std::string meals = "07:00=45,12:00=70,18:00=80";
  std::uint64_t seed = 1;
  std::string out_dir;
  int threads = 1;
  bool ideal_sensor = false;
  bool no_alerts = false;
  bool bands = false;
};

[[nodiscard]] Status RunTrialCommand(const TrialArgs& args);

// Adds `medtwin trial`.
void AddTrialCommand(CLI::App& app);

}  // namespace medtwin::cli
