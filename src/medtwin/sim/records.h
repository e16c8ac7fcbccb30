// sim/records.h — dosing and observation records in NONMEM's conventions
// (../shared/models/dosing_events.md, docs/dosing_records.md) and the per-subject parameter
// layout the event engine uses: the model's parameters followed by F<n>, ALAG<n>, R<n>, D<n>.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/sim/model.h"

namespace medtwin::sim {

enum class Evid { kObservation = 0, kDose = 1, kOther = 2, kReset = 3, kResetDose = 4 };

struct Record {
  double time = 0.0;
  Evid evid = Evid::kObservation;
  double amt = 0.0;
  int cmt = 0;  // 0: the model's default dose compartment
  double rate = 0.0;
  double ii = 0.0;
  int addl = 0;
  int ss = 0;
  // Parameter values set by this record, indexed like ParameterLayout; NaN where the record
  // leaves a parameter unchanged. Empty when the record sets none.
  std::vector<double> parameter_updates;
  // Observed value (DV) of an observation record; NaN when absent or MDV=1.
  double dv = std::numeric_limits<double>::quiet_NaN();
  // Covariate values, indexed like ModelInfo::covariates; NaN where the record has none.
  std::vector<double> covariates;
  std::size_t source_line = 0;  // 1-based line in the input file, for messages
};

struct Subject {
  std::string id;
  std::vector<Record> records;  // in file order; times never decrease
};

// Names and defaults of every value a record or --param may set for a model.
class ParameterLayout {
 public:
  explicit ParameterLayout(const ModelInfo& info);

  [[nodiscard]] int size() const { return static_cast<int>(names_.size()); }
  [[nodiscard]] int model_count() const { return model_count_; }
  [[nodiscard]] int state_count() const { return state_count_; }
  // Index of a name ("CL", "F2", "ALAG1"), or -1.
  [[nodiscard]] int Find(std::string_view name) const;
  [[nodiscard]] const std::string& Name(int index) const {
    return names_[static_cast<std::size_t>(index)];
  }
  [[nodiscard]] const std::vector<double>& Defaults() const { return defaults_; }
  // Checks a value against its bounds; the error names the parameter and its range.
  [[nodiscard]] Status Validate(int index, double value) const;

  // Dose-modifier indices for compartment cmt (1-based).
  [[nodiscard]] int F(int cmt) const { return model_count_ + 4 * (cmt - 1); }
  [[nodiscard]] int Alag(int cmt) const { return F(cmt) + 1; }
  [[nodiscard]] int R(int cmt) const { return F(cmt) + 2; }
  [[nodiscard]] int D(int cmt) const { return F(cmt) + 3; }

 private:
  std::vector<std::string> names_;
  std::vector<double> defaults_;
  std::vector<double> lower_;
  std::vector<double> upper_;
  int model_count_ = 0;
  int state_count_ = 0;
};

// Checks one subject's records for what the engine cannot simulate (negative AMT, times going
// backwards, CMT out of range, SS without II, ...). Errors name the source line and field:
// "data.csv:14: AMT: …" when `source` is given, "line 14: AMT: …" otherwise.
[[nodiscard]] Status ValidateSubject(const Subject& subject, const ModelInfo& info,
                                     std::string_view source = {});

}  // namespace medtwin::sim
