#include "medtwin/cli/popfit_command.h"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "medtwin/cli/command.h"
#include "medtwin/core/format.h"
#include "medtwin/estimate/population_fit.h"
#include "medtwin/estimate/population_simulation.h"
#include "medtwin/io/nonmem_csv.h"
#include "medtwin/io/svg_plot.h"
#include "medtwin/models/registry.h"

namespace medtwin::cli {
namespace {

// NONMEM's $TABLE as tidy CSV: one row per observation.
std::string DiagnosticsCsv(const estimate::PopFitResult& fit,
                           const std::vector<std::vector<double>>& npde) {
  std::string csv = "ID,TIME,DV,PRED,IPRED,RES,WRES,IWRES,CWRES,NPDE";
  for (const auto& name : fit.iiv_names) csv += ",ETA_" + name;
  csv += "\n";
  char buf[64];
  auto add = [&](double v) {
    std::snprintf(buf, sizeof buf, ",%.10g", v);
    csv += buf;
  };
  for (const auto& d : fit.diagnostics) {
    csv += fit.subject_ids[d.subject];
    for (double v : {d.time, d.dv, d.pred, d.ipred, d.res, d.wres, d.iwres, d.cwres}) add(v);
    if (npde.empty()) {
      csv += ",.";
    } else {
      add(npde[d.subject][d.record]);
    }
    for (Eigen::Index k = 0; k < fit.etas[d.subject].size(); ++k) add(fit.etas[d.subject](k));
    csv += "\n";
  }
  return csv;
}

// Goodness-of-fit plots: observed against population and individual predictions with the
// line of identity; CWRES against time with 0 and ±2.
Status WriteGofPlots(const estimate::PopFitResult& fit, const std::string& model,
                     const std::string& data, const std::string& prefix) {
  io::PlotSpec dv;
  dv.title = "popfit " + model + " on " + data + ": observed vs predicted";
  dv.x_label = "Prediction (DV units)";
  dv.y_label = "Observed DV";
  io::PlotSeries pred{"PRED (population)", {}, {}, true, false, "#0072B2"};
  io::PlotSeries ipred{"IPRED (individual)", {}, {}, true, false, "#D55E00"};
  io::PlotSeries cwres{"CWRES", {}, {}, true, false, "#009E73"};
  double lo = 0, hi = 0, t_max = 0;
  for (const auto& d : fit.diagnostics) {
    pred.x.push_back(d.pred);
    pred.y.push_back(d.dv);
    ipred.x.push_back(d.ipred);
    ipred.y.push_back(d.dv);
    cwres.x.push_back(d.time);
    cwres.y.push_back(d.cwres);
    lo = std::min({lo, d.pred, d.ipred, d.dv});
    hi = std::max({hi, d.pred, d.ipred, d.dv});
    t_max = std::max(t_max, d.time);
  }
  dv.series = {pred, ipred, {"identity", {lo, hi}, {lo, hi}, false, true, "#555555"}};
  io::PlotSpec res;
  res.title = "popfit " + model + " on " + data + ": CWRES vs time";
  res.x_label = "Time";
  res.y_label = "CWRES";
  res.series = {cwres,
                {"0", {0, t_max}, {0, 0}, false, false, "#555555"},
                {"+2", {0, t_max}, {2, 2}, false, true, "#999999"},
                {"-2", {0, t_max}, {-2, -2}, false, true, "#999999"}};
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(prefix + "_dv.svg", io::RenderSvgLinePlot(dv)));
  return io::WriteFileAtomically(prefix + "_cwres.svg", io::RenderSvgLinePlot(res));
}

}  // namespace

