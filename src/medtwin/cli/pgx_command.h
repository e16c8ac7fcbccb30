// cli/pgx_command.h — `medtwin pgx call` and `pgx guide`: star-allele diplotypes, phenotypes and
// activity scores for every sample of a GRCh38 VCF (and outside calls), written as CALLS.json
// and/or a TSV table.
#pragma once

#include <cstdint>
#include <string>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct PgxCallArgs {
  std::string vcf;            // path, or "-" for standard input
  std::string outside_calls;  // TSV (optional)
  std::string out_json;       // CALLS.json (optional if out_tsv)
  std::string out_tsv;
  std::string data_dir;       // allele/phenotype files; default data/pgx
  bool all_results = false;   // every diplotype that explains the data, not only the top
  bool combinations = false;  // PharmCAT's research mode: combinations and partial alleles
};

[[nodiscard]] Status RunPgxCall(const PgxCallArgs& args);

struct PgxGuideArgs {
  std::string calls;  // CALLS.json
  std::string drug;
  std::string sample;  // empty: every sample
  std::string out;     // empty: standard output
};

// `medtwin pgx guide`: the CPIC recommendation for a drug given each sample's calls, as JSON
// ({"drug", "guidance": [{"sample", "action", "strength", "recommendation", …}]}).
[[nodiscard]] Status RunPgxGuide(const PgxGuideArgs& args);

}  // namespace medtwin::cli

namespace medtwin::cli {

struct WarfarinTrialArgs {
  std::string ancestries = "european,east_asian,african";
  int patients = 100;  // per ancestry group
  int days = 28;
  std::uint64_t seed = 1;
  std::string out_dir;
};

// `medtwin warfarin-trial`: precision twins for warfarin (twin::RunWarfarinTrial); writes
// DIR/cohort.csv, summary.json, summary.md and inr.svg (median INR by day, per ancestry and arm).
[[nodiscard]] Status RunWarfarinTrialCommand(const WarfarinTrialArgs& args);

// Adds `medtwin pgx call` and `pgx guide`.
void AddPgxCommand(CLI::App& app);
// Adds `medtwin warfarin-trial`.
void AddWarfarinTrialCommand(CLI::App& app);

}  // namespace medtwin::cli
