#include "medtwin/sim/records.h"

#include <cmath>
#include <limits>

#include "medtwin/core/format.h"

namespace medtwin::sim {

ParameterLayout::ParameterLayout(const ModelInfo& info)
    : model_count_(static_cast<int>(info.parameters.size())),
      state_count_(static_cast<int>(info.states.size())) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (const auto& p : info.parameters) {
    names_.push_back(p.name);
    defaults_.push_back(p.default_value);
    lower_.push_back(p.lower);
    upper_.push_back(p.upper);
  }
  for (int cmt = 1; cmt <= state_count_; ++cmt) {
    const std::string n = std::to_string(cmt);
    // F: bioavailability (fraction), ALAG: lag time, R: modeled rate, D: modeled duration.
    names_.insert(names_.end(), {"F" + n, "ALAG" + n, "R" + n, "D" + n});
    defaults_.insert(defaults_.end(), {1.0, 0.0, 0.0, 0.0});
    lower_.insert(lower_.end(), {0.0, 0.0, 0.0, 0.0});
    upper_.insert(upper_.end(), {kInf, kInf, kInf, kInf});
  }
}

int ParameterLayout::Find(std::string_view name) const {
  // Case-insensitive: data columns and --param are upper-cased, UVA/Padova names are not.
  auto same = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k) {
      auto up = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
      if (up(a[k]) != up(b[k])) return false;
    }
    return true;
  };
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (same(names_[i], name)) return static_cast<int>(i);
  }
  return -1;
}

Status ParameterLayout::Validate(int index, double value) const {
  const auto i = static_cast<std::size_t>(index);
  if (!std::isfinite(value)) return InvalidArgument(names_[i], "not a finite number");
  if (value < lower_[i] || value > upper_[i]) {
    return InvalidArgument(names_[i], "value " + FormatNumber(value) + " outside [" +
                                          FormatNumber(lower_[i]) + ", " + FormatNumber(upper_[i]) +
                                          "]");
  }
  return Ok{};
}

Status ValidateSubject(const Subject& subject, const ModelInfo& info, std::string_view source) {
  const int n = static_cast<int>(info.states.size());
  double last_time = -std::numeric_limits<double>::infinity();
  for (const Record& r : subject.records) {
    auto fail = [&](const char* field, const std::string& why) {
      // Built only on failure: validation runs on every simulation.
      const std::string where = source.empty()
                                    ? "line " + std::to_string(r.source_line)
                                    : std::string(source) + ":" + std::to_string(r.source_line);
      return InvalidArgument(field, why).WithContext(where);
    };
    if (!std::isfinite(r.time)) return fail("TIME", "not a finite number");
    if (r.time < last_time) {
      return fail("TIME", "time " + FormatNumber(r.time) + " goes backwards within ID " +
                              subject.id + " (previous " + FormatNumber(last_time) + ")");
    }
    last_time = r.time;
    const bool dose = r.evid == Evid::kDose || r.evid == Evid::kResetDose;
    if (!dose) continue;
    if (r.amt < 0 || !std::isfinite(r.amt)) return fail("AMT", "dose amount must be >= 0");
    if (r.cmt < 0 || r.cmt > n) {
      return fail("CMT", "compartment " + std::to_string(r.cmt) + " does not exist (model " +
                             info.name + " has 1.." + std::to_string(n) + ")");
    }
    if (!(r.rate >= 0 || r.rate == -1 || r.rate == -2)) {
      return fail("RATE", "must be 0 (bolus), > 0 (infusion), -1 (R<n>) or -2 (D<n>)");
    }
    if (r.ii < 0 || !std::isfinite(r.ii)) return fail("II", "interdose interval must be >= 0");
    if (r.addl < 0) return fail("ADDL", "must be >= 0");
    if (r.addl > 0 && r.ii <= 0) return fail("II", "ADDL > 0 needs II > 0");
    if (r.ss != 0 && r.ss != 1 && r.ss != 2) return fail("SS", "must be 0, 1 or 2");
    if (r.ss != 0 && r.ii <= 0) {
      const bool constant_infusion = r.ii == 0 && r.amt == 0 && r.rate > 0;
      if (!constant_infusion) {
        return fail("II",
                    "steady state needs II > 0 (or AMT=0, RATE>0, II=0 for a constant infusion)");
      }
    }
  }
  return Ok{};
}

}  // namespace medtwin::sim
