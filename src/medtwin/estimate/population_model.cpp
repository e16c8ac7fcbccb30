#include "medtwin/estimate/population_model.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "medtwin/core/data_dir.h"
#include "medtwin/core/format.h"
#include "medtwin/core/text.h"

#ifndef MEDTWIN_SOURCE_DATA_DIR
#define MEDTWIN_SOURCE_DATA_DIR "data"
#endif

namespace medtwin::estimate {
namespace {

using nlohmann::json;

Result<double> Number(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) return InvalidArgument(where + "." + key, "missing");
  if (!j[key].is_number()) return InvalidArgument(where + "." + key, "must be a number");
  return j[key].get<double>();
}

}  // namespace

Result<double> CovariateFactor(const CovariateEffect& e, double x) {
  switch (e.kind) {
    case CovariateKind::kPower:
      if (!(x > 0)) return InvalidArgument(e.covariate, "must be > 0, got " + FormatNumber(x));
      return std::pow(x / e.reference, e.coefficient);
    case CovariateKind::kExponential:
      return std::exp(e.coefficient * (x - e.reference));
    case CovariateKind::kLinear:
      return 1 + e.coefficient * (x - e.reference);
    case CovariateKind::kCategorical: {
      auto it = e.factors.find(static_cast<int>(x));
      if (it == e.factors.end() || x != std::floor(x)) {
        return InvalidArgument(e.covariate,
                               "level " + FormatNumber(x) + " is not one of the model's levels");
      }
      return it->second;
    }
  }
  return InvalidArgument(e.covariate, "unknown kind");
}

double ResidualModel::Sd(double f) const {
  const double af = std::abs(f);
  double sd = 0;
  switch (kind) {
    case ResidualKind::kAdditive:
      sd = additive;
      break;
    case ResidualKind::kProportional:
      sd = proportional * af;
      break;
    case ResidualKind::kCombined1:
      sd = additive + proportional * af;
      break;
    case ResidualKind::kCombined2:
      sd = std::hypot(additive, proportional * af);
      break;
  }
  return std::max(sd, 1e-6);  // a purely proportional model at f = 0 would divide by zero
}

std::vector<std::string> PopulationModel::DataColumns() const {
  std::vector<std::string> out = covariates;
  if (std::find(covariates.begin(), covariates.end(), "CRCL") != covariates.end()) {
    for (const char* c : {"AGE", "SEX", "SCR", "WT"}) {
      if (std::find(out.begin(), out.end(), c) == out.end()) out.emplace_back(c);
    }
  }
  return out;
}

namespace {

Result<PopulationModel> ParsePopulationModelUnchecked(std::string_view text,
                                                      std::string_view source_name);

}  // namespace

Result<PopulationModel> ParsePopulationModel(std::string_view text, std::string_view source_name) {
  // nlohmann::json throws on a value of the wrong type (e.g. a number where a name belongs);
  // that is bad input, reported like any other, never an exception out of the module.
  try {
    return ParsePopulationModelUnchecked(text, source_name);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string(source_name),
                           std::string("malformed population model: ") + e.what());
  }
}

