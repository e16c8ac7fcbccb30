#include "medtwin/cli/simulate_command.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

#include "medtwin/cli/command.h"
#include "medtwin/core/format.h"
#include "medtwin/estimate/population_model.h"
#include "medtwin/io/nonmem_csv.h"
#include "medtwin/io/svg_plot.h"
#include "medtwin/models/glucose.h"
#include "medtwin/models/registry.h"
#include "medtwin/sim/simulator.h"

namespace medtwin::cli {
namespace {

Result<std::vector<double>> BaseParameters(const sim::Model& model,
                                           const sim::ParameterLayout& layout,
                                           const std::string& patient,
                                           const std::vector<std::string>& assignments) {
  std::vector<double> p = layout.Defaults();
  if (!patient.empty()) {
    if (model.Info().name != "uva_padova") {
      return InvalidArgument(
          "--patient", "virtual patients belong to model uva_padova, not " + model.Info().name);
    }
    MEDTWIN_TRY(const models::VirtualPatient* vp, models::FindVirtualPatient(patient));
    std::copy(vp->params.begin(), vp->params.end(), p.begin());
  }
  for (const std::string& a : assignments) {
    const auto eq = a.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument("--param", "'" + a + "' is not NAME=VALUE");
    }
    const std::string name = ToUpperAscii(a.substr(0, eq));
    const int index = layout.Find(name);
    if (index < 0) return NotFound("--param", "model has no parameter '" + name + "'");
    double v = 0;
    const std::string text = a.substr(eq + 1);
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      return InvalidArgument("--param " + name, "'" + text + "' is not a number");
    }
    MEDTWIN_RETURN_IF_ERROR(layout.Validate(index, v), "--param");
    p[static_cast<std::size_t>(index)] = v;
  }
  return p;
}

}  // namespace

Status RunSimulate(const SimulateArgs& args) {
  MEDTWIN_TRY(const sim::Model* model, models::FindModel(args.model));
  MEDTWIN_TRY(sim::Method method, sim::ParseMethod(args.method));
  sim::SimOptions options;
  options.method = method;
  options.tolerances.rtol = args.rtol;
  options.tolerances.atol = args.atol;
  options.time_varying = TimeVaryingRule(args.locf);
  MEDTWIN_TRY(sim::Simulator simulator, sim::Simulator::Create(*model, options));
  MEDTWIN_TRY(std::vector<double> base,
              BaseParameters(*model, simulator.layout(), args.patient, args.params));

  MEDTWIN_TRY(io::Dataset data, io::ReadNonmemCsv(args.data_path, model->Info(),
                                                  IgnoringColumns(args.ignore_columns)));

  std::vector<sim::SubjectResult> results;
  results.reserve(data.subjects.size());
  for (const auto& subject : data.subjects) {
    auto r = simulator.Run(subject, base);
    if (!r.ok()) return r.error().WithContext(args.data_path + ": ID " + subject.id);
    results.push_back(std::move(r).value());
  }
  // Plot first, so a failure to write it also leaves no OUT.csv behind.
  if (!args.plot_path.empty()) {
    io::PlotSpec plot;
    const auto& info = model->Info();
    plot.title = info.name + ": " + info.outputs[0].name + " over time";
    plot.x_label = "Time (" + info.time_unit + ")";
    plot.y_label = info.outputs[0].name + " (" + info.outputs[0].unit + ")";
    for (std::size_t s = 0; s < data.subjects.size(); ++s) {
      io::PlotSeries series;
      series.label = "ID " + data.subjects[s].id;
      series.x = results[s].times;
      for (std::size_t r = 0; r < results[s].times.size(); ++r) {
        series.y.push_back(results[s].Output(r, 0));
      }
      plot.series.push_back(std::move(series));
    }
    MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(args.plot_path, io::RenderSvgLinePlot(plot)));
  }
  return io::WriteResultsCsv(args.out_path, model->Info(), data, results);
}

