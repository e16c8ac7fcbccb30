#include "medtwin/cli/popfit_command.h"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>

#include "medtwin/cli/command.h"
#include "medtwin/core/format.h"
#include "medtwin/estimate/population_fit.h"
#include "medtwin/io/nonmem_csv.h"
#include "medtwin/models/registry.h"

namespace medtwin::cli {

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
  MEDTWIN_TRY(options.fixed, ParseAssignments(args.fix, "--fix"));
  MEDTWIN_TRY(options.initial, ParseAssignments(args.init, "--init"));
  MEDTWIN_TRY(io::Dataset data, io::ReadNonmemCsv(args.data_path, model->Info(),
                                                  IgnoringColumns(args.ignore_columns)));
  std::fprintf(stderr, "popfit: %zu subjects, FOCE-I on %s ...\n", data.subjects.size(),
               args.model.c_str());
  MEDTWIN_TRY(estimate::PopFitResult fit, estimate::FitPopulation(*model, data.subjects, options));

  json typical = json::object(), omega = json::object(), se = json::object();
  json fixed = json::array();
  for (std::size_t k = 0; k < fit.parameter_names.size(); ++k) {
    typical[fit.parameter_names[k]] = fit.typical[k];
    if (fit.fixed[k]) {
      fixed.push_back(fit.parameter_names[k]);
    } else {
      se[fit.parameter_names[k]] = fit.typical_se[k];
    }
  }
  for (std::size_t k = 0; k < fit.iiv_names.size(); ++k) {
    omega[fit.iiv_names[k]] = fit.omega[k];
    se["omega_" + fit.iiv_names[k]] = fit.omega_se[k];
  }
  json omega_matrix = json::array();
  for (Eigen::Index r = 0; r < fit.omega_matrix.rows(); ++r) {
    json row = json::array();
    for (Eigen::Index c = 0; c < fit.omega_matrix.cols(); ++c)
      row.push_back(fit.omega_matrix(r, c));
    omega_matrix.push_back(row);
  }
  json sigma = {{"additive_sd", fit.sigma_additive}, {"proportional", fit.sigma_proportional}};
  json subjects = json::array();
  for (std::size_t i = 0; i < fit.subject_ids.size(); ++i) {
    json eta = json::object();
    for (std::size_t k = 0; k < fit.iiv_names.size(); ++k) {
      eta[fit.iiv_names[k]] = fit.etas[i](static_cast<Eigen::Index>(k));
    }
    subjects.push_back({{"id", fit.subject_ids[i]}, {"eta", eta}});
  }
  std::string model_out = args.model_out_path;
  if (model_out.empty()) {
    model_out = args.out_path;
    if (model_out.ends_with(".json")) model_out.resize(model_out.size() - 5);
    model_out += "_model.json";
  }
  json out = {{"model", args.model},
              {"method", "FOCE-I"},
              {"typical", typical},
              {"fixed", fixed},
              {"omega", omega},
              {"omega_matrix", omega_matrix},
              {"sigma", sigma},
              {"se", se},
              {"ofv", fit.ofv},
              {"minus_2ll", fit.minus_2ll},
              {"ofv_note",
               "ofv as NONMEM and nlmixr2 report it: -2 log-likelihood without n*ln(2*pi); "
               "minus_2ll includes it (-2 x R's logLik)"},
              {"observations", fit.observations},
              {"iterations", fit.iterations},
              {"converged", fit.converged},
              {"subjects", subjects},
              {"population_model_file", model_out}};
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(
      model_out, estimate::PopulationModelJson(fit, "popfit_" + args.model, args.model,
                                               "medtwin popfit on " + args.data_path)));
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
  popfit->add_option("--fix", args->fix,
                     "Hold a typical value, NAME=VALUE (repeatable); every other structural "
                     "parameter is estimated");
  popfit->add_option("--init", args->init,
                     "Start a typical value's estimation at NAME=VALUE (repeatable; default: "
                     "the model's default)");
  popfit->add_option("--out", args->out_path, "POP.json")->required();
  popfit->add_option("--model-out", args->model_out_path,
                     "Population model file (default: OUT with _model.json)");

  OnChosen(popfit, [args] { return Report("popfit", RunPopfit(*args)); });
}

}  // namespace medtwin::cli