namespace {

Result<PopulationModel> ParsePopulationModelUnchecked(std::string_view text,
                                                      std::string_view source_name) {
  const std::string src(source_name);
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument(src, "not a JSON object");
  PopulationModel m;
  auto str = [&](const char* key, std::string& out, bool required) -> Status {
    if (!j.contains(key)) {
      return required ? Status(InvalidArgument(src + ": " + key, "missing")) : Status(Ok{});
    }
    if (!j[key].is_string()) return InvalidArgument(src + ": " + key, "must be a string");
    out = j[key].get<std::string>();
    return Ok{};
  };
  MEDTWIN_RETURN_IF_ERROR(str("name", m.name, true));
  MEDTWIN_RETURN_IF_ERROR(str("structural_model", m.structural_model, true));
  MEDTWIN_RETURN_IF_ERROR(str("source", m.source, false));
  MEDTWIN_RETURN_IF_ERROR(str("description", m.description, false));
  if (j.contains("covariates")) {
    for (const auto& c : j["covariates"]) m.covariates.push_back(c.get<std::string>());
  }
  if (j.contains("creatinine_clearance")) {
    const auto& cc = j["creatinine_clearance"];
    MEDTWIN_TRY(m.crcl_rule.cap_ml_min, Number(cc, "cap_ml_min", src + ": creatinine_clearance"));
    MEDTWIN_TRY(m.crcl_rule.scr_floor_mg_dl,
                Number(cc, "scr_floor_mg_dl", src + ": creatinine_clearance"));
    MEDTWIN_TRY(m.crcl_rule.floor_above_age,
                Number(cc, "floor_above_age", src + ": creatinine_clearance"));
  }
  if (!j.contains("parameters") || !j["parameters"].is_object()) {
    return InvalidArgument(src + ": parameters", "missing object");
  }
  if (j.contains("etas")) {
    for (const auto& e : j["etas"]) m.eta_names.push_back(e.get<std::string>());
  }
  for (const auto& [name, pj] : j["parameters"].items()) {
    const std::string where = src + ": parameters." + name;
    PopulationParameter p;
    p.name = name;
    MEDTWIN_TRY(p.typical, Number(pj, "typical", where));
    if (!(p.typical > 0)) return InvalidArgument(where + ".typical", "must be > 0");
    if (pj.value("eta", false)) {
      auto it = std::find(m.eta_names.begin(), m.eta_names.end(), name);
      if (it == m.eta_names.end()) return InvalidArgument(where + ".eta", "not listed in etas");
      p.eta = static_cast<int>(it - m.eta_names.begin());
    }
    if (pj.contains("covariates")) {
      for (const auto& cj : pj.at("covariates")) {
        CovariateEffect e;
        e.covariate = cj.value("name", "");
        if (std::find(m.covariates.begin(), m.covariates.end(), e.covariate) ==
            m.covariates.end()) {
          return InvalidArgument(where + ".covariates",
                                 "covariate '" + e.covariate + "' is not declared in covariates");
        }
        const std::string kind = cj.value("kind", "");
        if (kind == "power") {
          e.kind = CovariateKind::kPower;
          MEDTWIN_TRY(e.reference, Number(cj, "reference", where));
          MEDTWIN_TRY(e.coefficient, Number(cj, "exponent", where));
        } else if (kind == "exponential" || kind == "linear") {
          e.kind = kind == "linear" ? CovariateKind::kLinear : CovariateKind::kExponential;
          MEDTWIN_TRY(e.reference, Number(cj, "reference", where));
          MEDTWIN_TRY(e.coefficient, Number(cj, "coefficient", where));
        } else if (kind == "categorical") {
          e.kind = CovariateKind::kCategorical;
          for (const auto& [level, f] : cj.at("factors").items()) {
            const auto code = ParseInt64(level);
            if (!code || *code < std::numeric_limits<int>::min() ||
                *code > std::numeric_limits<int>::max()) {
              return InvalidArgument(where + ".factors",
                                     "level '" + Printable(level, 24) + "' is not a whole number");
            }
            e.factors[static_cast<int>(*code)] = f;
          }
        } else {
          return InvalidArgument(
              where + ".covariates",
              "kind '" + kind + "' is not power, exponential, linear or categorical");
        }
        p.effects.push_back(std::move(e));
      }
    }
    m.parameters.push_back(std::move(p));
  }
  const auto n_eta = static_cast<Eigen::Index>(m.eta_names.size());
  m.omega = Eigen::MatrixXd::Zero(n_eta, n_eta);
  if (n_eta > 0) {
    if (!j.contains("omega") || j["omega"].size() != m.eta_names.size()) {
      return InvalidArgument(src + ": omega", "must be a " + std::to_string(n_eta) + "x" +
                                                  std::to_string(n_eta) + " matrix");
    }
    for (Eigen::Index r = 0; r < n_eta; ++r) {
      const auto& row = j["omega"][static_cast<std::size_t>(r)];
      if (row.size() != m.eta_names.size()) return InvalidArgument(src + ": omega", "ragged row");
      for (Eigen::Index c = 0; c < n_eta; ++c) m.omega(r, c) = row[static_cast<std::size_t>(c)];
    }
    Eigen::LLT<Eigen::MatrixXd> llt(m.omega);
    if (llt.info() != Eigen::Success || !m.omega.isApprox(m.omega.transpose())) {
      return InvalidArgument(src + ": omega", "must be symmetric positive definite");
    }
  }
  const auto& rj = j.value("residual", json::object());
  const std::string kind = rj.value("model", "");
  static const std::map<std::string, ResidualKind> kKinds = {
      {"additive", ResidualKind::kAdditive},
      {"proportional", ResidualKind::kProportional},
      {"combined1", ResidualKind::kCombined1},
      {"combined2", ResidualKind::kCombined2}};
  if (kKinds.count(kind) == 0) {
    return InvalidArgument(src + ": residual.model",
                           "'" + kind + "' is not additive, proportional, combined1 or combined2");
  }
  m.residual.kind = kKinds.at(kind);
  m.residual.additive = rj.value("additive", 0.0);
  m.residual.proportional = rj.value("proportional", 0.0);
  if (j.contains("dosing")) {
    const json& dj = j["dosing"];
    const std::string where = src + ": dosing";
    if (!dj.is_object()) return InvalidArgument(where, "must be an object");
    DosingDefaults d;
    d.route = dj.value("route", std::string());
    if (d.route != "infusion" && d.route != "bolus" && d.route != "oral") {
      return InvalidArgument(where + ".route", "'" + d.route + "' is not infusion, bolus or oral");
    }
    if (!dj.contains("intervals_h") || !dj["intervals_h"].is_array() || dj["intervals_h"].empty()) {
      return InvalidArgument(where + ".intervals_h", "a list of dosing intervals (h) is needed");
    }
    for (const auto& v : dj["intervals_h"]) {
      if (!v.is_number() || !(v.get<double>() > 0)) {
        return InvalidArgument(where + ".intervals_h", "intervals are numbers > 0");
      }
      d.intervals_h.push_back(v.get<double>());
    }
    MEDTWIN_TRY(d.dose_step_mg, Number(dj, "dose_step_mg", where));
    MEDTWIN_TRY(d.dose_max_mg, Number(dj, "dose_max_mg", where));
    if (!(d.dose_step_mg > 0) || !(d.dose_max_mg >= d.dose_step_mg)) {
      return InvalidArgument(where, "need 0 < dose_step_mg <= dose_max_mg");
    }
    if (d.route == "infusion") {
      MEDTWIN_TRY(d.infusion_h, Number(dj, "infusion_h", where));
      if (!(d.infusion_h > 0)) return InvalidArgument(where + ".infusion_h", "must be > 0");
    }
    if (dj.contains("targets")) {
      if (!dj["targets"].is_array()) return InvalidArgument(where + ".targets", "a list");
      for (const auto& t : dj["targets"]) {
        if (!t.is_string()) return InvalidArgument(where + ".targets", "specs are strings");
        d.targets.push_back(t.get<std::string>());
      }
    }
    d.targets_source = dj.value("targets_source", std::string());
    m.dosing = std::move(d);
  }
  return m;
}

}  // namespace

