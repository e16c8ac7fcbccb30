#include "medtwin/cli/nca_command.h"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

#include "medtwin/core/format.h"
#include "medtwin/estimate/nca.h"
#include "medtwin/io/nonmem_csv.h"

namespace medtwin::cli {
namespace {

using nlohmann::json;

// The record columns nca reads: no model parameters, compartments as a data set may name.
sim::ModelInfo RecordsOnly() {
  sim::ModelInfo info;
  info.name = "nca";
  info.time_unit = "h";
  for (int k = 1; k <= 9; ++k) info.states.push_back({"cmt" + std::to_string(k), "mg"});
  info.default_dose_cmt = 1;
  return info;
}

json NumberOrNull(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

}  // namespace

Status RunNca(const NcaArgs& args) {
  estimate::NcaOptions options;
  if (args.auc_method == "linear") {
    options.auc_method = estimate::AucMethod::kLinear;
  } else if (args.auc_method != "linear-up/log-down") {
    return InvalidArgument("--auc-method",
                           "'" + args.auc_method + "' is not linear-up/log-down or linear");
  }
  if (args.route != "extravascular" && args.route != "iv-bolus") {
    return InvalidArgument("--route", "'" + args.route + "' is not extravascular or iv-bolus");
  }
  MEDTWIN_TRY(io::Dataset data, io::ReadNonmemCsv(args.data_path, RecordsOnly(),
                                                  IgnoringColumns(args.ignore_columns)));
  json subjects = json::array();
  std::string csv =
      "ID,DOSE,CMAX,TMAX,TLAST,CLAST,AUCLAST,LAMBDA_Z,HALF_LIFE,R2ADJ,LAMBDA_Z_POINTS,AUCINF,"
      "AUC_EXTRAP_PCT,CL_F,VZ_F\n";
  for (const auto& s : data.subjects) {
    const std::string where = args.data_path + ": ID " + s.id;
    // One dose time per subject: nca analyses a single-dose profile from that dose.
    double dose_time = std::nan(""), dose = 0;
    for (const auto& r : s.records) {
      if (r.evid != sim::Evid::kDose && r.evid != sim::Evid::kResetDose) continue;
      if (!std::isnan(dose_time) && r.time != dose_time) {
        return InvalidArgument("EVID", "doses at " + FormatNumber(dose_time) + " and " +
                                           FormatNumber(r.time) +
                                           " h: nca analyses a single-dose profile")
            .WithContext(where);
      }
      if (r.addl > 0) {
        return InvalidArgument("ADDL", "repeated doses: nca analyses a single-dose profile")
            .WithContext(where);
      }
      dose_time = r.time;
      dose += r.amt;
    }
    if (std::isnan(dose_time)) return InvalidArgument("AMT", "no dose record").WithContext(where);
    std::vector<double> t, c;
    for (const auto& r : s.records) {
      if (r.evid != sim::Evid::kObservation || std::isnan(r.dv) || r.time < dose_time) continue;
      t.push_back(r.time - dose_time);
      c.push_back(r.dv);
    }
    // The level at the dose: 0 after an extravascular dose; after an IV bolus, back-
    // extrapolated log-linearly from the first two levels when they fall (else the first).
    if (t.empty() || t.front() > 0) {
      double c0 = 0;
      if (args.route == "iv-bolus" && t.size() >= 2) {
        c0 = c[1] < c[0] && c[1] > 0 ? c[0] * std::pow(c[0] / c[1], t[0] / (t[1] - t[0])) : c[0];
      }
      t.insert(t.begin(), 0.0);
      c.insert(c.begin(), c0);
    }
    auto r = estimate::AnalyseProfile(t, c, dose, options);
    if (!r.ok()) return r.error().WithContext(where);
    json j = {{"id", s.id},
              {"dose", NumberOrNull(r->dose)},
              {"cmax", NumberOrNull(r->cmax)},
              {"tmax", NumberOrNull(r->tmax)},
              {"tlast", NumberOrNull(r->tlast)},
              {"clast", NumberOrNull(r->clast)},
              {"auclast", NumberOrNull(r->auclast)},
              {"lambda_z", NumberOrNull(r->lambda_z)},
              {"half_life", NumberOrNull(r->half_life)},
              {"r_squared", NumberOrNull(r->r_squared)},
              {"adj_r_squared", NumberOrNull(r->adj_r_squared)},
              {"lambda_z_points", r->lambda_z_points},
              {"lambda_z_times", {NumberOrNull(r->lambda_z_from), NumberOrNull(r->lambda_z_to)}},
              {"aucinf", NumberOrNull(r->aucinf)},
              {"auc_extrapolated_pct", NumberOrNull(r->auc_extrapolated_pct)},
              {"cl_f", NumberOrNull(r->cl_f)},
              {"vz_f", NumberOrNull(r->vz_f)}};
    if (!r->lambda_z_note.empty()) j["note"] = r->lambda_z_note;
    subjects.push_back(j);
    char row[512];
    std::snprintf(
        row, sizeof row,
        ",%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%d,%.10g,%.10g,%.10g,%.10g\n",
        r->dose, r->cmax, r->tmax, r->tlast, r->clast, r->auclast, r->lambda_z, r->half_life,
        r->adj_r_squared, r->lambda_z_points, r->aucinf, r->auc_extrapolated_pct, r->cl_f, r->vz_f);
    csv += s.id + row;
  }
  const std::string csv_path = BesideOutput(args.out_path, args.csv_path, ".csv");
  json out = {{"method",
               {{"auc", args.auc_method},
                {"route", args.route},
                {"lambda_z",
                 "log-linear least squares on the last n >= 3 positive levels after Tmax; n with "
                 "the best adjusted R-squared (within 1e-4, the most points), as PKNCA"}}},
              {"subjects", subjects},
              {"csv", csv_path}};
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(csv_path, csv));
  return io::WriteFileAtomically(args.out_path, out.dump(2) + "\n");
}

void AddNcaCommand(CLI::App& app) {
  auto args = std::make_shared<NcaArgs>();
  auto* nca = app.add_subcommand(
      "nca",
      "Noncompartmental analysis of each subject's single-dose profile in a record file: Cmax,\n"
      "Tmax, AUClast (linear-up/log-down), lambda_z by best adjusted R-squared, half-life,\n"
      "AUCinf, CL/F and Vz/F (PKNCA's rules). Writes NCA.json and a CSV, one row per subject.");
  nca->add_option("--data", args->data_path, "Records (ID, TIME, EVID, AMT, DV ...), CSV")
      ->required();
  nca->add_option("--auc-method", args->auc_method, "linear-up/log-down or linear")
      ->capture_default_str();
  nca->add_option("--route", args->route,
                  "extravascular (level 0 at the dose) or iv-bolus (C0 back-extrapolated)")
      ->capture_default_str();
  AddIgnoreColumnOption(nca, &args->ignore_columns);
  nca->add_option("--out", args->out_path, "NCA.json")->required();
  nca->add_option("--csv", args->csv_path, "One row per subject (default: OUT with .csv)");
  OnChosen(nca, [args] { return Report("nca", RunNca(*args)); });
}

}  // namespace medtwin::cli
