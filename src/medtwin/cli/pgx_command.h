// cli/pgx_command.h — `medtwin pgx call`: star-allele diplotypes, phenotypes and activity
// scores for every sample of a GRCh38 VCF (and outside calls), written as CALLS.json and/or a
// TSV table.
#pragma once

#include <string>

#include "medtwin/core/result.h"

namespace medtwin::cli {

struct PgxCallArgs {
  std::string vcf;            // path, or "-" for standard input
  std::string outside_calls;  // TSV (optional)
  std::string out_json;       // CALLS.json (optional if out_tsv)
  std::string out_tsv;
  std::string data_dir;  // allele/phenotype files; default data/pgx
};

[[nodiscard]] Status RunPgxCall(const PgxCallArgs& args);

}  // namespace medtwin::cli