Status RunPopfit(const PopfitArgs& args) {
  using nlohmann::json;
  MEDTWIN_TRY(const sim::Model* model, models::FindModel(args.model));
  estimate::PopFitOptions options;
  for (const std::string& name : args.iiv) options.iiv.push_back(ToUpperAscii(name));
  if (args.error == "additive") {
    options.error = estimate::ResidualKind::kAdditive;
  } else if (args.error == "proportional") {
    options.error = estimate::ResidualKind::kProportional;
  } else if (args.error == "combined") {
    options.error = estimate::ResidualKind::kCombined2;
  } else {
    return InvalidArgument("--error",
                           "'" + args.error + "' is not additive, proportional or combined");
  }
  if (args.omega != "diagonal" && args.omega != "full") {
    return InvalidArgument("--omega", "'" + args.omega + "' is not diagonal or full");
  }
  options.full_omega = args.omega == "full";
  options.time_varying = TimeVaryingRule(args.locf);
  options.max_iterations = args.max_iterations;
  options.output = args.output;
  MEDTWIN_TRY(options.fixed, ParseAssignments(args.fix, "--fix"));
  MEDTWIN_TRY(options.initial, ParseAssignments(args.init, "--init"));
  // --covariate PARAM~COLUMN:KIND[:REFERENCE]; the columns become the records' covariates.
  sim::ModelInfo data_info = model->Info();
  for (const std::string& spec : args.covariates) {
    const auto tilde = spec.find('~'), colon = spec.find(':');
    if (tilde == std::string::npos || colon == std::string::npos || colon < tilde) {
      return InvalidArgument("--covariate " + spec, "expected PARAM~COLUMN:KIND[:REFERENCE]");
    }
    estimate::PopFitOptions::Covariate c;
    c.parameter = ToUpperAscii(spec.substr(0, tilde));
    c.effect.covariate = ToUpperAscii(spec.substr(tilde + 1, colon - tilde - 1));
    std::string kind = spec.substr(colon + 1);
    c.effect.reference = std::nan("");
    if (const auto second = kind.find(':'); second != std::string::npos) {
      MEDTWIN_TRY(auto reference,
                  ParseAssignments({"R=" + kind.substr(second + 1)}, "--covariate " + spec));
      c.effect.reference = reference.front().second;
      kind.resize(second);
    }
    if (kind == "power") {
      c.effect.kind = estimate::CovariateKind::kPower;
    } else if (kind == "linear") {
      c.effect.kind = estimate::CovariateKind::kLinear;
    } else if (kind == "exponential") {
      c.effect.kind = estimate::CovariateKind::kExponential;
    } else {
      return InvalidArgument("--covariate " + spec,
                             "kind '" + kind + "' is not power, linear or exponential");
    }
    if (std::find(data_info.covariates.begin(), data_info.covariates.end(), c.effect.covariate) ==
        data_info.covariates.end()) {
      data_info.covariates.push_back(c.effect.covariate);
    }
    options.covariates.push_back(std::move(c));
  }
  options.covariate_columns = data_info.covariates;
  MEDTWIN_TRY(io::Dataset data,
              io::ReadNonmemCsv(args.data_path, data_info, IgnoringColumns(args.ignore_columns)));
  std::fprintf(stderr, "popfit: %zu subjects, FOCE-I on %s ...\n", data.subjects.size(),
               args.model.c_str());
  MEDTWIN_TRY(estimate::PopFitResult fit, estimate::FitPopulation(*model, data.subjects, options));

  auto number_or_null = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  json typical = json::object(), omega = json::object(), se = json::object();
  json fixed = json::array();
  for (std::size_t k = 0; k < fit.parameter_names.size(); ++k) {
    typical[fit.parameter_names[k]] = fit.typical[k];
    if (fit.fixed[k]) {
      fixed.push_back(fit.parameter_names[k]);
    } else {
      se[fit.parameter_names[k]] = number_or_null(fit.typical_se[k]);
    }
  }
  for (std::size_t k = 0; k < fit.iiv_names.size(); ++k) {
    omega[fit.iiv_names[k]] = fit.omega[k];
    se["omega_" + fit.iiv_names[k]] = number_or_null(fit.omega_se[k]);
  }
  json covariate_effects = json::array();
  for (std::size_t c = 0; c < fit.covariate_effects.size(); ++c) {
    const auto& e = fit.covariate_effects[c];
    static const char* kKinds[] = {"power", "exponential", "linear", "categorical"};
    covariate_effects.push_back({{"parameter", e.parameter},
                                 {"covariate", e.effect.covariate},
                                 {"kind", kKinds[static_cast<int>(e.effect.kind)]},
                                 {"reference", e.effect.reference},
                                 {"coefficient", e.effect.coefficient},
                                 {"se", number_or_null(fit.covariate_se[c])}});
  }
  json omega_matrix = json::array();
  for (Eigen::Index r = 0; r < fit.omega_matrix.rows(); ++r) {
    json row = json::array();
    for (Eigen::Index c = 0; c < fit.omega_matrix.cols(); ++c)
      row.push_back(fit.omega_matrix(r, c));
    omega_matrix.push_back(row);
  }
  // The covariance step's results on the natural scale; SEs missing (null) say why.
  json rse = json::object();
  for (std::size_t k = 0; k < fit.estimate_names.size(); ++k) {
    rse[fit.estimate_names[k]] =
        number_or_null(100 * fit.estimate_se[k] / std::abs(fit.estimates[k]));
  }
  auto matrix_json = [&](const Eigen::MatrixXd& m) {
    json rows = json::array();
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      json row = json::array();
      for (Eigen::Index c = 0; c < m.cols(); ++c) row.push_back(number_or_null(m(r, c)));
      rows.push_back(row);
    }
    return rows;
  };
  json covariance = {{"ok", fit.covariance_ok},
                     {"names", fit.estimate_names},
                     {"matrix", matrix_json(fit.covariance)},
                     {"correlation", matrix_json(fit.correlation)},
                     {"condition_number", number_or_null(fit.condition_number)}};
  if (!fit.covariance_ok) covariance["reason"] = fit.covariance_reason;
  json convergence = {{"converged", fit.converged},
                      {"reason", fit.convergence_reason},
                      {"max_gradient", fit.max_gradient},
                      {"expected_ofv_decrease", number_or_null(fit.expected_decrease)}};
  json sigma = {{"additive_sd", fit.sigma_additive}, {"proportional", fit.sigma_proportional}};
  json subjects = json::array();
  for (std::size_t i = 0; i < fit.subject_ids.size(); ++i) {
    json eta = json::object();
    for (std::size_t k = 0; k < fit.iiv_names.size(); ++k) {
      eta[fit.iiv_names[k]] = fit.etas[i](static_cast<Eigen::Index>(k));
    }
    subjects.push_back({{"id", fit.subject_ids[i]}, {"eta", eta}});
  }
  const std::string model_out = BesideOutput(args.out_path, args.model_out_path, "_model.json");
  const std::string table = BesideOutput(args.out_path, args.table_path, "_table.csv");
  json out = {{"model", args.model},
              {"method", "FOCE-I"},
              {"typical", typical},
              {"fixed", fixed},
              {"from_data", fit.from_data},
              {"covariate_effects", covariate_effects},
              {"omega", omega},
              {"omega_matrix", omega_matrix},
              {"sigma", sigma},
              {"se", se},
              {"rse_percent", rse},
              {"covariance", covariance},
              {"ofv", fit.ofv},
              {"minus_2ll", fit.minus_2ll},
              {"ofv_note",
               "ofv as NONMEM and nlmixr2 report it: -2 log-likelihood without n*ln(2*pi); "
               "minus_2ll includes it (-2 x R's logLik)"},
              {"observations", fit.observations},
              {"iterations", fit.iterations},
              {"converged", fit.converged},
              {"convergence", convergence},
              {"subjects", subjects},
              {"population_model_file", model_out},
              {"table_csv", table},
              {"eta_shrinkage",
               [&] {
                 json s = json::object();
                 for (std::size_t k = 0; k < fit.iiv_names.size(); ++k) {
                   s[fit.iiv_names[k]] = number_or_null(fit.eta_shrinkage[k]);
                 }
                 return s;
               }()},
              {"epsilon_shrinkage", number_or_null(fit.epsilon_shrinkage)}};
  out["warnings"] = fit.warnings;
  for (const std::string& w : fit.warnings) std::fprintf(stderr, "popfit: %s\n", w.c_str());
  if (!fit.covariance_ok) {
    out["se_note"] = "standard errors are missing: " + fit.covariance_reason;
    std::fprintf(stderr, "popfit: %s\n", fit.covariance_reason.c_str());
  }
  if (!fit.converged) {
    std::fprintf(stderr, "popfit: warning: not converged: %s\n", fit.convergence_reason.c_str());
  }
  // NPDE: the fitted model simulated `npde_samples` times per subject, where it can be (the
  // observed output is the model's first and the records' covariates are the model file's).
  std::vector<std::vector<double>> npde;
  const std::string model_json = estimate::PopulationModelJson(
      fit, "popfit_" + args.model, args.model, "medtwin popfit on " + args.data_path);
  if (args.npde_samples > 0) {
    auto fitted = estimate::ParsePopulationModel(model_json, model_out);
    const bool first_output =
        args.output.empty() || args.output == model->Info().outputs.front().name;
    if (fitted.ok() && first_output && fitted->DataColumns() == data_info.covariates) {
      auto estimator = estimate::MapEstimator::Create(*fitted, SimOptionsFor(args.locf));
      if (estimator.ok()) {
        MEDTWIN_TRY(npde, estimate::ComputeNpde(*estimator, data.subjects, args.npde_samples, 1),
                    "NPDE");
      }
    } else {
      out["npde_note"] =
          "NPDE not computed: it simulates the model's first output with the model file's "
          "covariates";
    }
  }
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(table, DiagnosticsCsv(fit, npde)));
  if (!args.plots_prefix.empty()) {
    MEDTWIN_RETURN_IF_ERROR(WriteGofPlots(fit, args.model,
                                          std::filesystem::path(args.data_path).filename().string(),
                                          args.plots_prefix));
  }
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(model_out, model_json));
  return io::WriteFileAtomically(args.out_path, out.dump(2) + "\n");
}