std::string DescribeModels() {
  std::string out;
  char buf[256];
  for (const sim::Model* m : models::AllModels()) {
    const auto& info = m->Info();
    out += info.name + "  —  " + info.description + "\n";
    out += "  time unit: " + info.time_unit + "; compartments:";
    for (std::size_t i = 0; i < info.states.size(); ++i) {
      out += " " + std::to_string(i + 1) + "=" + info.states[i].name;
    }
    out += "; default dose CMT " + std::to_string(info.default_dose_cmt) + "\n";
    for (const auto& p : info.parameters) {
      std::snprintf(buf, sizeof buf, "    %-6s %-6s default %-8g range [%g, %g]  %s\n",
                    p.name.c_str(), p.unit.c_str(), p.default_value, p.lower, p.upper,
                    p.description.c_str());
      out += buf;
    }
    out += "    outputs:";
    for (const auto& o : info.outputs) out += " " + o.name + " (" + o.unit + ")";
    out += "\n    dose modifiers per compartment n: Fn (fraction), ALAGn (" + info.time_unit +
           "), Rn (dose unit/" + info.time_unit + "), Dn (" + info.time_unit + ")\n";
    if (info.name == "uva_padova") {
      out += "    virtual patients (--patient):";
      auto all = models::VirtualPatients();
      if (all.ok()) {
        for (const auto& vp : **all) out += " " + vp.name;
      } else {
        out += " (cannot load: " + all.error().ToString() + ")";
      }
      out += "\n";
    }
    out += "\n";
  }
  out += "Population models (for medtwin fit and dose; data/models/NAME.json):\n";
  for (const std::string& name : estimate::BuiltInPopulationModels()) {
    auto m = estimate::FindPopulationModel(name);
    if (!m.ok()) {
      out += "  " + name + "  (cannot load: " + m.error().ToString() + ")\n";
      continue;
    }
    out += "  " + m->name + "  —  " + m->description + "; structural model " + m->structural_model +
           "\n    source: " + m->source + "\n    covariates:";
    for (const auto& c : m->covariates) out += " " + c;
    out += "; IIV on:";
    for (const auto& e : m->eta_names) out += " " + e;
    if (m->dosing) {
      out += "\n    dose: " + m->dosing->route + ", targets:";
      for (const auto& t : m->dosing->targets) out += " " + t;
    }
    out += "\n";
  }
  return out;
}

void AddSimulateCommand(CLI::App& app) {
  auto args = std::make_shared<SimulateArgs>();
  auto* simulate = app.add_subcommand(
      "simulate",
      "Run a model through a NONMEM-style record file (ID, TIME, EVID, AMT, CMT, RATE, II, ADDL,\n"
      "SS, DV and parameter columns) and write one output row per record: ID, TIME, EVID and\n"
      "every model output (CP in mg/L, amounts A1..An in mg). Time is in hours for PK models.\n"
      "uva_padova (type-1 diabetes, time in min): meals are infusions into CMT 1 (AMT g, RATE\n"
      "g/min, e.g. 5), insulin into CMT 11 (AMT U, RATE U/min); outputs BG and Gsub (mg/dL);\n"
      "--patient adult#001 picks one of the 30 virtual patients.\n"
      "Bad input exits with code 2 and one line naming file, line, column and reason.");
  simulate->add_option("--model", args->model, "Model name (see `medtwin models`)")->required();
  simulate->add_option("--data", args->data_path, "Input records, CSV")->required();
  simulate->add_option("--out", args->out_path, "Output CSV (written atomically)")->required();
  simulate->add_option("--plot", args->plot_path, "Also write an SVG plot of CP over time per ID");
  simulate->add_option("--patient", args->patient,
                       "Virtual patient for uva_padova: adolescent#001..010, adult#001..010,\n"
                       "child#001..010 (parameters from data/uva_padova)");
  simulate->add_option("--param", args->params,
                       "Parameter value NAME=VALUE before the first record (repeatable), e.g. "
                       "--param CL=4.2 --param F1=0.8");
  AddIgnoreColumnOption(simulate, &args->ignore_columns);
  AddLocfOption(simulate, &args->locf);
  simulate
      ->add_option("--method", args->method,
                   "auto (closed form for linear models, else dopri5), closed, dopri5, cvode")
      ->capture_default_str();
  simulate->add_option("--rtol", args->rtol, "Relative tolerance of ODE methods")
      ->capture_default_str();
  simulate->add_option("--atol", args->atol, "Absolute tolerance of ODE methods (mg)")
      ->capture_default_str();

  OnChosen(simulate, [args] { return Report("simulate", RunSimulate(*args)); });
}

void AddModelsCommand(CLI::App& app) {
  auto* models = app.add_subcommand("models", "List the built-in models with parameters and units");

  OnChosen(models, [] {
    std::cout << DescribeModels();
    return 0;
  });
}

}  // namespace medtwin::cli
