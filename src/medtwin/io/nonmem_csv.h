// io/nonmem_csv.h — reads NONMEM-style record tables (CSV) into subjects for a model, and
// writes simulation results. Columns: ID, TIME, EVID, AMT, CMT, RATE, II, ADDL, SS, DV, MDV,
// then any parameter of the model (CL, V, F1, ALAG1, R1, D1 …) or covariate it declares.
// Missing optional columns mean 0 ("." or an empty field means missing). Errors name
// "file:line: COLUMN: reason".
#pragma once

#include <set>
#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/sim/records.h"
#include "medtwin/sim/simulator.h"

namespace medtwin::io {

struct CsvReadOptions {
  std::set<std::string> ignore_columns;  // extra columns to accept and skip (upper case)
  // Columns whose text is kept for the output (mrgsolve's carry_out; upper case, in output
  // order); a column named here need not be one the model reads.
  std::vector<std::string> carry_columns;
};

struct Dataset {
  std::vector<sim::Subject> subjects;  // contiguous blocks of one ID, in file order
  std::size_t record_count = 0;
  // The carried columns' text, [subject][record][column] ("." where empty).
  std::vector<std::string> carry_names;
  std::vector<std::vector<std::vector<std::string>>> carried;
};

// Parses CSV text; `source_name` is used in messages ("data.csv").
[[nodiscard]] Result<Dataset> ParseNonmemCsv(std::string_view text, std::string_view source_name,
                                             const sim::ModelInfo& model,
                                             const CsvReadOptions& options = {});
[[nodiscard]] Result<Dataset> ReadNonmemCsv(const std::string& path, const sim::ModelInfo& model,
                                            const CsvReadOptions& options = {});

// Writes ID, TIME, EVID, the carried columns and every model output, one row per record in
// order.
// Writes to a temporary file and renames it, so a failed run leaves no partial file behind.
[[nodiscard]] Status WriteResultsCsv(const std::string& path, const sim::ModelInfo& model,
                                     const Dataset& data,
                                     const std::vector<sim::SubjectResult>& results);

// Writes a whole file atomically (temporary file in the same directory, then rename).
[[nodiscard]] Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace medtwin::io