Result<PopulationModel> LoadPopulationModel(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(path, "cannot open population model file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParsePopulationModel(buffer.str(), path);
}

std::vector<std::string> BuiltInPopulationModels() {
  return {"vancomycin_goti2018", "vancomycin_buelga2005", "warfarin_hamberg2007",
          "theophylline_theoph"};
}

Result<PopulationModel> FindPopulationModel(const std::string& name) {
  if (name.find('/') != std::string::npos || name.ends_with(".json")) {
    return LoadPopulationModel(name);
  }
  const std::string path = DataDirectory() + "/models/" + name + ".json";
  std::ifstream probe(path);
  if (!probe) {
    std::string known;
    for (const auto& n : BuiltInPopulationModels()) known += (known.empty() ? "" : ", ") + n;
    return NotFound("model", "unknown population model '" + name + "' (built in: " + known +
                                 "; or give a .json path)");
  }
  return LoadPopulationModel(path);
}

Result<PreparedSubject> PrepareSubject(const PopulationModel& model,
                                       const sim::ParameterLayout& layout,
                                       const sim::Subject& subject) {
  PreparedSubject out;
  out.subject = &subject;
  for (const auto& p : model.parameters) {
    const int idx = layout.Find(p.name);
    if (idx < 0) {
      return InvalidArgument(model.name, "parameter " + p.name + " is not in structural model " +
                                             model.structural_model);
    }
    out.structural_index.push_back(idx);
  }
  const auto columns = model.DataColumns();
  const std::size_t nc = columns.size();
  auto col = [&](const char* name) -> int {
    auto it = std::find(columns.begin(), columns.end(), name);
    return it == columns.end() ? -1 : static_cast<int>(it - columns.begin());
  };
  // Carry values forward; the first known value also fills the records before it.
  std::vector<std::vector<double>> values(subject.records.size(),
                                          std::vector<double>(nc, std::nan("")));
  std::vector<double> first(nc, std::nan("")), last(nc, std::nan(""));
  for (std::size_t r = 0; r < subject.records.size(); ++r) {
    const auto& cov = subject.records[r].covariates;
    for (std::size_t c = 0; c < nc && c < cov.size(); ++c) {
      if (!std::isnan(cov[c])) {
        last[c] = cov[c];
        if (std::isnan(first[c])) first[c] = cov[c];
      }
    }
    values[r] = last;
  }
  for (auto& row : values) {
    for (std::size_t c = 0; c < nc; ++c) {
      if (std::isnan(row[c])) row[c] = first[c];
    }
  }
  const int i_crcl = col("CRCL"), i_age = col("AGE"), i_sex = col("SEX"), i_scr = col("SCR"),
            i_wt = col("WT");
  for (std::size_t r = 0; r < subject.records.size(); ++r) {
    auto& row = values[r];
    const std::string where = "line " + std::to_string(subject.records[r].source_line);
    if (i_crcl >= 0 && std::isnan(row[static_cast<std::size_t>(i_crcl)])) {
      const double age = row[static_cast<std::size_t>(i_age)],
                   sex = row[static_cast<std::size_t>(i_sex)];
      double scr = row[static_cast<std::size_t>(i_scr)];
      const double wt = row[static_cast<std::size_t>(i_wt)];
      if (std::isnan(age) || std::isnan(sex) || std::isnan(scr) || std::isnan(wt)) {
        return InvalidArgument(
                   "CRCL", "missing for ID " + subject.id + " (give CRCL, or AGE, SEX, SCR and WT)")
            .WithContext(where);
      }
      if (!(scr > 0)) return InvalidArgument("SCR", "must be > 0 mg/dL").WithContext(where);
      if (age > model.crcl_rule.floor_above_age)
        scr = std::max(scr, model.crcl_rule.scr_floor_mg_dl);
      double crcl = (140 - age) * wt / (72 * scr) * (sex == 1 ? 0.85 : 1.0);
      row[static_cast<std::size_t>(i_crcl)] = std::clamp(crcl, 0.0, model.crcl_rule.cap_ml_min);
    }
    std::vector<double> typical;
    for (const auto& p : model.parameters) {
      double v = p.typical;
      for (const auto& e : p.effects) {
        const double x = row[static_cast<std::size_t>(col(e.covariate.c_str()))];
        if (std::isnan(x)) {
          return InvalidArgument(e.covariate, "missing for ID " + subject.id).WithContext(where);
        }
        MEDTWIN_TRY(const double factor, CovariateFactor(e, x), where);
        v *= factor;
      }
      if (!(v > 0) || !std::isfinite(v)) {
        return InvalidArgument(p.name, "typical value is not positive for ID " + subject.id)
            .WithContext(where);
      }
      typical.push_back(v);
    }
    out.typical.push_back(std::move(typical));
  }
  return out;
}

void ApplyEta(const PopulationModel& model, const PreparedSubject& prepared,
              const Eigen::VectorXd& eta, sim::Subject& subject_out, std::vector<double>& base) {
  const std::size_t np = model.parameters.size();
  for (std::size_t r = 0; r < prepared.typical.size(); ++r) {
    auto& rec = subject_out.records[r];
    if (rec.parameter_updates.size() != base.size()) {
      rec.parameter_updates.assign(base.size(), std::nan(""));
    }
    for (std::size_t k = 0; k < np; ++k) {
      const int e = model.parameters[k].eta;
      const double v = prepared.typical[r][k] * (e >= 0 ? std::exp(eta(e)) : 1.0);
      rec.parameter_updates[static_cast<std::size_t>(prepared.structural_index[k])] = v;
      if (r == 0) base[static_cast<std::size_t>(prepared.structural_index[k])] = v;
    }
  }
}

}  // namespace medtwin::estimate