void AddPopfitCommand(CLI::App& app) {
  auto args = std::make_shared<PopfitArgs>();
  auto* popfit = app.add_subcommand(
      "popfit",
      "Population estimation by FOCE with interaction: typical values and log-normal IIV\n"
      "(diagonal or full Ω) of the --iiv parameters, and the residual error, from a multi-subject\n"
      "record file with DV levels. Writes POP.json and a population model file for fit/dose.");
  popfit->add_option("--model", args->model, "Structural model, e.g. pk_1cmt_oral")->required();
  popfit->add_option("--data", args->data_path, "Records, CSV")->required();
  popfit->add_option("--iiv", args->iiv, "Parameters with IIV, e.g. KA,CL,V")
      ->delimiter(',')
      ->required();
  popfit->add_option("--error", args->error, "additive, proportional or combined")
      ->capture_default_str();
  popfit->add_option("--omega", args->omega, "diagonal or full (correlated IIV)")
      ->capture_default_str();
  AddIgnoreColumnOption(popfit, &args->ignore_columns);
  AddLocfOption(popfit, &args->locf);
  popfit->add_option("--fix", args->fix,
                     "Hold a typical value, NAME=VALUE (repeatable); every other structural "
                     "parameter is estimated");
  popfit->add_option("--init", args->init,
                     "Start a typical value's estimation at NAME=VALUE (repeatable; default: "
                     "the model's default); also OMEGA_NAME=variance (default 0.1), "
                     "SIGMA_ADDITIVE=SD, SIGMA_PROPORTIONAL=fraction");
  popfit->add_option("--covariate", args->covariates,
                     "A covariate effect estimated with the rest, PARAM~COLUMN:KIND[:REFERENCE] "
                     "(repeatable): KIND power ((x/ref)^theta), linear (1+theta(x-ref)) or "
                     "exponential (exp(theta(x-ref))); the subject's baseline value; reference "
                     "default the median, e.g. CL~WT:power:70");
  popfit
      ->add_option("--npde-samples", args->npde_samples,
                   "Simulations per subject for the NPDE column of the table (0: none)")
      ->capture_default_str();
  popfit->add_option("--output", args->output,
                     "The model output DV observes (default: the first, e.g. LNANC of "
                     "friberg_anc_cp for log ANC)");
  popfit
      ->add_option("--max-iterations", args->max_iterations,
                   "Outer iterations before the search gives up (it then reports "
                   "\"converged\": false with the reason); 0 evaluates the OFV at the "
                   "initial estimates (NONMEM's MAXEVAL=0)")
      ->capture_default_str();
  popfit->add_option("--out", args->out_path, "POP.json")->required();
  popfit->add_option("--model-out", args->model_out_path,
                     "Population model file (default: OUT with _model.json)");
  popfit->add_option("--table", args->table_path,
                     "Per-observation diagnostics CSV: ID, TIME, DV, PRED, IPRED, RES, WRES, "
                     "IWRES, CWRES, ETA_* (default: OUT with _table.csv)");
  popfit->add_option("--plots", args->plots_prefix,
                     "Goodness-of-fit SVGs: PREFIX_dv.svg (DV vs PRED and IPRED) and "
                     "PREFIX_cwres.svg (CWRES vs time)");

  OnChosen(popfit, [args] { return Report("popfit", RunPopfit(*args)); });
}

}  // namespace medtwin::cli
